// What the scheduler offers the HTTP feature: its jobs and their runs, starting a run, and what
// it knows of the checkouts. The daemon implements it (wired in the CLI): the HTTP feature
// never imports the scheduler.

import type { DeployHistoryEntry, DeployStatusSnapshot } from './deploy-snapshot.js';
import type { RunOrigin, RunOutcome, RunRecord } from './run.js';

export interface JobSummary {
  readonly name: string;
  readonly kind: string;
  readonly schedule: string;
  readonly enabled: boolean;
  readonly comment: string | undefined;
  /** ISO time of the next run; undefined when not scheduled */
  readonly nextRun: string | undefined;
  readonly running: boolean;
  readonly lastRun: RunRecord | undefined;
}

/** What a run ended as. */
export interface RunResult {
  readonly job: string;
  readonly run: string;
  readonly outcome: Exclude<RunOutcome, 'running'>;
  readonly exitCode: number | undefined;
  readonly durationMs: number;
  readonly message: string | undefined;
}

/** Who asks for a run: the origin and the name behind it. */
export interface RunRequest {
  readonly origin: RunOrigin;
  readonly by: string;
}

/**
 * `started`: a new run began; `busy`: a run of the job was going already (no second one was
 * started; `current` settles when it ends); `unknown`: no such job.
 */
export type StartAnswer =
  | { readonly kind: 'started'; readonly result: Promise<RunResult> }
  | { readonly kind: 'busy'; readonly current: Promise<RunResult> }
  | { readonly kind: 'unknown' };

/** One line a run wrote, as its job's log keeps it. */
export interface RunOutputLine {
  readonly time: string;
  readonly stream: 'stdout' | 'stderr' | undefined;
  readonly text: string;
}

export interface SchedulerPort {
  /** the job running deploys (`autodeploy`), when the job table has one */
  readonly deployJob: string;
  readonly notebookJob: string;
  jobs(): Promise<readonly JobSummary[]>;
  /** newest first; undefined: no such job */
  runs(job: string): Promise<readonly RunRecord[] | undefined>;
  /** the run's lines (its output and the scheduler's lines about it), masked as in the log */
  runOutput(job: string, run: string): Promise<readonly RunOutputLine[]>;
  start(job: string, request: RunRequest): StartAnswer;
  /** runs the notebook job once with `--rollback` */
  rollbackNotebooks(request: RunRequest): StartAnswer;
  /** the last check's verdicts and decision, and the deploy history, from memory */
  deployStatus(): DeployStatusSnapshot;
  deployHistory(): readonly DeployHistoryEntry[];
}
