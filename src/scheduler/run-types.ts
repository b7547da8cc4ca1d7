// What running a job takes and gives: the report a run ends with, and the runner's dependencies.

import type { Logger } from 'pino';
import type { ContainerExecs, JobContainers, LocalCommands } from '../core/ports.js';
import type { OutputLine, RunOrigin, RunOutcome } from '../core/run.js';
import type { RunHistory } from '../state/run-history.js';

/** What a run ended as, for the caller to log, print or turn into an exit code. */
export interface RunReport {
  readonly job: string;
  readonly run: string;
  readonly outcome: Exclude<RunOutcome, 'running'>;
  readonly exitCode: number | undefined;
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly durationMs: number;
  readonly message: string | undefined;
  /** what each trigger did, in order, when the run succeeded and the job has triggers */
  readonly triggers?: readonly StepOutcome[];
}

/** How one step (a job's own run in place, or a trigger) ended. */
export interface StepOutcome {
  readonly outcome: 'succeeded' | 'failed' | 'timed-out' | 'error';
  readonly exitCode: number | undefined;
  readonly message: string | undefined;
}

/** Where a job's lines go; `flush(job)` resolves when everything that job logged so far is on disk. */
export interface JobLogs {
  job(name: string): Logger;
  flush(name?: string): Promise<void>;
  /** How many output lines of a run are already in the job's log (re-attach after a restart). */
  countRunOutput(job: string, run: string): Promise<number>;
}

export interface RunDeps {
  readonly containers: JobContainers;
  /** for jobs (and triggers) run in running containers; without it such a run is an error */
  readonly execs?: ContainerExecs | undefined;
  /** for jobs (and triggers) run in the scheduler itself; without it such a run is an error */
  readonly local?: LocalCommands | undefined;
  readonly logs: JobLogs;
  readonly history: RunHistory;
  /** Which scheduler this is; its runs carry it, so that it re-attaches to its own runs only. */
  readonly instance: string;
  readonly now?: () => Date;
}

export interface RunOptions {
  readonly origin: RunOrigin;
  /** who started it within its origin (an API token's name, a webhook's git host) */
  readonly by?: string | undefined;
  /** Seconds between SIGTERM and SIGKILL when a run times out. */
  readonly stopGraceSeconds?: number | undefined;
  /** Each output line, as it arrives (for `autodeploy run` to print, for the daemon to read events from), with its run's id. */
  readonly onOutput?: ((line: OutputLine, run: string) => void) | undefined;
  /** Aborting stops following the run (the container keeps going; a later scheduler re-attaches). */
  readonly signal?: AbortSignal | undefined;
}

/** Seconds between SIGTERM and SIGKILL when a run times out, unless the caller says otherwise. */
export const DEFAULT_STOP_GRACE_SECONDS = 10;

