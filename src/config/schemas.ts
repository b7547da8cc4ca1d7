import { z } from 'zod';
import { posix } from 'node:path';
import { parseNotebookSources } from '../core/notebook-source.js';
import { parseDuration } from '../core/duration.js';
import { sensitiveHostPath } from '../core/host-access.js';
import { splitWords } from '../core/shell-words.js';
import { readOwnership, type Ownership, type OwnershipForms } from '../core/ownership.js';
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
/** A directory the scheduler writes into: never one of the host's own (/, /etc, /var, /root, ...). */
const ownDirectory = absolutePath.refine((p) => sensitiveHostPath(p) === undefined, {
  error: 'is a system directory; give the scheduler a directory of its own (e.g. /var/log/birdhouse, /var/lib/autodeploy)',
});

// Each source line's problem becomes an issue whose path ends with the line's index in the value,
// so that buildSettings can point at the env.local line.
const notebookSources = z.string().transform((text, ctx) => {
  const parsed = parseNotebookSources(text);
  for (const problem of parsed.problems) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.offset], input: problem.text });
  }
  return parsed.sources;
});

/** A step's deadline: every step of a deploy has one, so none may be zero (no limit). */
const deadline = z
  .string()
  .refine((s) => (parseDuration(s, { plainSeconds: true }) ?? 0) > 0, {
    error: 'must be a duration like 90s, 5m or a number of seconds',
  })
  .transform((s) => parseDuration(s, { plainSeconds: true }) ?? 0);

const ROOT_OWNER = /^root(:root)?$/;

/**
 * An ownership setting, parsed once here into numbers: `formError` when it is not of an accepted
 * form, the range problem when an id is one chown cannot give.
 */
function ownership(formError: string, forms: OwnershipForms & { readonly root?: true }) {
  return z.string().transform((text, ctx): Ownership => {
    if (forms.root === true && ROOT_OWNER.test(text)) return { uid: 0, gid: 0 };
    const read = readOwnership(text, forms);
    if (read.ok) return read.ownership;
    ctx.addIssue({ code: 'custom', message: read.kind === 'form' ? formError : read.problem, input: text });
    return z.NEVER;
  });
}

/** Raw strings from the environment in, typed settings out. Empty strings were dropped before. */
export const settingsSchema = z.object({
  composeDir: absolutePath.optional(),
  logDir: ownDirectory,
  logFormat: z.enum(['text', 'json'], { error: 'must be text or json' }),
  logMaxSize: z
    .string()
    .regex(/^[1-9]\d*[kmg]?$/i, { error: 'must be a size like 500k, 10m or 1g' })
    .transform((s) => s.toLowerCase()),
  logKeep: z
    .string()
    .regex(/^[1-9]\d*$/, { error: 'must be a whole number of files, at least 1' })
    .transform(Number),
  stateDir: ownDirectory,
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
  // Split as the deploy will split it, so that a bad command is reported at its line, not at deploy time.
  compose: z
    .string()
    .superRefine((command, ctx) => {
      const split = splitWords(command);
      if (!split.ok) ctx.addIssue({ code: 'custom', message: `cannot be split into a command and its arguments (${split.problem})`, input: command });
    })
    .optional(),
  // birdhouse-deploy documents a uid, which chown reads as "owner only": so is it here.
  codeOwnership: ownership('must be a numeric uid or uid:gid (names differ between the host and the deploy container)', { uidAlone: true }).optional(),
  knownHosts: absolutePath.optional(),
  restart: z.enum(['changed', 'all'], { error: 'must be changed or all' }),
  verifyTimeoutMs: deadline,
  composeTimeoutMs: deadline,
  gitTimeoutMs: deadline,
  triggerTimeoutMs: deadline,
  notebookFetchTimeoutMs: deadline,
  notebookFrequency: z.string().optional(),
  notebookSources: notebookSources.optional(),
  notebookTargetDir: absolutePath
    .transform((p) => posix.normalize(p).replace(/(.)\/+$/, '$1'))
    // The parent is mounted into the job and holds the published versions: never / itself.
    .refine((p) => posix.dirname(p) !== '/', { error: 'must be inside a directory other than / (that directory is mounted into the job and holds the published versions)' })
    .refine((p) => !posix.basename(p).startsWith('.'), { error: 'must not name a hidden directory (a name starting with ".")' })
    .optional(),
  notebookOwner: ownership('must be numeric uid:gid (e.g. 1000:1000), or root (names differ between the host and the job container)', { root: true }),
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
  'name', 'comment', 'schedule', 'command', 'image', 'container', 'project', 'dockerargs', 'trigger', 'onstart', 'timeout', 'enabled', 'host-access',
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
  'host-access': z.union([z.boolean(), z.string()], typed('true or false')).nullish(),
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
