// Runs of jobs, as plain data: what a run is, where it came from, what it wrote and how it ended.

/**
 * What started a run: the daemon on a schedule, an operator through `autodeploy run`, a signed
 * webhook of a git host, or a caller of the API. Who exactly (the token's name, the git host)
 * is the run's `by`.
 */
export const RUN_ORIGINS = ['schedule', 'manual', 'webhook', 'api'] as const;
export type RunOrigin = (typeof RUN_ORIGINS)[number];

/** Reads an origin written by any version (a label, a history file); anything unknown is a schedule's. */
export function parseRunOrigin(text: string | undefined): RunOrigin {
  return RUN_ORIGINS.find((origin) => origin === text) ?? 'schedule';
}

export interface RunMeta {
  readonly job: string;
  readonly run: string;
  readonly origin: RunOrigin;
  /** who, within the origin: an API token's name, a webhook's git host; absent for schedule and manual runs */
  readonly by?: string | undefined;
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
  /** when it stopped; absent while it runs (and from engines or fakes that do not say) */
  readonly finishedAt?: Date | undefined;
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
  by?: string | undefined;
  outcome: RunOutcome;
  startedAt: string;
  endedAt?: string | undefined;
  durationMs?: number | undefined;
  exitCode?: number | undefined;
  message?: string | undefined;
}

/** Exit codes of a container killed by SIGKILL or SIGTERM, which is what an engine that stops does to each. */
export const KILLED_EXIT_CODES: ReadonlySet<number> = new Set([137, 143]);

/**
 * Whether a run's container was killed at about the moment the scheduler that followed it
 * was last seen alive: the engine (or the host) going down stops both, whereas a scheduler
 * restarted alone leaves its runs going. `lastSeen` is the previous scheduler's last
 * heartbeat; `windowMs` covers the beats' interval and the engine's stop timeout.
 */
export function endedWithScheduler(container: RunContainer, lastSeen: Date | undefined, windowMs: number): boolean {
  if (container.running || container.exitCode === undefined || !KILLED_EXIT_CODES.has(container.exitCode)) return false;
  if (container.finishedAt === undefined || lastSeen === undefined) return false;
  const after = container.finishedAt.getTime() - lastSeen.getTime();
  // A little before the last beat too: clocks of the engine and of this process may differ by a second.
  return after >= -2_000 && after <= windowMs;
}
