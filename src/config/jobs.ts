// The job table: the operator's extra jobs from both formats, validated
// together. Every problem of every job is collected; a table with any error
// is not used at all.

import type { ContainerJob, ContainerSpec, Schedule, SourceRef } from '../core/job.js';
import { parseSchedule } from '../core/schedule.js';
import { envEntry, parseDockerArgs, volumeProblem } from './docker-args.js';
import { parseDuration } from '../core/duration.js';
import { place, type ConfigIssue } from '../core/issues.js';
import type { DraftField, DraftFieldName, JobDraft, SettingEntry } from './job-draft.js';
import { readNativeJobs } from './native-jobs.js';
import { commandArgv, splitWords } from '../core/shell-words.js';
import { readYamlJobs, YAML_JOBS_VARIABLE } from './yaml-jobs.js';

export interface JobsInput {
  /** the configuration's variables by canonical name (`BIRDHOUSE_` aliases resolved) */
  readonly entries: ReadonlyMap<string, SettingEntry>;
  /** the resolved environment, for `-e NAME` without a value */
  readonly env: Readonly<Record<string, string>>;
  readonly timezone: string | undefined;
  readonly defaultTimeoutMs: number | undefined;
}

export interface JobsResult {
  readonly jobs: readonly ContainerJob[];
  readonly issues: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

const JOB_NAME = /^[a-z0-9][a-z0-9_.-]*$/;
/** The built-in jobs and the scheduler's own log (`<name>.log`, containers named after the job). */
export const RESERVED_JOB_NAMES: readonly string[] = ['autodeploy', 'notebookdeploy', 'scheduler'];
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const TRUE_WORDS = new Set(['true', 'yes', '1']);
const FALSE_WORDS = new Set(['false', 'no', '0']);

class JobChecker {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  private readonly label: string;

  constructor(
    private readonly draft: JobDraft,
    private readonly jobName: string,
  ) {
    this.label = `job "${jobName}"`;
  }

  problem(where: SourceRef, key: string, message: string): void {
    this.issues.push({ ...where, job: this.jobName, key, message: `${this.label}: ${message}` });
  }

  warn(where: SourceRef, key: string, message: string): void {
    this.warnings.push({ ...where, job: this.jobName, key, message: `${this.label}: ${message}` });
  }

  field(name: DraftFieldName): DraftField | undefined {
    return this.draft.fields[name];
  }

  /** A field as trimmed text; undefined when absent or empty. */
  text(name: DraftFieldName): string | undefined {
    const f = this.field(name);
    if (f === undefined || f.value === null) return undefined;
    const t = (typeof f.value === 'string' ? f.value : String(f.value)).trim();
    return t === '' ? undefined : t;
  }

  required(name: DraftFieldName, hint: string): DraftField | undefined {
    const f = this.field(name);
    const empty = f === undefined || f.value === null || (typeof f.value === 'string' && f.value.trim() === '');
    if (!empty) return f;
    this.problem(f?.where ?? this.draft.source, this.draft.keyFor[name], `${this.draft.keyFor[name]} is required (${hint})`);
    return undefined;
  }
}

/**
 * The container a job runs: `dockerargs` first, then the native fields, which
 * may add to it but not contradict it.
 */
function buildContainer(
  c: JobChecker,
  draft: JobDraft,
  input: JobsInput,
  job: { readonly name: string; readonly image: string; readonly command: readonly string[] },
): ContainerSpec {
  const dockerargsField = c.field('dockerargs');
  const docker = parseDockerArgs(c.text('dockerargs') ?? '', input.env);
  if (dockerargsField !== undefined) {
    for (const p of docker.problems) c.problem(dockerargsField.where, dockerargsField.key, p);
    for (const w of docker.warnings) c.warn(dockerargsField.where, dockerargsField.key, w);
  }
  const volumes = [...docker.args.volumes];
  const env: Record<string, string> = { ...docker.args.env };

  const volumesField = c.field('volumes');
  for (const spec of (c.text('volumes') ?? '').split(/\s+/).filter((s) => s !== '')) {
    const problem = volumeProblem(spec);
    if (problem === undefined) volumes.push(spec);
    else c.problem(volumesField?.where ?? draft.source, draft.keyFor.volumes, `${draft.keyFor.volumes}: ${problem}`);
  }

  const envField = c.field('env');
  const envText = c.text('env');
  if (envField !== undefined && envText !== undefined) {
    const words = splitWords(envText);
    if (!words.ok) c.problem(envField.where, envField.key, `${envField.key} ${words.problem}`);
    else {
      for (const word of words.words) {
        const entry = envEntry(word, input.env);
        if ('problem' in entry) c.problem(envField.where, envField.key, `${envField.key}: ${entry.problem}`);
        else if (entry.value === undefined) {
          c.warn(envField.where, envField.key, `${envField.key}: ${entry.key} is not set, so the container does not get it`);
        } else if (entry.key in docker.args.env) {
          c.problem(envField.where, envField.key, `${entry.key} is set both in ${envField.key} and by -e in ${dockerargsField?.key ?? 'dockerargs'}; keep one`);
        } else env[entry.key] = entry.value;
      }
    }
  }

  const single = (fieldName: 'user' | 'workdir' | 'network', flag: string, fromArgs: string | undefined): string | undefined => {
    const f = c.field(fieldName);
    const own = c.text(fieldName);
    if (own !== undefined && fromArgs !== undefined && f !== undefined) {
      c.problem(f.where, f.key, `both ${f.key} and ${flag} in ${dockerargsField?.key ?? 'dockerargs'} set the ${fieldName}; keep one`);
    }
    return own ?? fromArgs;
  };
  const user = single('user', '--user', docker.args.user);
  const workdir = single('workdir', '--workdir', docker.args.workdir);
  const ownWorkdir = c.text('workdir');
  if (ownWorkdir !== undefined && !ownWorkdir.startsWith('/')) {
    c.problem(c.field('workdir')?.where ?? draft.source, draft.keyFor.workdir, `${draft.keyFor.workdir} must be an absolute path`);
  }
  const network = single('network', '--network', docker.args.network);

  let entrypoint = docker.args.entrypoint;
  const entrypointField = c.field('entrypoint');
  const entrypointText = c.text('entrypoint');
  if (entrypointField !== undefined && entrypointText !== undefined) {
    const words = splitWords(entrypointText);
    if (!words.ok) c.problem(entrypointField.where, entrypointField.key, `${entrypointField.key} ${words.problem}`);
    else if (entrypoint !== undefined) {
      c.problem(entrypointField.where, entrypointField.key, `both ${entrypointField.key} and --entrypoint in ${dockerargsField?.key ?? 'dockerargs'} set the entrypoint; keep one`);
    } else entrypoint = words.words;
  }

  const containerName = docker.args.containerName ?? job.name;
  if (docker.args.containerName !== undefined && dockerargsField !== undefined) {
    if (!CONTAINER_NAME.test(docker.args.containerName)) {
      c.problem(dockerargsField.where, dockerargsField.key, `--name "${docker.args.containerName}" is not a valid container name`);
    } else if (RESERVED_JOB_NAMES.includes(docker.args.containerName)) {
      c.problem(dockerargsField.where, dockerargsField.key, `--name "${docker.args.containerName}" is the container name of a built-in job; choose another`);
    }
  }

  return {
    image: job.image,
    command: job.command,
    entrypoint,
    volumes,
    env,
    envFiles: docker.args.envFiles,
    user,
    workdir,
    network,
    extraHosts: docker.args.extraHosts,
    labels: docker.args.labels,
    containerName,
  };
}

function buildJob(draft: JobDraft, input: JobsInput): { job: ContainerJob | undefined; issues: ConfigIssue[]; warnings: ConfigIssue[] } {
  const name = draft.name.toLowerCase();
  const c = new JobChecker(draft, name);
  if (!JOB_NAME.test(name)) {
    c.problem(
      draft.source,
      draft.nameKey,
      'the name cannot be used for containers: use letters, digits, "_", "-" and ".", starting with a letter or digit',
    );
  }

  if (RESERVED_JOB_NAMES.includes(name)) {
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

  const imageField = c.required('image', 'the Docker image to run, e.g. busybox:latest');
  const image = c.text('image') ?? '';
  if (imageField !== undefined && /\s/.test(image)) {
    c.problem(imageField.where, imageField.key, `image "${image}" contains whitespace`);
  }

  let command: string[] = [];
  const commandField = c.required('command', 'what to run in the container');
  if (commandField !== undefined) {
    const value = commandField.value;
    const argv = commandArgv(Array.isArray(value) ? (value as readonly string[]) : String(value));
    if (argv.ok) command = argv.argv;
    else c.problem(commandField.where, commandField.key, `command ${argv.problem}`);
  }

  let enabled = true;
  const enabledField = c.field('enabled');
  if (enabledField !== undefined && enabledField.value !== null && enabledField.value !== '') {
    const v = enabledField.value;
    const word = typeof v === 'boolean' ? String(v) : String(v).trim().toLowerCase();
    if (TRUE_WORDS.has(word)) enabled = true;
    else if (FALSE_WORDS.has(word)) enabled = false;
    else c.problem(enabledField.where, enabledField.key, `${enabledField.key} must be true or false (or yes/no, 1/0), not "${String(v)}"`);
  }

  let timeoutMs = input.defaultTimeoutMs;
  const timeoutField = c.field('timeout');
  if (timeoutField !== undefined && timeoutField.value !== null && String(timeoutField.value).trim() !== '') {
    const v = timeoutField.value;
    const ms = typeof v === 'number' ? v * 1000 : parseDuration(String(v), { plainSeconds: true });
    if (ms === undefined || !(ms > 0) || !Number.isFinite(ms)) {
      c.problem(timeoutField.where, timeoutField.key, `${timeoutField.key} must be a duration like 90s, 30m, 2h or a number of seconds, not "${String(v)}"`);
    } else timeoutMs = ms;
  }

  const container = buildContainer(c, draft, input, { name, image, command });

  if (c.issues.length > 0) return { job: undefined, issues: c.issues, warnings: c.warnings };
  const job: ContainerJob = {
    kind: 'container',
    name,
    comment: c.text('comment') ?? '',
    schedule,
    enabled: enabled && schedule !== null,
    timeoutMs,
    source: draft.source,
    container,
  };
  return { job, issues: c.issues, warnings: c.warnings };
}

/** Builds the extra jobs of both formats. */
export function buildJobs(input: JobsInput): JobsResult {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const drafts: JobDraft[] = [];

  const yamlEntry = input.entries.get(YAML_JOBS_VARIABLE);
  if (yamlEntry !== undefined) {
    const yaml = readYamlJobs(yamlEntry);
    drafts.push(...yaml.drafts);
    issues.push(...yaml.issues);
  }
  const native = readNativeJobs(input.entries);
  drafts.push(...native.drafts);
  issues.push(...native.issues);

  const jobs: ContainerJob[] = [];
  const byName = new Map<string, JobDraft>();
  const byContainer = new Map<string, ContainerJob>();
  for (const draft of drafts) {
    const name = draft.name.toLowerCase();
    const earlier = byName.get(name);
    if (earlier !== undefined) {
      issues.push({
        ...draft.source,
        job: name,
        key: draft.nameKey,
        message: `job "${name}" is defined twice, at ${place(earlier.source)} and at ${place(draft.source)}; rename or remove one`,
      });
      continue;
    }
    byName.set(name, draft);
    const built = buildJob(draft, input);
    issues.push(...built.issues);
    warnings.push(...built.warnings);
    if (built.job === undefined) continue;
    const clash = byContainer.get(built.job.container.containerName);
    if (clash !== undefined) {
      issues.push({
        ...draft.source,
        job: name,
        key: draft.keyFor.dockerargs,
        message:
          `jobs "${clash.name}" (${place(clash.source)}) and "${name}" use the same container name ` +
          `"${built.job.container.containerName}", so they could never run at the same time; give one another --name`,
      });
      continue;
    }
    byContainer.set(built.job.container.containerName, built.job);
    jobs.push(built.job);
  }
  return { jobs, issues, warnings };
}
