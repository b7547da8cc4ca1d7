// The scheduler's own settings: its directories, time zone, image, HTTP server and
// notifications, and what several features share (the platform, its checkouts, the deploy keys
// and known hosts). A setting of one built-in job kind alone is declared by that kind.

import { z } from 'zod';
import type { NotifyTarget } from '../core/notify-target.js';
import { parseNotifyTargets } from '../core/notify-target.js';
import { parseDuration } from '../core/duration.js';
import { absolutePath, isTimeZone, ownDirectory } from './schemas.js';
import { declareSettings } from './settings-declaration.js';

export interface Settings {
  /** COMPOSE_DIR: the platform directory */
  readonly composeDir?: string;
  /** AUTODEPLOY_LOG_DIR, else BIRDHOUSE_LOG_DIR, else PAVICS_LOG_DIR */
  readonly logDir: string;
  /** AUTODEPLOY_LOG_FORMAT */
  readonly logFormat: 'text' | 'json';
  /** AUTODEPLOY_LOG_MAX_SIZE, as pino-roll reads it: `500k`, `10m`, `1g` (a bare number is megabytes) */
  readonly logMaxSize: string;
  /** AUTODEPLOY_LOG_KEEP: rotated files kept per log */
  readonly logKeep: number;
  /** AUTODEPLOY_STATE_DIR */
  readonly stateDir: string;
  /** AUTODEPLOY_JOBS_DIR: job files in docker-crontab's format, as birdhouse 2.x mounts them */
  readonly jobsDir: string;
  /** TZ: the zone cron schedules are read in; undefined: the system's */
  readonly timezone?: string;
  /** AUTODEPLOY_JOB_TIMEOUT: default run limit of extra jobs; undefined: none */
  readonly defaultJobTimeoutMs?: number;
  /** AUTODEPLOY_IMAGE: the scheduler's image, also run by the built-in jobs */
  readonly image?: string;
  /** AUTODEPLOY_EXTRA_REPOS: more checkouts to keep deployed (and to match webhooks against) */
  readonly extraRepos: readonly string[];
  /** AUTODEPLOY_DEPLOY_KEY_ROOT_DIR */
  readonly deployKeyRootDir?: string;
  /** AUTODEPLOY_KNOWN_HOSTS: pinned known_hosts; undefined: trust on first use */
  readonly knownHosts?: string;
  /** AUTODEPLOY_HTTP_PORT: the webhooks and API; undefined: no HTTP server at all */
  readonly httpPort?: number;
  /** AUTODEPLOY_HTTP_HOST: the address the server listens on */
  readonly httpHost: string;
  /** AUTODEPLOY_WEBHOOK_SECRET: what git hosts sign pushes with; undefined: every webhook is refused */
  readonly webhookSecret?: string;
  /** AUTODEPLOY_API_TOKENS_FILE: bearer tokens of the API; undefined: the API refuses every call */
  readonly apiTokensFile?: string;
  /** AUTODEPLOY_NOTIFY_URLS: where deploy and job outcomes are sent */
  readonly notifyTargets: readonly NotifyTarget[];
}

const HTTP_PORT_ERROR = 'must be a port number from 1 to 65535, or empty for no HTTP server';

/** Where each setting is read from, its value when the configuration leaves it unset or empty, and what it must be. */
export const SETTING_VARIABLES = {
  composeDir: { name: 'COMPOSE_DIR', schema: absolutePath.optional() },
  // birdhouse-deploy 2.x writes its jobs' logs to BIRDHOUSE_LOG_DIR (its default.env), PAVICS 1.x
  // to PAVICS_LOG_DIR: https://github.com/bird-house/birdhouse-deploy/blob/master/birdhouse/default.env
  logDir: { name: 'AUTODEPLOY_LOG_DIR', alternatives: ['BIRDHOUSE_LOG_DIR', 'PAVICS_LOG_DIR'], fallback: '/var/log/PAVICS', schema: ownDirectory },
  logFormat: { name: 'AUTODEPLOY_LOG_FORMAT', fallback: 'text', schema: z.enum(['text', 'json'], { error: 'must be text or json' }) },
  logMaxSize: {
    name: 'AUTODEPLOY_LOG_MAX_SIZE',
    fallback: '10m',
    schema: z
      .string()
      .regex(/^[1-9]\d*[kmg]?$/i, { error: 'must be a size like 500k, 10m or 1g' })
      .transform((s) => s.toLowerCase()),
  },
  logKeep: {
    name: 'AUTODEPLOY_LOG_KEEP',
    fallback: '10',
    schema: z
      .string()
      .regex(/^[1-9]\d*$/, { error: 'must be a whole number of files, at least 1' })
      .transform(Number),
  },
  stateDir: { name: 'AUTODEPLOY_STATE_DIR', fallback: '/var/lib/autodeploy', schema: ownDirectory },
  jobsDir: { name: 'AUTODEPLOY_JOBS_DIR', fallback: '/scheduler-job-configs', schema: absolutePath },
  timezone: {
    name: 'TZ',
    schema: z
      .string()
      .refine(isTimeZone, { error: 'is not a time zone this system knows (use an IANA name such as UTC or Europe/Paris)' })
      .optional(),
  },
  defaultJobTimeoutMs: {
    name: 'AUTODEPLOY_JOB_TIMEOUT',
    schema: z
      .string()
      .refine((s) => (parseDuration(s, { plainSeconds: true }) ?? 0) > 0, {
        error: 'must be a duration like 90s, 30m, 2h or a number of seconds',
      })
      .transform((s) => parseDuration(s, { plainSeconds: true }) ?? 0)
      .optional(),
  },
  image: { name: 'AUTODEPLOY_IMAGE', schema: z.string().regex(/^[^\s]+$/, { error: 'must be an image reference without spaces' }).optional() },
  extraRepos: {
    name: 'AUTODEPLOY_EXTRA_REPOS',
    schema: z
      .string()
      .transform((s) => s.split(/\s+/).filter((p) => p !== ''))
      .refine((paths) => paths.every((p) => p.startsWith('/')), { error: 'must list absolute paths, separated by spaces or newlines' })
      .optional(),
  },
  deployKeyRootDir: { name: 'AUTODEPLOY_DEPLOY_KEY_ROOT_DIR', schema: absolutePath.optional() },
  knownHosts: { name: 'AUTODEPLOY_KNOWN_HOSTS', schema: absolutePath.optional() },
  httpPort: {
    name: 'AUTODEPLOY_HTTP_PORT',
    schema: z
      .string()
      .regex(/^\d+$/, { error: HTTP_PORT_ERROR })
      .transform(Number)
      .refine((n) => n >= 1 && n <= 65535, { error: HTTP_PORT_ERROR })
      .optional(),
  },
  httpHost: { name: 'AUTODEPLOY_HTTP_HOST', fallback: '0.0.0.0', schema: z.string().regex(/^[^\s/]+$/, { error: 'must be an address to listen on, such as 0.0.0.0 or 127.0.0.1' }) },
  // A problem with these never quotes the value: it is a secret.
  webhookSecret: {
    name: 'AUTODEPLOY_WEBHOOK_SECRET',
    secret: true,
    // HMAC keys shorter than this are guessable offline from one signed delivery.
    schema: z.string().min(16, { error: 'must be at least 16 characters (use e.g. openssl rand -hex 32)' }).optional(),
  },
  apiTokensFile: { name: 'AUTODEPLOY_API_TOKENS_FILE', schema: absolutePath.optional() },
  notifyUrls: {
    name: 'AUTODEPLOY_NOTIFY_URLS',
    secret: true,
    schema: z
      .string()
      .transform((text, ctx) => {
        const parsed = parseNotifyTargets(text);
        for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem, input: '' });
        return parsed.targets;
      })
      .optional(),
  },
} as const;

export const SCHEDULER_SETTINGS = declareSettings(SETTING_VARIABLES, ({ extraRepos, notifyUrls, ...values }): Settings => ({
  ...values,
  extraRepos: extraRepos ?? [],
  notifyTargets: notifyUrls ?? [],
}));
