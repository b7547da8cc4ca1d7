// The ports: what the features need of the outside world, as interfaces the adapters implement.

import type { ContainerSpec, ExecSpec } from './job.js';
import type { OutputLine, RunContainer, RunMeta, SelfContainer } from './run.js';

/**
 * What job runs need of the Docker engine. The runner talks to this, never to dockerode:
 * src/docker/job-containers.ts maps it onto the engine, and the unit tests onto memory.
 */
export interface JobContainers {
  /** Creates (not starts) the run's container; ContainerNameInUse if the name is taken. */
  create(spec: ContainerSpec, meta: RunMeta): Promise<string>;
  start(id: string): Promise<void>;
  /** undefined when no such container exists. */
  inspect(idOrName: string): Promise<RunContainer | undefined>;
  /** Every container that carries the job label, running or not. */
  list(): Promise<RunContainer[]>;
  /**
   * The container's output from its first line, following it until the container ends,
   * minus the first `skipLines` lines (already written by an earlier scheduler).
   */
  output(id: string, options: { skipLines: number; signal?: AbortSignal | undefined }): AsyncIterable<OutputLine>;
  /** Resolves with the exit code once the container has stopped. */
  wait(id: string): Promise<number>;
  /** SIGTERM, then SIGKILL after `graceSeconds`. */
  stop(id: string, graceSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** The container this process runs in, when it runs in one. */
  self(): Promise<SelfContainer | undefined>;
  /**
   * Whether the engine is going down or coming back, asked when a run's container was killed
   * or could not be waited for: an engine that stops kills every container (exit 137 or 143)
   * and then closes its socket. Resolves once the engine answers again ('restarted'), or
   * when it kept answering for a few seconds ('steady': the kill was someone else's).
   */
  engineRestart?(options: { signal?: AbortSignal | undefined }): Promise<'restarted' | 'steady' | 'gone'>;
}

/** Docker's container states, as `State.Status` reports them. */
export type ContainerStatus = 'created' | 'restarting' | 'running' | 'removing' | 'paused' | 'exited' | 'dead';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** What verifying a deploy needs to know of one container of a compose service. */
export interface ServiceContainer {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly service: string;
  readonly status: ContainerStatus;
  /** set once the container has stopped at least once */
  readonly exitCode: number | undefined;
  /** undefined: the container has no healthcheck (neither in compose nor in its image) */
  readonly health: HealthStatus | undefined;
  /** consecutive failed healthchecks */
  readonly failingStreak: number;
  /** output of the latest healthcheck, trimmed */
  readonly lastHealthOutput: string | undefined;
  /** `no`, `always`, `unless-stopped`, `on-failure` */
  readonly restartPolicy: string;
  /** how many times the engine restarted it under its restart policy */
  readonly restartCount: number;
  /** Docker's ISO time text, or undefined when never started */
  readonly startedAt: string | undefined;
  readonly oomKilled: boolean;
  /** the engine's own error for the last start, e.g. a missing mount source */
  readonly error: string | undefined;
}

/** The project's view of a compose project's containers. */
export interface ComposeContainers {
  /** Every container of the project, in any state, without `compose run` one-offs. */
  list(project: string): Promise<ServiceContainer[]>;
  /** The compose project a container belongs to; undefined when it is gone or not a compose container. */
  projectOf(containerId: string): Promise<string | undefined>;
}

/** A running container that bind-mounts the target or something in the versions directory. */
export interface MountingContainer {
  readonly name: string;
  /** when it started: Docker resolved its bind mounts' sources just before */
  readonly startedAt: Date;
  /** the host paths it bind-mounts, as Docker reports them */
  readonly sources: readonly string[];
}

/** The running containers that bind-mount any of these paths (or a path below one). */
export type MountingContainers = (paths: readonly string[]) => Promise<readonly MountingContainer[]>;

/** A running container a command of an exec job runs in. */
export interface ExecTarget {
  readonly id: string;
  readonly name: string;
}

/** Commands run in containers that are already running, as `docker exec` runs them. */
export interface ContainerExecs {
  /**
   * The running containers the command runs in: the container of that name, or with a project
   * every running container of that compose service. Empty when none is running.
   */
  targets(exec: ExecSpec): Promise<readonly ExecTarget[]>;
  /**
   * Runs the command in one container and resolves with its exit code, each output line as it
   * comes. Docker has no way to stop an exec'd command: an abort stops following it only.
   */
  run(target: ExecTarget, exec: ExecSpec, options: { readonly onLine: (line: OutputLine) => void; readonly signal?: AbortSignal | undefined }): Promise<number>;
}

/** Commands run in the scheduler's own container (docker-crontab's jobs with neither image nor container). */
export interface LocalCommands {
  /** Runs argv and resolves with its exit code (undefined: stopped by a signal or the timeout). */
  run(
    command: readonly string[],
    options: {
      readonly env: Readonly<Record<string, string>>;
      readonly onLine: (line: OutputLine) => void;
      readonly timeoutMs?: number | undefined;
      readonly signal?: AbortSignal | undefined;
    },
  ): Promise<{ readonly exitCode: number | undefined; readonly timedOut: boolean }>;
}
