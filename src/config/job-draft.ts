// What the job formats (docker-crontab's job lists, in job files or in
// AUTODEPLOY_EXTRA_SCHEDULER_JOBS; native AUTODEPLOY_JOB_* variables)
// have in common before validation: the fields an operator wrote, each with the
// place it was written, so that every problem can point at its line.

import type { SourceRef } from '../core/job.js';

/** One variable of the configuration, after `BIRDHOUSE_` aliases are resolved. */
export interface SettingEntry {
  readonly value: string;
  readonly source: SourceRef;
  /** assignment order across files; -1 for the process environment */
  readonly order: number;
}

export type DraftFieldName =
  | 'comment'
  | 'schedule'
  | 'image'
  | 'command'
  | 'dockerargs'
  | 'timeout'
  | 'enabled'
  | 'volumes'
  | 'env'
  | 'user'
  | 'workdir'
  | 'entrypoint'
  | 'network'
  | 'container'
  | 'project'
  | 'onstart'
  | 'hostAccess';

export interface DraftField {
  readonly value: string | number | boolean | readonly string[] | null;
  readonly where: SourceRef;
  /** the key as the operator wrote it: `image`, or `AUTODEPLOY_JOB_BACKUP_IMAGE` */
  readonly key: string;
}

/** A sub-job of `trigger`: docker-crontab's subset of a job's keys. */
export interface TriggerDraft {
  readonly source: SourceRef;
  readonly fields: Partial<Readonly<Record<DraftFieldName, DraftField>>>;
}

export interface JobDraft {
  /** `file`: a job file; `yaml`: AUTODEPLOY_EXTRA_SCHEDULER_JOBS; `native`: AUTODEPLOY_JOB_* */
  readonly format: 'file' | 'yaml' | 'native';
  /** the name as written, or derived from the comment or command when the job has none */
  readonly name: string;
  /** the job had no `name`: `name` was derived from it */
  readonly derivedName?: boolean;
  readonly triggers?: readonly TriggerDraft[];
  readonly source: SourceRef;
  /** the key that names the job: `name`, or the job's first variable */
  readonly nameKey: string;
  readonly fields: Partial<Readonly<Record<DraftFieldName, DraftField>>>;
  /** how to name a field that is missing: `image`, or `AUTODEPLOY_JOB_BACKUP_IMAGE` */
  readonly keyFor: Readonly<Record<DraftFieldName, string>>;
}
