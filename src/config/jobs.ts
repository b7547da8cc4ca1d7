// The job table: the operator's extra jobs from every format (job files,
// AUTODEPLOY_EXTRA_SCHEDULER_JOBS, AUTODEPLOY_JOB_* variables), validated
// together. Every problem of every job is collected, and each job is accepted
// or refused on its own: a refused job never stops another.

import type { ContainerSpec, ExecSpec, Job, RunStep, Schedule, SourceRef, Trigger } from '../core/job.js';
import { parseSchedule } from '../core/schedule.js';
import { envEntry, parseDockerArgs, volumeProblem } from './docker-args.js';
import { parseDuration } from '../core/duration.js';
import { place, type ConfigIssue } from '../core/issues.js';
import type { DraftField, DraftFieldName, JobDraft, SettingEntry, TriggerDraft } from './job-draft.js';
import { readNativeJobs } from './native-jobs.js';
import { commandArgv, splitWords } from '../core/shell-words.js';
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

  /** A true/false field (also yes/no, 1/0); `fallback` when absent or empty. */
  flag(name: 'enabled' | 'onstart', fallback: boolean): boolean {
    const f = this.field(name);
    if (f === undefined || f.value === null || f.value === '') return fallback;
    const v = f.value;
    const word = typeof v === 'boolean' ? String(v) : String(v).trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    this.problem(f.where, f.key, `${f.key} must be true or false (or yes/no, 1/0), not "${String(v)}"`);
    return fallback;
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
  fields: FieldReader = c,
): ContainerSpec {
  const dockerargsField = fields.field('dockerargs');
  const docker = parseDockerArgs(fields.text('dockerargs') ?? '', input.env);
  if (dockerargsField !== undefined) {
    for (const p of docker.problems) c.problem(dockerargsField.where, dockerargsField.key, p);
    for (const w of docker.warnings) c.warn(dockerargsField.where, dockerargsField.key, w);
  }
  const volumes = [...docker.args.volumes];
  const env: Record<string, string> = { ...docker.args.env };

  const volumesField = fields.field('volumes');
  for (const spec of (fields.text('volumes') ?? '').split(/\s+/).filter((s) => s !== '')) {
    const problem = volumeProblem(spec);
    if (problem === undefined) volumes.push(spec);
    else c.problem(volumesField?.where ?? draft.source, draft.keyFor.volumes, `${draft.keyFor.volumes}: ${problem}`);
  }

  const envField = fields.field('env');
  const envText = fields.text('env');
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
    const f = fields.field(fieldName);
    const own = fields.text(fieldName);
    if (own !== undefined && fromArgs !== undefined && f !== undefined) {
      c.problem(f.where, f.key, `both ${f.key} and ${flag} in ${dockerargsField?.key ?? 'dockerargs'} set the ${fieldName}; keep one`);
    }
    return own ?? fromArgs;
  };
  const user = single('user', '--user', docker.args.user);
  const workdir = single('workdir', '--workdir', docker.args.workdir);
  const ownWorkdir = fields.text('workdir');
  if (ownWorkdir !== undefined && !ownWorkdir.startsWith('/')) {
    c.problem(fields.field('workdir')?.where ?? draft.source, draft.keyFor.workdir, `${draft.keyFor.workdir} must be an absolute path`);
  }
  const network = single('network', '--network', docker.args.network);

  let entrypoint = docker.args.entrypoint;
  const entrypointField = fields.field('entrypoint');
  const entrypointText = fields.text('entrypoint');
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
    } else if (RESERVED_JOB_NAMES.includes(docker.args.containerName) && docker.args.containerName !== job.name) {
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

/** `docker exec`'s options that mean something for a command run in a running container. */
function buildExec(c: JobChecker, fields: FieldReader, input: JobsInput, container: string, command: readonly string[]): ExecSpec {
  const dockerargsField = fields.field('dockerargs');
  const docker = parseDockerArgs(fields.text('dockerargs') ?? '', input.env);
  if (dockerargsField !== undefined) {
    for (const p of docker.problems) c.problem(dockerargsField.where, dockerargsField.key, p);
    for (const w of docker.warnings) c.warn(dockerargsField.where, dockerargsField.key, w);
    const meaningless = [
      docker.args.containerName !== undefined ? '--name' : undefined,
      docker.args.volumes.length > 0 ? '--volume' : undefined,
      docker.args.envFiles.length > 0 ? '--env-file' : undefined,
      docker.args.entrypoint !== undefined ? '--entrypoint' : undefined,
      docker.args.network !== undefined ? '--network' : undefined,
      docker.args.extraHosts.length > 0 ? '--add-host' : undefined,
      Object.keys(docker.args.labels).length > 0 ? '--label' : undefined,
    ].filter((flag) => flag !== undefined);
    if (meaningless.length > 0) {
      c.problem(
        dockerargsField.where,
        dockerargsField.key,
        `${meaningless.join(', ')} in dockerargs mean nothing for a command run in the running container "${container}" ` +
          '(docker exec takes -e/--env, -u/--user and -w/--workdir); to start a new container, give the job an image',
      );
    }
  }
  const project = fields.text('project');
  return { container, project, command, user: docker.args.user, workdir: docker.args.workdir, env: { ...docker.args.env } };
}

type FieldReader = Pick<JobChecker, 'field' | 'text'>;

/** The fields of a trigger, read like a job's. */
class TriggerFields implements FieldReader {
  constructor(private readonly draft: TriggerDraft) {}
  field(name: DraftFieldName): DraftField | undefined {
    return this.draft.fields[name];
  }
  text(name: DraftFieldName): string | undefined {
    const f = this.field(name);
    if (f === undefined || f.value === null) return undefined;
    const t = (typeof f.value === 'string' ? f.value : String(f.value)).trim();
    return t === '' ? undefined : t;
  }
}

/**
 * What a run of the job (or one of its triggers) does, decided as docker-crontab decides it:
 * `image` starts a new container; `container` without `image` runs the command in that running
 * container (with `project`: in every running container of that service of that compose project);
 * neither runs the command in the scheduler's own container.
 */
function buildStep(
  c: JobChecker,
  fields: FieldReader,
  draft: JobDraft,
  input: JobsInput,
  what: { readonly name: string; readonly label: string; readonly where: SourceRef; readonly imageRequired: boolean },
): RunStep | undefined {
  const image = fields.text('image');
  const container = fields.text('container');
  const project = fields.text('project');
  const imageMissing = image === undefined && what.imageRequired;
  if (imageMissing) {
    c.problem(fields.field('image')?.where ?? what.where, draft.keyFor.image, `${draft.keyFor.image} is required (the Docker image to run, e.g. busybox:latest)`);
  }
  let command: string[] = [];
  const commandField = fields.field('command');
  const commandEmpty = commandField === undefined || commandField.value === null || (typeof commandField.value === 'string' && commandField.value.trim() === '');
  if (commandEmpty) {
    c.problem(commandField?.where ?? what.where, draft.keyFor.command, `${what.label}${draft.keyFor.command} is required (what to run in the container)`);
  } else {
    const value = commandField.value;
    const argv = commandArgv(Array.isArray(value) ? (value as readonly string[]) : String(value));
    if (argv.ok) command = argv.argv;
    else c.problem(commandField.where, commandField.key, `${what.label}command ${argv.problem}`);
  }

  if (imageMissing) return undefined;
  if (image !== undefined) {
    if (/\s/.test(image)) c.problem(fields.field('image')?.where ?? what.where, draft.keyFor.image, `${what.label}image "${image}" contains whitespace`);
    if (container !== undefined) {
      c.warn(fields.field('container')?.where ?? what.where, 'container', `${what.label}container is ignored: the job has an image, so each run is a new container (as docker-crontab does)`);
    }
    return { kind: 'container', container: buildContainer(c, draft, input, { name: what.name, image, command }, fields) };
  }
  if (container !== undefined) {
    if (!CONTAINER_NAME.test(container)) {
      c.problem(fields.field('container')?.where ?? what.where, 'container', `${what.label}container "${container}" is not a valid container or service name`);
    }
    return { kind: 'exec', exec: buildExec(c, fields, input, container, command) };
  }
  if (project !== undefined) {
    c.problem(fields.field('project')?.where ?? what.where, 'project', `${what.label}project needs container: the service whose running containers run the command`);
  }
  const dockerargs = fields.field('dockerargs');
  if (dockerargs !== undefined && fields.text('dockerargs') !== undefined) {
    c.problem(
      dockerargs.where,
      dockerargs.key,
      `${what.label}dockerargs mean nothing for a command run in the scheduler's own container; give an image to run it in a new container`,
    );
  }
  return { kind: 'local', command };
}

function buildJob(draft: JobDraft, input: JobsInput, reserved: ReadonlySet<string>): { job: Job | undefined; issues: ConfigIssue[]; warnings: ConfigIssue[] } {
  const name = draft.name.toLowerCase();
  const c = new JobChecker(draft, name);
  if (!JOB_NAME.test(name)) {
    c.problem(
      draft.source,
      draft.nameKey,
      'the name cannot be used for containers: use letters, digits, "_", "-" and ".", starting with a letter or digit',
    );
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
export function listJobs(input: Pick<JobsInput, 'entries' | 'jobFiles'>): ListedJobs {
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
  add(readNativeJobs(input.entries));
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
