// Jobs written as AUTODEPLOY_JOB_<NAME>_<KEY> variables, one variable per field.

import type { ConfigIssue } from '../core/issues.js';
import type { DraftField, DraftFieldName, JobDraft, SettingEntry } from './job-draft.js';
import { isKnownSetting, JOB_PREFIX } from './names.js';

export const NATIVE_JOB_KEYS = [
  'SCHEDULE',
  'IMAGE',
  'COMMAND',
  'VOLUMES',
  'ENV',
  'USER',
  'TIMEOUT',
  'ENABLED',
  'COMMENT',
  'WORKDIR',
  'ENTRYPOINT',
  'NETWORK',
  'DOCKERARGS',
  'HOST_ACCESS',
] as const;

export type NativeJobKey = (typeof NATIVE_JOB_KEYS)[number];

const FIELD_OF: Readonly<Record<NativeJobKey, DraftFieldName>> = {
  SCHEDULE: 'schedule',
  IMAGE: 'image',
  COMMAND: 'command',
  VOLUMES: 'volumes',
  ENV: 'env',
  USER: 'user',
  TIMEOUT: 'timeout',
  ENABLED: 'enabled',
  COMMENT: 'comment',
  WORKDIR: 'workdir',
  ENTRYPOINT: 'entrypoint',
  NETWORK: 'network',
  DOCKERARGS: 'dockerargs',
  HOST_ACCESS: 'hostAccess',
};

// Longest first, so that a key that ends another key would still be matched whole.
const KEYS_LONGEST_FIRST = [...NATIVE_JOB_KEYS].sort((a, b) => b.length - a.length);

/** `AUTODEPLOY_JOB_DB_BACKUP_IMAGE` → `{ name: 'DB_BACKUP', key: 'IMAGE' }`. */
export function splitJobVariable(variable: string): { name: string; key: NativeJobKey } | undefined {
  const rest = variable.slice(JOB_PREFIX.length);
  for (const key of KEYS_LONGEST_FIRST) {
    if (rest.endsWith(`_${key}`) && rest.length > key.length + 1) {
      return { name: rest.slice(0, rest.length - key.length - 1), key };
    }
  }
  return undefined;
}

export interface NativeJobsResult {
  readonly drafts: readonly JobDraft[];
  readonly issues: readonly ConfigIssue[];
}

/**
 * Groups the AUTODEPLOY_JOB_* variables (canonical names) into one draft per job, in the order
 * they were first set; a known setting of that prefix (`known`, e.g. AUTODEPLOY_JOB_TIMEOUT) is no job's.
 */
export function readNativeJobs(entries: ReadonlyMap<string, SettingEntry>, known: readonly string[]): NativeJobsResult {
  const issues: ConfigIssue[] = [];
  const groups = new Map<string, { name: string; vars: { variable: string; key: NativeJobKey; entry: SettingEntry }[] }>();
  for (const [variable, entry] of entries) {
    if (!variable.startsWith(JOB_PREFIX) || isKnownSetting(variable, known)) continue;
    const split = splitJobVariable(variable);
    if (split === undefined) {
      issues.push({
        ...entry.source,
        key: variable,
        message:
          `${variable} does not end in a job key; job variables are ${JOB_PREFIX}<NAME>_<KEY> ` +
          `with KEY one of ${NATIVE_JOB_KEYS.join(', ')}`,
      });
      continue;
    }
    const id = split.name.toLowerCase();
    const group = groups.get(id) ?? { name: split.name, vars: [] };
    group.vars.push({ variable, key: split.key, entry });
    groups.set(id, group);
  }

  const ordered = [...groups.values()];
  for (const group of ordered) group.vars.sort((a, b) => a.entry.order - b.entry.order);
  ordered.sort((a, b) => (a.vars[0]?.entry.order ?? 0) - (b.vars[0]?.entry.order ?? 0));

  const drafts: JobDraft[] = [];
  for (const group of ordered) {
    const first = group.vars[0];
    if (first === undefined) continue;
    const fields: Partial<Record<DraftFieldName, DraftField>> = {};
    for (const v of group.vars) fields[FIELD_OF[v.key]] = { value: v.entry.value, where: v.entry.source, key: v.variable };
    const keyFor = Object.fromEntries(
      NATIVE_JOB_KEYS.map((k) => [FIELD_OF[k], `${JOB_PREFIX}${group.name}_${k}`]),
    ) as Record<DraftFieldName, string>;
    drafts.push({ format: 'native', name: group.name, source: first.entry.source, nameKey: first.variable, fields, keyFor });
  }
  return { drafts, issues };
}
