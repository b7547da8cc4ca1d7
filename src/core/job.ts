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
  readonly container: ContainerSpec;
}

/** An operator's extra job: any image, any command. */
export interface ContainerJob extends JobCommon {
  readonly kind: 'container';
}

/** Built-in: keep every checkout deployed (runs `autodeploy deploy` in the scheduler's own image). */
export interface AutodeployJob extends JobCommon {
  readonly kind: 'autodeploy';
}

/** Built-in: publish tutorial notebooks (runs `autodeploy notebooks` in the scheduler's own image). */
export interface NotebookDeployJob extends JobCommon {
  readonly kind: 'notebookdeploy';
}

export type Job = ContainerJob | AutodeployJob | NotebookDeployJob;
export type JobKind = Job['kind'];

/** Labels put on every job container; the scheduler finds its runs by them. */
export const LABEL_JOB = 'io.autodeploy.job';
export const LABEL_RUN = 'io.autodeploy.run';
export const LABEL_ORIGIN = 'io.autodeploy.origin';
/**
 * Which scheduler started a run: AUTODEPLOY_INSTANCE, else the compose project of the scheduler's
 * container (stable when a self-update recreates it), else the host name. A scheduler re-attaches
 * to its own runs only, not to those of another scheduler sharing the engine.
 */
export const LABEL_INSTANCE = 'io.autodeploy.instance';
