import type { Logger } from 'pino';
import { ContainerNameInUse } from '../docker/errors.js';
import type { JobContainers } from '../core/ports.js';
import type { OutputLine, RunContainer, RunOrigin, RunOutcome, RunRecord } from '../core/run.js';
import type { RunHistory } from '../state/run-history.js';
import { logOutputLine } from '../logging/log-files.js';
import type { Job } from '../core/job.js';
import { newRunId, shortId } from '../core/short-id.js';

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
  readonly logs: JobLogs;
  readonly history: RunHistory;
  /** Which scheduler this is; its runs carry it, so that it re-attaches to its own runs only. */
  readonly instance: string;
  readonly now?: () => Date;
}

export interface RunOptions {
  readonly origin: RunOrigin;
  /** Seconds between SIGTERM and SIGKILL when a run times out. */
  readonly stopGraceSeconds?: number | undefined;
  /** Each output line, as it arrives (for `autodeploy run` to print). */
  readonly onOutput?: (line: OutputLine) => void;
  /** Aborting stops following the run (the container keeps going; a later scheduler re-attaches). */
  readonly signal?: AbortSignal | undefined;
}

const DEFAULT_STOP_GRACE_SECONDS = 10;

/**
 * Runs one job once in its own container. The container name is the job's mutex:
 * if a previous run still holds it, this run is skipped, not queued and not overlapped.
 */
export async function runJob(job: Job, deps: RunDeps, options: RunOptions): Promise<RunReport> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const run = newRunId(startedAt);
  const log = deps.logs.job(job.name).child({ run });
  const meta = { job: job.name, run, origin: options.origin, instance: deps.instance };

  let id: string;
  try {
    id = await deps.containers.create(job.container, meta);
  } catch (error) {
    if (!(error instanceof ContainerNameInUse)) return fail(error);
    const holder = await deps.containers.inspect(job.container.containerName);
    if (holder?.running) {
      const message = holder.job === job.name
        ? `previous run ${holder.run} is still running (container ${job.container.containerName})`
        : `container name ${job.container.containerName} is held by a running container that is not a run of this job`;
      return finish('skipped', undefined, message, 'warn');
    }
    if (holder === undefined || holder.job === '') {
      return fail(new Error(
        `container name ${job.container.containerName} is taken by a container that is not a job run; ` +
          'remove that container or give the job another name',
        { cause: error },
      ));
    }
    // A leftover of an earlier run that ended while no scheduler watched it: collect it, then go.
    await resumeRun(holder, deps, { ...options, origin: holder.origin });
    try {
      id = await deps.containers.create(job.container, meta);
    } catch (retryError) {
      return fail(retryError);
    }
  }

  try {
    await deps.containers.start(id);
  } catch (error) {
    await deps.containers.remove(id).catch(() => undefined);
    return fail(error);
  }
  await deps.history.record({ job: job.name, run, origin: options.origin, outcome: 'running', startedAt: startedAt.toISOString() });
  log.info({ image: job.container.image, container: shortId(id), origin: options.origin }, 'run started');
  return follow(job.name, { id, run, startedAt, skipLines: 0, timeoutMs: job.timeoutMs }, deps, options, log);

  async function fail(error: unknown): Promise<RunReport> {
    return finish('error', undefined, error instanceof Error ? error.message : String(error), 'error');
  }

  async function finish(
    outcome: 'skipped' | 'error',
    exitCode: number | undefined,
    message: string,
    level: 'warn' | 'error',
  ): Promise<RunReport> {
    const endedAt = now();
    const report: RunReport = {
      job: job.name, run, outcome, exitCode, startedAt, endedAt, durationMs: endedAt.getTime() - startedAt.getTime(), message,
    };
    log[level]({ outcome }, outcome === 'skipped' ? `run skipped: ${message}` : `run could not start: ${message}`);
    await deps.history.record(toRecord(report, options.origin));
    return report;
  }
}

/**
 * Re-attaches to a run started earlier (by a scheduler that has since restarted):
 * writes the output lines not yet in the log, waits for the end, records and removes it.
 */
export async function resumeRun(container: RunContainer, deps: RunDeps, options: RunOptions & { timeoutMs?: number | undefined }): Promise<RunReport> {
  const log = deps.logs.job(container.job).child({ run: container.run });
  const skipLines = await deps.logs.countRunOutput(container.job, container.run);
  const startedAt = container.startedAt ?? (deps.now ?? (() => new Date()))();
  log.info({ container: shortId(container.id), linesAlreadyLogged: skipLines, running: container.running }, 're-attached to run');
  return follow(
    container.job,
    { id: container.id, run: container.run, startedAt, skipLines, timeoutMs: options.timeoutMs },
    deps,
    { ...options, origin: container.origin },
    log,
  );
}

interface Following {
  readonly id: string;
  readonly run: string;
  readonly startedAt: Date;
  readonly skipLines: number;
  readonly timeoutMs: number | undefined;
}

async function follow(jobName: string, f: Following, deps: RunDeps, options: RunOptions, log: Logger): Promise<RunReport> {
  const now = deps.now ?? (() => new Date());
  // The output reader may fail at once (the container removed under us): catch it now, not
  // only once the run ends, or the rejection would go unhandled and take the process down.
  const pump = (async () => {
    for await (const line of deps.containers.output(f.id, { skipLines: f.skipLines, signal: options.signal })) {
      logOutputLine(log, line.stream, line.text);
      options.onOutput?.(line);
    }
  })().catch((error: unknown) => log.error({ err: error }, 'lost the output stream of the run'));

  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  if (f.timeoutMs !== undefined) {
    const remaining = Math.max(0, f.startedAt.getTime() + f.timeoutMs - now().getTime());
    timer = setTimeout(() => {
      timedOut = true;
      const grace = options.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS;
      log.warn({ timeoutMs: f.timeoutMs, graceSeconds: grace }, 'run timed out: stopping its container (SIGTERM, then SIGKILL)');
      deps.containers.stop(f.id, grace).catch((error: unknown) => log.error({ err: error }, 'could not stop timed-out container'));
    }, remaining);
  }

  const aborted = new Promise<'aborted'>((resolve) => {
    if (options.signal?.aborted) resolve('aborted');
    options.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  let exit: number | 'aborted';
  try {
    exit = await Promise.race([deps.containers.wait(f.id), aborted]);
  } finally {
    clearTimeout(timer);
    // The output stream ends when the container does; every line must be written before the container goes.
    await pump;
  }
  const endedAt = now();
  const durationMs = endedAt.getTime() - f.startedAt.getTime();

  if (exit === 'aborted') {
    log.info({ container: shortId(f.id) }, 'stopped following run; it keeps running and will be re-attached');
    await deps.logs.flush(jobName);
    return { job: jobName, run: f.run, outcome: 'interrupted', exitCode: undefined, startedAt: f.startedAt, endedAt, durationMs, message: 'scheduler stopped while the run was going' };
  }

  const outcome = timedOut ? 'timed-out' : exit === 0 ? 'succeeded' : 'failed';
  const message = timedOut ? `timed out after ${Math.round((f.timeoutMs ?? 0) / 1000)}s` : undefined;
  const level = outcome === 'succeeded' ? 'info' : 'error';
  log[level]({ outcome, exitCode: exit, durationMs }, message ? `run finished: ${message}` : 'run finished');
  await deps.logs.flush(jobName);
  await deps.containers.remove(f.id);
  const report: RunReport = { job: jobName, run: f.run, outcome, exitCode: exit, startedAt: f.startedAt, endedAt, durationMs, message };
  await deps.history.record(toRecord(report, options.origin));
  return report;
}

function toRecord(report: RunReport, origin: RunOrigin): RunRecord {
  const record: RunRecord = {
    job: report.job,
    run: report.run,
    origin,
    outcome: report.outcome,
    startedAt: report.startedAt.toISOString(),
    endedAt: report.endedAt.toISOString(),
    durationMs: report.durationMs,
  };
  if (report.exitCode !== undefined) record.exitCode = report.exitCode;
  if (report.message !== undefined) record.message = report.message;
  return record;
}
