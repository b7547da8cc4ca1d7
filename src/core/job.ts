// The job model: plain data shared by the config loader (which builds it),
// the scheduler (which times it) and the runner (which starts containers).

/** A parsed schedule expression. `text` is exactly what the operator wrote. */
export type Schedule =
  | { readonly kind: 'cron'; readonly text: string; readonly expression: string; readonly timezone: string | undefined }
  | { readonly kind: 'every'; readonly text: string; readonly intervalMs: number };

/** Where a setting came from, so that messages can point at it. */
export interface SourceRef {
  readonly file: string;
  readonly line: number | undefined;
}

/** What a job container is made of. Mapped onto dockerode's create options in src/docker. */
export interface ContainerSpec {
  readonly image: string;
  /** argv of the container's command; empty means the image's default CMD. */
  readonly command: readonly string[];
  readonly entrypoint: readonly string[] | undefined;
  /** bind mounts as `host:container[:mode]` */
  readonly volumes: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** files of `KEY=value` lines read when the run starts, as `docker run --env-file` does */
  readonly envFiles: readonly string[];
  readonly user: string | undefined;
  readonly workdir: string | undefined;
  readonly network: string | undefined;
  readonly extraHosts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** container name; defaults to the job name */
  readonly containerName: string;
}

/** A command run in containers that are already running, as `docker exec` does. */
export interface ExecSpec {
  /** a container's name; with `project`, the name of a compose service of that project */
  readonly container: string;
  /** a compose project: the command runs in every running container of the service `container` */
  readonly project: string | undefined;
  /** argv of the command */
  readonly command: readonly string[];
  readonly user: string | undefined;
  readonly workdir: string | undefined;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * How one step of a run is carried out, as docker-crontab decides it from a job's keys
 * (https://github.com/willfarrell/docker-crontab#config-file): `image` starts a new container,
 * `container` runs the command in a running one, neither runs it in the scheduler itself.
 */
export type RunStep =
  | { readonly kind: 'container'; readonly container: ContainerSpec }
  | { readonly kind: 'exec'; readonly exec: ExecSpec }
  | { readonly kind: 'local'; readonly command: readonly string[] };

/** A step run after its job succeeded; its failure fails the trigger, not the job. */
export interface Trigger {
  readonly step: RunStep;
  readonly source: SourceRef;
}

/** Why a job is in the table when that is not plain from its definition (a built-in turned on, a job replaced). */
export interface JobNote {
  /** which rule put the job in the table, e.g. "its component's job is present" */
  readonly rule: string;
  /** the job definition this one replaces, when it does */
  readonly replaces?: SourceRef | undefined;
}

interface JobCommon {
  /** unique job name: lower-case letters, digits, `_`, `-`, `.` */
  readonly name: string;
  readonly comment: string;
  /** null when the job is disabled by an empty schedule */
  readonly schedule: Schedule | null;
  readonly enabled: boolean;
  /** a run older than this is stopped and recorded as failed; undefined: no limit */
  readonly timeoutMs: number | undefined;
  readonly source: SourceRef;
  /** run in order after a run that succeeded */
  readonly triggers: readonly Trigger[];
  /** also run once when the scheduler starts */
  readonly onstart: boolean;
  /** what in the job gives it the host (the Docker socket, system paths, the host network), allowed by host-access or a job file */
  readonly hostAccess?: readonly string[] | undefined;
  readonly note?: JobNote | undefined;
}

/** An operator's extra job in a new container: any image, any command. */
export interface ContainerJob extends JobCommon {
  readonly kind: 'container';
  readonly container: ContainerSpec;
}

/** An operator's extra job run in running containers (`docker exec`). */
export interface ExecJob extends JobCommon {
  readonly kind: 'exec';
  readonly exec: ExecSpec;
}

/** An operator's extra job run in the scheduler's own container. */
export interface LocalJob extends JobCommon {
  readonly kind: 'local';
  readonly command: readonly string[];
}

/** Built-in: keep every checkout deployed (runs `autodeploy deploy` in the scheduler's own image). */
export interface AutodeployJob extends JobCommon {
  readonly kind: 'autodeploy';
  readonly container: ContainerSpec;
}

/** Built-in: publish tutorial notebooks (runs `autodeploy notebooks` in the scheduler's own image). */
export interface NotebookDeployJob extends JobCommon {
  readonly kind: 'notebookdeploy';
  readonly container: ContainerSpec;
}

export type Job = ContainerJob | ExecJob | LocalJob | AutodeployJob | NotebookDeployJob;
export type JobKind = Job['kind'];
/** The jobs whose every run is a new container named after the job (the name is the run's mutex). */
export type ContainerRunJob = ContainerJob | AutodeployJob | NotebookDeployJob;

export function runsInContainer(job: Job): job is ContainerRunJob {
  return job.kind === 'container' || job.kind === 'autodeploy' || job.kind === 'notebookdeploy';
}

/** The step a run of the job carries out. */
export function jobStep(job: Job): RunStep {
  switch (job.kind) {
    case 'exec':
      return { kind: 'exec', exec: job.exec };
    case 'local':
      return { kind: 'local', command: job.command };
    default:
      return { kind: 'container', container: job.container };
  }
}

/** Labels put on every job container; the scheduler finds its runs by them. */
export const LABEL_JOB = 'io.autodeploy.job';
export const LABEL_RUN = 'io.autodeploy.run';
export const LABEL_ORIGIN = 'io.autodeploy.origin';
/** Who started the run within its origin (an API token's name, a webhook's git host). */
export const LABEL_BY = 'io.autodeploy.by';
/**
 * Which scheduler started a run: AUTODEPLOY_INSTANCE, else the compose project of the scheduler's
 * container (stable when a self-update recreates it), else the host name. A scheduler re-attaches
 * to its own runs only, not to those of another scheduler sharing the engine.
 */
export const LABEL_INSTANCE = 'io.autodeploy.instance';

/** Where a step runs, in words for logs and tables. */
export function describeStep(step: RunStep): string {
  switch (step.kind) {
    case 'container':
      return `new container of ${step.container.image}`;
    case 'exec':
      return step.exec.project === undefined ? `in container ${step.exec.container}` : `in service ${step.exec.container} of project ${step.exec.project}`;
    case 'local':
      return 'in the scheduler';
  }
}
