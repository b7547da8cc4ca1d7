// Runs of jobs, as plain data: what a run is, where it came from, what it wrote and how it ended.

/** Who started a run: the daemon on a schedule, or an operator through `autodeploy run`. */
export type RunOrigin = 'schedule' | 'manual';

export interface RunMeta {
  readonly job: string;
  readonly run: string;
  readonly origin: RunOrigin;
  /** the scheduler that started the run (see LABEL_INSTANCE) */
  readonly instance: string;
}

/** What the scheduler needs to know of one job container. */
export interface RunContainer extends RunMeta {
  readonly id: string;
  readonly name: string;
  readonly running: boolean;
  readonly exitCode: number | undefined;
  readonly startedAt: Date | undefined;
}

/** What the scheduler's own container tells about itself. */
export interface SelfContainer {
  readonly id: string;
  readonly image: string;
  /** destination → where it comes from: a volume name, or a host path for a bind mount */
  readonly mounts: ReadonlyMap<string, string>;
  readonly labels: Readonly<Record<string, string>>;
}

export type OutputStream = 'stdout' | 'stderr';

export interface OutputLine {
  readonly stream: OutputStream;
  readonly text: string;
}

export const RUN_OUTCOMES = ['running', 'succeeded', 'failed', 'timed-out', 'skipped', 'error', 'interrupted'] as const;

export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** One run of one job as kept in the run history. Times are ISO strings so the file reads well. */
export interface RunRecord {
  job: string;
  run: string;
  origin: RunOrigin;
  outcome: RunOutcome;
  startedAt: string;
  endedAt?: string | undefined;
  durationMs?: number | undefined;
  exitCode?: number | undefined;
  message?: string | undefined;
}
