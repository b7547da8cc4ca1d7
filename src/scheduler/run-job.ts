import type { Logger } from 'pino';
import { describeStep, runsInContainer, type ContainerRunJob, type ExecJob, type Job, type LocalJob, type RunStep } from '../core/job.js';
import { KILLED_EXIT_CODES, type RunContainer, type RunOrigin, type RunRecord } from '../core/run.js';
import { newRunId, shortId } from '../core/short-id.js';
import { ContainerNameInUse } from '../docker/errors.js';
import { logOutputLine } from '../logging/log-files.js';
import { setAlarm } from './alarm.js';
import { runStep } from './run-step.js';
import { DEFAULT_STOP_GRACE_SECONDS, type RunDeps, type RunOptions, type RunReport, type StepOutcome } from './run-types.js';

export type { JobLogs, RunDeps, RunOptions, RunReport, StepOutcome } from './run-types.js';

/**
 * Runs one job once, then its triggers when it succeeded. A job of a new container each run
 * takes the container's name as its mutex: if a previous run still holds it, this run is
 * skipped, not queued and not overlapped. A job run in place (in a running container, or in
 * the scheduler) has the caller's mutex only, as a command that outlives its scheduler
 * cannot be re-attached.
 */
export async function runJob(job: Job, deps: RunDeps, options: RunOptions): Promise<RunReport> {
  const report = runsInContainer(job) ? await runContainerJob(job, deps, options) : await runInPlace(job, deps, options);
  if (report.outcome !== 'succeeded' || job.triggers.length === 0) return report;
  const log = deps.logs.job(job.name).child({ run: report.run });
  const triggers: StepOutcome[] = [];
  for (const [index, trigger] of job.triggers.entries()) {
    const triggerLog = log.child({ trigger: index + 1 });
    triggerLog.info({ step: trigger.step.kind, where: describeStep(trigger.step) }, `trigger #${index + 1} started`);
    const outcome = await runStep(trigger.step, { name: `${job.name}-trigger-${index + 1}`, run: report.run, job: job.name, timeoutMs: job.timeoutMs }, deps, options, triggerLog);
    triggerLog[outcome.outcome === 'succeeded' ? 'info' : 'error'](
      { outcome: outcome.outcome, exitCode: outcome.exitCode },
      `trigger #${index + 1} ${outcome.outcome}${outcome.message === undefined ? '' : `: ${outcome.message}`}`,
    );
    triggers.push(outcome);
  }
  await deps.logs.flush(job.name);
  return { ...report, triggers };
}

/** A job run in a running container or in the scheduler: no container of its own to hold its name. */
async function runInPlace(job: ExecJob | LocalJob, deps: RunDeps, options: RunOptions): Promise<RunReport> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const run = newRunId(startedAt);
  const log = deps.logs.job(job.name).child({ run });
  const step: RunStep = job.kind === 'exec' ? { kind: 'exec', exec: job.exec } : { kind: 'local', command: job.command };
  await deps.history.record({ job: job.name, run, ...originOf(options), outcome: 'running', startedAt: startedAt.toISOString() });
  log.info({ step: job.kind, where: describeStep(step), ...originOf(options) }, 'run started');
  const result = await runStep(step, { name: job.name, job: job.name, run, timeoutMs: job.timeoutMs }, deps, options, log);
  const endedAt = now();
  const durationMs = endedAt.getTime() - startedAt.getTime();
  const level = result.outcome === 'succeeded' ? 'info' : 'error';
  log[level]({ outcome: result.outcome, exitCode: result.exitCode, durationMs }, result.message ? `run finished: ${result.message}` : 'run finished');
  await deps.logs.flush(job.name);
  const report: RunReport = { job: job.name, run, outcome: result.outcome, exitCode: result.exitCode, startedAt, endedAt, durationMs, message: result.message };
  await deps.history.record(toRecord(report, options));
  return report;
}

/** A job whose every run is a new container named after the job. */
async function runContainerJob(job: ContainerRunJob, deps: RunDeps, options: RunOptions): Promise<RunReport> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const run = newRunId(startedAt);
  const log = deps.logs.job(job.name).child({ run });
  const meta = { job: job.name, run, ...originOf(options), instance: deps.instance };

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
    await resumeRun(holder, deps, { ...options, origin: holder.origin, by: holder.by });
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
  await deps.history.record({ job: job.name, run, ...originOf(options), outcome: 'running', startedAt: startedAt.toISOString() });
  log.info({ image: job.container.image, container: shortId(id), ...originOf(options) }, 'run started');
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
    await deps.history.record(toRecord(report, options));
    return report;
  }
}

/**
 * Re-attaches to a run started earlier (by a scheduler that has since restarted):
 * writes the output lines not yet in the log, waits for the end, records and removes it.
 */
export async function resumeRun(
  container: RunContainer,
  deps: RunDeps,
  options: RunOptions & { timeoutMs?: number | undefined; interruptedBy?: string | undefined },
): Promise<RunReport> {
  const log = deps.logs.job(container.job).child({ run: container.run });
  const skipLines = await deps.logs.countRunOutput(container.job, container.run);
  const startedAt = container.startedAt ?? (deps.now ?? (() => new Date()))();
  log.info({ container: shortId(container.id), linesAlreadyLogged: skipLines, running: container.running }, 're-attached to run');
  return follow(
    container.job,
    { id: container.id, run: container.run, startedAt, skipLines, timeoutMs: options.timeoutMs, interruptedBy: options.interruptedBy },
    deps,
    { ...options, origin: container.origin, by: container.by },
    log,
  );
}

interface Following {
  readonly id: string;
  readonly run: string;
  readonly startedAt: Date;
  readonly skipLines: number;
  readonly timeoutMs: number | undefined;
  /** known before following: what stopped the run if it was killed (see endedWithScheduler) */
  readonly interruptedBy?: string | undefined;
}

async function follow(jobName: string, f: Following, deps: RunDeps, options: RunOptions, log: Logger): Promise<RunReport> {
  const now = deps.now ?? (() => new Date());
  // The output reader may fail at once (the container removed under us): catch it now, not
  // only once the run ends, or the rejection would go unhandled and take the process down.
  const pump = (async () => {
    for await (const line of deps.containers.output(f.id, { skipLines: f.skipLines, signal: options.signal })) {
      logOutputLine(log, line.stream, line.text);
      options.onOutput?.(line, f.run);
    }
  })().catch((error: unknown) => log.error({ err: error }, 'lost the output stream of the run'));

  let timedOut = false;
  let cancelTimeout: (() => void) | undefined;
  if (f.timeoutMs !== undefined) {
    cancelTimeout = setAlarm(f.startedAt.getTime() + f.timeoutMs, now, () => {
      timedOut = true;
      const grace = options.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS;
      log.warn({ timeoutMs: f.timeoutMs, graceSeconds: grace }, 'run timed out: stopping its container (SIGTERM, then SIGKILL)');
      deps.containers.stop(f.id, grace).catch((error: unknown) => log.error({ err: error }, 'could not stop timed-out container'));
    });
  }

  // The daemon passes every run the one signal it aborts at shutdown: the listener must go with
  // the run, or one is left on that signal per run for as long as the scheduler lives.
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    if (options.signal?.aborted) return resolve('aborted');
    onAbort = () => resolve('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  let exit: number | 'aborted' | 'engine-lost';
  try {
    exit = await Promise.race([
      deps.containers.wait(f.id).catch((error: unknown) => {
        log.warn({ err: error }, 'lost the Docker engine while waiting for the run');
        return 'engine-lost' as const;
      }),
      aborted,
    ]);
  } finally {
    if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort);
    cancelTimeout?.();
    // The output stream ends when the container does; every line must be written before the container goes.
    await pump;
  }

  // The engine is asked about a killed run below, which may take seconds: a scheduler stopping
  // meanwhile leaves the run for the next one, as it does any run under way.
  const engine = exit === 'aborted' ? undefined : await engineVerdict(exit, timedOut, f, deps, options);
  if (engine === undefined || (options.signal?.aborted === true && engine.interrupted !== undefined)) {
    const endedAt = now();
    log.info({ container: shortId(f.id) }, 'stopped following run; it keeps running and will be re-attached');
    await flushQuietly(deps, jobName, log);
    return {
      job: jobName, run: f.run, outcome: 'interrupted', exitCode: undefined, startedAt: f.startedAt, endedAt,
      durationMs: endedAt.getTime() - f.startedAt.getTime(), message: 'scheduler stopped while the run was going',
    };
  }

  if (engine.keepWaiting || engine.unread) {
    // The output stream broke with the engine: what the container wrote since is still in its log.
    await flushQuietly(deps, jobName, log);
    const skipLines = await deps.logs.countRunOutput(jobName, f.run).catch(() => f.skipLines);
    if (engine.keepWaiting) return follow(jobName, { ...f, skipLines }, deps, options, log);
    try {
      for await (const line of deps.containers.output(f.id, { skipLines, signal: options.signal })) {
        logOutputLine(log, line.stream, line.text);
        options.onOutput?.(line, f.run);
      }
    } catch (error) {
      log.error({ err: error }, 'could not read the rest of the run\'s output after the engine came back');
    }
  }
  const endedAt = now();
  const durationMs = endedAt.getTime() - f.startedAt.getTime();
  const exitCode = engine.exitCode;
  const outcome = engine.interrupted ? 'interrupted' : timedOut ? 'timed-out' : exitCode === 0 ? 'succeeded' : 'failed';
  const message = engine.interrupted
    ? `${engine.interrupted}${exitCode === undefined ? '' : ` (its container ended with exit ${exitCode})`}; not a failure of the job`
    : timedOut ? `timed out after ${Math.round((f.timeoutMs ?? 0) / 1000)}s` : undefined;
  const level = outcome === 'succeeded' ? 'info' : outcome === 'interrupted' ? 'warn' : 'error';
  log[level]({ outcome, exitCode, durationMs }, message ? `run finished: ${message}` : 'run finished');
  await flushQuietly(deps, jobName, log);
  // The bookkeeping below must end the run whatever fails: a run left `running` in the history
  // with its container kept would hold the job's name, and every later run would be skipped.
  await deps.containers.remove(f.id).catch((error: unknown) => log.error({ err: error, container: shortId(f.id) }, 'could not remove the run\'s container'));
  const report: RunReport = { job: jobName, run: f.run, outcome, exitCode, startedAt: f.startedAt, endedAt, durationMs, message };
  await deps.history.record(toRecord(report, options)).catch((error: unknown) => log.error({ err: error }, 'could not record the run in the run history'));
  return report;
}

/** A log that cannot be written loses lines (counted by the log), never the run's end. */
async function flushQuietly(deps: RunDeps, jobName: string, log: Logger): Promise<void> {
  try {
    await deps.logs.flush(jobName);
  } catch (error) {
    log.error({ err: error }, 'could not write the log of the run');
  }
}

/**
 * Tells a run stopped by the engine from the job's own end. A container killed with SIGKILL
 * or SIGTERM that the scheduler did not stop, or whose wait broke, is checked against the
 * engine: if the engine went away and came back, the run was interrupted, not failed.
 */
async function engineVerdict(
  exit: number | 'engine-lost',
  timedOut: boolean,
  f: Following,
  deps: RunDeps,
  options: RunOptions,
): Promise<{ exitCode: number | undefined; interrupted?: string; keepWaiting?: boolean; unread?: boolean }> {
  const check = deps.containers.engineRestart;
  if (exit !== 'engine-lost' && !timedOut && KILLED_EXIT_CODES.has(exit) && f.interruptedBy !== undefined) return { exitCode: exit, interrupted: f.interruptedBy };
  if (exit !== 'engine-lost' && (timedOut || !KILLED_EXIT_CODES.has(exit) || check === undefined)) return { exitCode: exit };
  const verdict = check === undefined ? 'gone' : await check.call(deps.containers, { signal: options.signal });
  if (verdict === 'steady' && exit !== 'engine-lost') return { exitCode: exit };
  const after = await deps.containers.inspect(f.id).catch(() => undefined);
  // An engine with live-restore keeps its containers running across its restart.
  if (after?.running === true && verdict !== 'gone') return { exitCode: undefined, keepWaiting: true };
  const unread = exit === 'engine-lost' && after !== undefined;
  const exitCode = exit === 'engine-lost' ? after?.exitCode : exit;
  if (verdict === 'steady') return { exitCode, unread };
  if (verdict === 'gone') return { exitCode, interrupted: 'the Docker engine went away while the run was going and did not come back', unread };
  return { exitCode, interrupted: 'the Docker engine stopped or restarted while the run was going', unread };
}

/** The origin fields of a run's record and log line; `by` only when there is one. */
function originOf(options: { readonly origin: RunOrigin; readonly by?: string | undefined }): { origin: RunOrigin; by?: string } {
  return options.by === undefined ? { origin: options.origin } : { origin: options.origin, by: options.by };
}

function toRecord(report: RunReport, options: { readonly origin: RunOrigin; readonly by?: string | undefined }): RunRecord {
  const record: RunRecord = {
    job: report.job,
    run: report.run,
    ...originOf(options),
    outcome: report.outcome,
    startedAt: report.startedAt.toISOString(),
    endedAt: report.endedAt.toISOString(),
    durationMs: report.durationMs,
  };
  if (report.exitCode !== undefined) record.exitCode = report.exitCode;
  if (report.message !== undefined) record.message = report.message;
  return record;
}
