import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { sensitiveHostPath } from '../core/host-access.js';
import { readOwnership, type Ownership, type OwnershipForms } from '../core/ownership.js';

/** Whether Intl knows the zone (an IANA name such as `Europe/Paris` or `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const absolutePath = z.string().refine((p) => p.startsWith('/'), { error: 'must be an absolute path' });
/** A directory the scheduler writes into: never one of the host's own (/, /etc, /var, /root, ...). */
export const ownDirectory = absolutePath.refine((p) => sensitiveHostPath(p) === undefined, {
  error: 'is a system directory; give the scheduler a directory of its own (e.g. /var/log/birdhouse, /var/lib/autodeploy)',
});

/** A step's deadline: every step of a deploy has one, so none may be zero (no limit). */
export const deadline = z
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
export function ownership(formError: string, forms: OwnershipForms & { readonly root?: true }) {
  return z.string().transform((text, ctx): Ownership => {
    if (forms.root === true && ROOT_OWNER.test(text)) return { uid: 0, gid: 0 };
    const read = readOwnership(text, forms);
    if (read.ok) return read.ownership;
    ctx.addIssue({ code: 'custom', message: read.kind === 'form' ? formError : read.problem, input: text });
    return z.NEVER;
  });
}

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
