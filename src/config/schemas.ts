import { z } from 'zod';
import { posix } from 'node:path';
import { parseNotebookSources } from '../core/notebook-source.js';
import { parseDuration } from '../core/duration.js';
import { OWNERSHIP_PATTERN } from '../core/ownership.js';
import { parseNotifyTargets } from '../core/notify-target.js';

/** Whether Intl knows the zone (an IANA name such as `Europe/Paris` or `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const absolutePath = z.string().refine((p) => p.startsWith('/'), { error: 'must be an absolute path' });

// Each source line's problem becomes an issue whose path ends with the line's index in the value,
// so that buildSettings can point at the env.local line.
const notebookSources = z.string().transform((text, ctx) => {
  const parsed = parseNotebookSources(text);
  for (const problem of parsed.problems) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.offset], input: problem.text });
  }
  return parsed.sources;
});

const ROOT_OWNER = /^root(:root)?$/;

/** Raw strings from the environment in, typed settings out. Empty strings were dropped before. */
export const settingsSchema = z.object({
  composeDir: absolutePath.optional(),
  logDir: absolutePath,
  logFormat: z.enum(['text', 'json'], { error: 'must be text or json' }),
  logMaxSize: z
    .string()
    .regex(/^[1-9]\d*[kmg]?$/i, { error: 'must be a size like 500k, 10m or 1g' })
    .transform((s) => s.toLowerCase()),
  logKeep: z
    .string()
    .regex(/^[1-9]\d*$/, { error: 'must be a whole number of files, at least 1' })
    .transform(Number),
  stateDir: absolutePath,
  jobsDir: absolutePath,
  timezone: z
    .string()
    .refine(isTimeZone, { error: 'is not a time zone this system knows (use an IANA name such as UTC or Europe/Paris)' })
    .optional(),
  defaultJobTimeoutMs: z
    .string()
    .refine((s) => (parseDuration(s, { plainSeconds: true }) ?? 0) > 0, {
      error: 'must be a duration like 90s, 30m, 2h or a number of seconds',
    })
    .transform((s) => parseDuration(s, { plainSeconds: true }) ?? 0)
    .optional(),
  image: z.string().regex(/^[^\s]+$/, { error: 'must be an image reference without spaces' }).optional(),
  extraRepos: z
    .string()
    .transform((s) => s.split(/\s+/).filter((p) => p !== ''))
    .refine((paths) => paths.every((p) => p.startsWith('/')), { error: 'must list absolute paths, separated by spaces or newlines' })
    .optional(),
  deployKeyRootDir: absolutePath.optional(),
  platformFrequency: z.string().optional(),
  compose: z.string().optional(),
  codeOwnership: z
    .string()
    .regex(OWNERSHIP_PATTERN, { error: 'must be numeric uid:gid (names differ between the host and the deploy container)' })
    .optional(),
  knownHosts: absolutePath.optional(),
  restart: z.enum(['changed', 'all'], { error: 'must be changed or all' }),
  verifyTimeoutMs: z
    .string()
    .refine((s) => (parseDuration(s, { plainSeconds: true }) ?? 0) > 0, {
      error: 'must be a duration like 90s, 5m or a number of seconds',
    })
    .transform((s) => parseDuration(s, { plainSeconds: true }) ?? 0),
  notebookFrequency: z.string().optional(),
  notebookSources: notebookSources.optional(),
  notebookTargetDir: absolutePath
    .transform((p) => posix.normalize(p).replace(/(.)\/+$/, '$1'))
    // The parent is mounted into the job and holds the published versions: never / itself.
    .refine((p) => posix.dirname(p) !== '/', { error: 'must be inside a directory other than / (that directory is mounted into the job and holds the published versions)' })
    .refine((p) => !posix.basename(p).startsWith('.'), { error: 'must not name a hidden directory (a name starting with ".")' })
    .optional(),
  notebookOwner: z
    .string()
    .regex(/^(\d+:\d+|root(:root)?)$/, { error: 'must be numeric uid:gid (e.g. 1000:1000), or root (names differ between the host and the job container)' })
    .transform((s) => (ROOT_OWNER.test(s) ? '0:0' : s)),
  httpPort: z
    .string()
    .regex(/^\d+$/, { error: 'must be a port number from 1 to 65535, or empty for no HTTP server' })
    .transform(Number)
    .refine((n) => n >= 1 && n <= 65535, { error: 'must be a port number from 1 to 65535, or empty for no HTTP server' })
    .optional(),
  httpHost: z.string().regex(/^[^\s/]+$/, { error: 'must be an address to listen on, such as 0.0.0.0 or 127.0.0.1' }),
  // HMAC keys shorter than this are guessable offline from one signed delivery.
  webhookSecret: z.string().min(16, { error: 'must be at least 16 characters (use e.g. openssl rand -hex 32)' }).optional(),
  apiTokensFile: absolutePath.optional(),
  notifyUrls: z
    .string()
    .transform((text, ctx) => {
      const parsed = parseNotifyTargets(text);
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem, input: '' });
      return parsed.targets;
    })
    .optional(),
});

export type SettingsInput = z.input<typeof settingsSchema>;

const typed = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`),
});

/**
 * The keys of a job in docker-crontab's format (https://github.com/willfarrell/docker-crontab#config-file),
 * which birdhouse-deploy's scheduler runs, plus this scheduler's `timeout` and `enabled`.
 */
export const YAML_JOB_KEYS = [
  'name', 'comment', 'schedule', 'command', 'image', 'container', 'project', 'dockerargs', 'trigger', 'onstart', 'timeout', 'enabled',
] as const;
/** The keys of a sub-job of `trigger`: docker-crontab's subset. */
export const TRIGGER_KEYS = ['command', 'image', 'container', 'project', 'dockerargs'] as const;

// YAML reads `command: true` or `image: 5` as a boolean or a number; the operator meant the text.
const scalarText = (what: string) =>
  z.union([z.string(), z.number(), z.boolean()], typed(what)).transform((v) => String(v));

const commandValue = z.union([scalarText('a string or a list of strings'), z.array(z.string())], typed('a string or a list of strings'));

/** One job of a job list, as YAML hands it over. Required values are checked later, with the other formats'. */
export const yamlJobSchema = z.strictObject({
  name: scalarText('a string').nullish(),
  comment: scalarText('a string').nullish(),
  schedule: z.string(typed('a string (quote cron expressions and @-forms)')).nullable(),
  command: commandValue.nullish(),
  image: scalarText('a string').nullish(),
  container: scalarText('a string').nullish(),
  project: scalarText('a string').nullish(),
  dockerargs: scalarText('a string').nullish(),
  // checked item by item, each with its own line
  trigger: z.array(z.unknown(), typed('a list of sub-jobs (command:, and image:, or container: with project:)')).nullish(),
  onstart: z.union([z.boolean(), z.string()], typed('true or false')).nullish(),
  timeout: z.union([z.string(), z.number()], typed('a duration like 90s, 30m or 2h, or a number of seconds')).nullish(),
  enabled: z.union([z.boolean(), z.string()], typed('true or false')).nullish(),
});

export type YamlJob = z.output<typeof yamlJobSchema>;

/** One sub-job of `trigger`. */
export const triggerSchema = z.strictObject({
  command: commandValue.nullish(),
  image: scalarText('a string').nullish(),
  container: scalarText('a string').nullish(),
  project: scalarText('a string').nullish(),
  dockerargs: scalarText('a string').nullish(),
});
