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
  /** ISO times of the next runs, the next one first (three at most); empty when not scheduled */
  readonly nextRuns: readonly string[];
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

export interface SchedulerPort extends SchedulerObservation {
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

/** A job's times, from the scheduler's memory (no file is read): what a scrape asks every few seconds. */
export interface JobTiming {
  readonly name: string;
  readonly enabled: boolean;
  readonly running: boolean;
  /** undefined: not scheduled (disabled, no schedule, or a trigger's target) */
  readonly nextRun: Date | undefined;
  /** the longest gap between two of the next runs; undefined when not scheduled */
  readonly intervalSeconds: number | undefined;
  /** since when this scheduler keeps the job (its start, or the reload that added it) */
  readonly since: Date;
}

/** Whether the configuration in force is the file as it is now. */
export interface ConfigHealth {
  /** false: the last read of env.local (or a job file) was refused and the previous table runs */
  readonly valid: boolean;
  readonly problems: number;
  /** jobs refused on their own (Config.refused) while every other job runs */
  readonly refused: number;
}

/** What a run ended as, with its start: for the metrics of runs. */
export interface RunEnded extends RunResult {
  readonly startedAt: string;
}

/** What the scheduler tells as it goes; every member is optional. */
export interface SchedulerListener {
  runEnded?(run: RunEnded): void;
  /** a run came due while the previous one was going, and was not started */
  runSkipped?(job: string): void;
  /** each line a run writes (the built-in jobs' event lines among them) */
  output?(run: { readonly job: string; readonly run: string }, line: { readonly stream: 'stdout' | 'stderr'; readonly text: string }): void;
}

/**
 * What metrics and the status page ask of the scheduler besides the port above. Optional, so
 * that a scheduler (or a test's stand-in) without them still serves the API.
 */
export interface SchedulerObservation {
  jobTimings?(): readonly JobTiming[];
  configHealth?(): ConfigHealth;
  /** returns the function that stops listening */
  subscribe?(listener: SchedulerListener): () => void;
}
