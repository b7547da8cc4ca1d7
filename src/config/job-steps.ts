// What one run of an extra job (or one of its triggers) does, built from the fields an operator
// wrote: a new container (image, dockerargs, the native fields), a command in running
// containers, or a command in the scheduler; and the checker that collects each problem at the
// place it was written.

import type { ConfigIssue } from '../core/issues.js';
import { hostAccessOf } from '../core/host-access.js';
import type { ContainerSpec, ExecSpec, RunStep, SourceRef } from '../core/job.js';
import { commandArgv, splitWords } from '../core/shell-words.js';
import { envEntry, parseDockerArgs, volumeProblem } from './docker-args.js';
import type { DraftField, DraftFieldName, JobDraft, TriggerDraft } from './job-draft.js';
import { RESERVED_JOB_NAMES, type JobsInput } from './jobs.js';

const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const TRUE_WORDS = new Set(['true', 'yes', '1']);
const FALSE_WORDS = new Set(['false', 'no', '0']);

/** The fields of a job, or of one of its triggers, as an operator wrote them. */
export class FieldReader {
  constructor(private readonly fields: Partial<Readonly<Record<DraftFieldName, DraftField>>>) {}

  field(name: DraftFieldName): DraftField | undefined {
    return this.fields[name];
  }

  /** A field as trimmed text; undefined when absent or empty. */
  text(name: DraftFieldName): string | undefined {
    const f = this.field(name);
    if (f === undefined || f.value === null) return undefined;
    const t = (typeof f.value === 'string' ? f.value : String(f.value)).trim();
    return t === '' ? undefined : t;
  }
}

/** The fields of a trigger, read like a job's. */
export class TriggerFields extends FieldReader {
  constructor(draft: TriggerDraft) {
    super(draft.fields);
  }
}

export class JobChecker extends FieldReader {
  /** what the job's steps need of the host, each in words: allowed only by host-access or a job file */
  readonly hostAccess: string[] = [];
  readonly issues: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  private readonly label: string;

  constructor(
    draft: JobDraft,
    private readonly jobName: string,
  ) {
    super(draft.fields);
    this.label = `job "${jobName}"`;
  }

  problem(where: SourceRef, key: string, message: string): void {
    this.issues.push({ ...where, job: this.jobName, key, message: `${this.label}: ${message}` });
  }

  warn(where: SourceRef, key: string, message: string): void {
    this.warnings.push({ ...where, job: this.jobName, key, message: `${this.label}: ${message}` });
  }

  /** A true/false field (also yes/no, 1/0); `fallback` when absent or empty. */
  flag(name: 'enabled' | 'onstart' | 'hostAccess', fallback: boolean): boolean {
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

/**
 * What a run of the job (or one of its triggers) does, decided as docker-crontab decides it:
 * `image` starts a new container; `container` without `image` runs the command in that running
 * container (with `project`: in every running container of that service of that compose project);
 * neither runs the command in the scheduler's own container.
 */
export function buildStep(
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
    const spec = buildContainer(c, draft, input, { name: what.name, image, command }, fields);
    c.hostAccess.push(...hostAccessOf(spec).map((need) => `${what.label}${need}`));
    return { kind: 'container', container: spec };
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
  c.hostAccess.push(`${what.label}it runs in the scheduler's own container, which holds the Docker socket`);
  return { kind: 'local', command };
}

