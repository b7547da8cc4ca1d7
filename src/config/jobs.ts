// The job table: the operator's extra jobs from every format (job files,
// AUTODEPLOY_EXTRA_SCHEDULER_JOBS, AUTODEPLOY_JOB_* variables), validated
// together. Every problem of every job is collected, and each job is accepted
// or refused on its own: a refused job never stops another.

import type { Job, Schedule, Trigger } from '../core/job.js';
import { parseSchedule } from '../core/schedule.js';
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from '../core/duration.js';

/** A run stopped sooner than this would be stopped before its container has started. */
const MIN_TIMEOUT_MS = 1000;
import { place, type ConfigIssue } from '../core/issues.js';
import type { JobDraft, SettingEntry } from './job-draft.js';
import { buildStep, JobChecker, TriggerFields } from './job-steps.js';
import { readNativeJobs } from './native-jobs.js';
import { knownSettings } from './names.js';
import { readJobFile, readYamlJobs, YAML_JOBS_VARIABLE } from './yaml-jobs.js';

export interface JobsInput {
  /** the configuration's variables by canonical name (`BIRDHOUSE_` aliases resolved) */
  readonly entries: ReadonlyMap<string, SettingEntry>;
  /** the resolved environment, for `-e NAME` without a value */
  readonly env: Readonly<Record<string, string>>;
  readonly timezone: string | undefined;
  readonly defaultTimeoutMs: number | undefined;
  /** names no extra job may take: the built-in jobs present, and the scheduler's own log */
  readonly reserved?: ReadonlySet<string>;
  /** the job files of AUTODEPLOY_JOBS_DIR, in the order they are read */
  readonly jobFiles?: readonly JobFileText[] | undefined;
  /** every setting's name (knownSettings); undefined: the scheduler's own */
  readonly settingNames?: readonly string[] | undefined;
}

export interface JobFileText {
  readonly path: string;
  readonly text: string;
}

export interface JobsResult {
  readonly jobs: readonly Job[];
  /** problems of single jobs: each issue names its job (`job`), which alone is refused */
  readonly issues: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
  /** job lists that could not be read at all (a file that is not YAML): their jobs are unknown */
  readonly unreadable: readonly ConfigIssue[];
}

/** Every job definition of every format, before validation, and the lists that could not be read. */
export interface ListedJobs {
  readonly drafts: readonly JobDraft[];
  readonly issues: readonly ConfigIssue[];
  readonly unreadable: readonly ConfigIssue[];
}

const JOB_NAME = /^[a-z0-9][a-z0-9_.-]*$/;
const MAX_JOB_NAME = 64;
/** The built-in jobs and the scheduler's own log (`<name>.log`, containers named after the job). */
export const RESERVED_JOB_NAMES: readonly string[] = ['autodeploy', 'notebookdeploy', 'scheduler'];

function buildJob(draft: JobDraft, input: JobsInput, reserved: ReadonlySet<string>): { job: Job | undefined; issues: ConfigIssue[]; warnings: ConfigIssue[] } {
  const name = draft.name.toLowerCase();
  const c = new JobChecker(draft, name);
  if (!JOB_NAME.test(name)) {
    c.problem(
      draft.source,
      draft.nameKey,
      'the name cannot be used for containers: use letters, digits, "_", "-" and ".", starting with a letter or digit',
    );
  } else if (name.length > MAX_JOB_NAME) {
    // The name is the container's, and its log's file and folder names, with a rotation suffix.
    c.problem(draft.source, draft.nameKey, `the name is ${name.length} characters long; use at most ${MAX_JOB_NAME}`);
  }

  if (reserved.has(name)) {
    c.problem(draft.source, draft.nameKey, `the name "${name}" belongs to the scheduler itself; choose another name`);
  }

  // schedule: present but empty disables the job
  let schedule: Schedule | null = null;
  const scheduleField = c.field('schedule');
  if (scheduleField === undefined) {
    c.problem(draft.source, draft.keyFor.schedule, `${draft.keyFor.schedule} is required (leave it empty to disable the job)`);
  } else {
    const parsed = parseSchedule(c.text('schedule') ?? '', input.timezone);
    if (parsed.ok) schedule = parsed.schedule;
    else c.problem(scheduleField.where, scheduleField.key, parsed.message);
  }

  // The native format names no container: its jobs always run an image.
  const step = buildStep(c, c, draft, input, { name, label: '', where: draft.source, imageRequired: draft.format === 'native' });

  const enabled = c.flag('enabled', true);
  const onstart = c.flag('onstart', false);

  let timeoutMs = input.defaultTimeoutMs;
  const timeoutField = c.field('timeout');
  if (timeoutField !== undefined && timeoutField.value !== null && String(timeoutField.value).trim() !== '') {
    const v = timeoutField.value;
    const ms = typeof v === 'number' ? v * 1000 : parseDuration(String(v), { plainSeconds: true });
    if (ms === undefined || !(ms > 0) || !Number.isFinite(ms)) {
      c.problem(timeoutField.where, timeoutField.key, `${timeoutField.key} must be a duration like 90s, 30m, 2h or a number of seconds, not "${String(v)}"`);
    } else if (ms < MIN_TIMEOUT_MS || ms > MAX_DURATION_MS) {
      c.problem(timeoutField.where, timeoutField.key, `${timeoutField.key} must be between 1s and ${MAX_DURATION_TEXT}, not "${String(v)}"`);
    } else timeoutMs = ms;
  }

  const triggers: Trigger[] = [];
  (draft.triggers ?? []).forEach((t, index) => {
    const built = buildStep(c, new TriggerFields(t), draft, input, {
      name: `${name}-trigger-${index + 1}`,
      label: `trigger #${index + 1}: `,
      where: t.source,
      imageRequired: false,
    });
    if (built !== undefined) triggers.push({ step: built, source: t.source });
  });

  // A job file was put in place by a platform component of the operator's own checkout, as
  // birdhouse's jobs that drive Docker are; a job written in env.local says it needs the host.
  const hostAccessAllowed = c.flag('hostAccess', false) || draft.format === 'file';
  if (c.hostAccess.length > 0 && !hostAccessAllowed) {
    const flag = draft.format === 'native' ? `${draft.keyFor.hostAccess}=true` : 'host-access: true';
    for (const need of c.hostAccess) c.problem(c.field('dockerargs')?.where ?? draft.source, draft.keyFor.hostAccess, `${need}, which gives it the host; if the job needs that, add ${flag} to it`);
  }

  if (c.issues.length > 0 || step === undefined) return { job: undefined, issues: c.issues, warnings: c.warnings };
  const common = {
    name,
    comment: c.text('comment') ?? '',
    schedule,
    enabled: enabled && schedule !== null,
    timeoutMs,
    source: draft.source,
    triggers,
    onstart,
    ...(c.hostAccess.length === 0 ? {} : { hostAccess: [...c.hostAccess] }),
  };
  const job: Job =
    step.kind === 'container'
      ? { kind: 'container', ...common, container: step.container }
      : step.kind === 'exec'
        ? { kind: 'exec', ...common, exec: step.exec }
        : { kind: 'local', ...common, command: step.command };
  return { job, issues: c.issues, warnings: c.warnings };
}

/** Every job definition: job files first (in file order), then AUTODEPLOY_EXTRA_SCHEDULER_JOBS, then AUTODEPLOY_JOB_*. */
export function listJobs(input: Pick<JobsInput, 'entries' | 'jobFiles' | 'settingNames'>): ListedJobs {
  const drafts: JobDraft[] = [];
  const issues: ConfigIssue[] = [];
  const unreadable: ConfigIssue[] = [];
  const add = (result: { drafts: readonly JobDraft[]; issues: readonly ConfigIssue[]; unreadable?: readonly ConfigIssue[] }): void => {
    drafts.push(...result.drafts);
    issues.push(...result.issues);
    unreadable.push(...(result.unreadable ?? []));
  };
  for (const file of input.jobFiles ?? []) add(readJobFile(file));
  const yamlEntry = input.entries.get(YAML_JOBS_VARIABLE);
  if (yamlEntry !== undefined) add(readYamlJobs(yamlEntry));
  add(readNativeJobs(input.entries, input.settingNames ?? knownSettings([])));
  return { drafts, issues, unreadable };
}

/**
 * Builds the extra jobs of every format from what `listJobs` found, less the drafts a built-in
 * job took over (`claimed`, by name). `reserved`: names no extra job may take.
 */
export function buildJobs(
  input: JobsInput,
  listed: ListedJobs = listJobs(input),
  options: { readonly claimed?: ReadonlySet<string> } = {},
): JobsResult {
  const issues: ConfigIssue[] = [...listed.issues];
  const warnings: ConfigIssue[] = [];
  const reserved = input.reserved ?? new Set(RESERVED_JOB_NAMES);

  // A job the listing already found a problem in (an unknown key, a bad trigger) is refused
  // after its own checks, so that all of its problems are said at once.
  const listedProblems = new Set(listed.issues.map((issue) => issue.job));
  const jobs: Job[] = [];
  const byName = new Map<string, JobDraft>();
  const byContainer = new Map<string, Job>();
  for (const draft of listed.drafts) {
    const name = draft.name.toLowerCase();
    if (options.claimed?.has(name) === true) continue;
    const earlier = byName.get(name);
    if (earlier !== undefined) {
      // The first definition keeps running; the second is refused, naming both places.
      issues.push({
        ...draft.source,
        job: name,
        key: draft.nameKey,
        message: `job "${name}" is defined twice, at ${place(earlier.source)} and at ${place(draft.source)}; rename or remove one`,
      });
      continue;
    }
    byName.set(name, draft);
    const built = buildJob(draft, input, reserved);
    issues.push(...built.issues);
    warnings.push(...built.warnings);
    if (built.job === undefined || listedProblems.has(name)) continue;
    if (built.job.kind === 'container') {
      const containerName = built.job.container.containerName;
      const clash = byContainer.get(containerName);
      if (clash !== undefined) {
        issues.push({
          ...draft.source,
          job: name,
          key: draft.keyFor.dockerargs,
          message:
            `jobs "${clash.name}" (${place(clash.source)}) and "${name}" use the same container name ` +
            `"${containerName}", so they could never run at the same time; give one another --name`,
        });
        continue;
      }
      byContainer.set(containerName, built.job);
    }
    jobs.push(built.job);
  }
  return { jobs, issues, warnings, unreadable: listed.unreadable };
}
