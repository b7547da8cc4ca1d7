// One step of a run carried out to its end, its output logged: a job run in place (in a
// running container, or in the scheduler), or one of a job's triggers.

import type { Logger } from 'pino';
import type { ContainerSpec, ExecSpec, RunStep } from '../core/job.js';
import type { OutputLine } from '../core/run.js';
import { logOutputLine } from '../logging/log-files.js';
import { DEFAULT_STOP_GRACE_SECONDS, type RunDeps, type RunOptions, type StepOutcome } from './run-types.js';

export interface StepContext {
  /** a name for a container the step creates (a trigger's), made unique by the run */
  readonly name: string;
  readonly job: string;
  readonly run: string;
  readonly timeoutMs: number | undefined;
}

/** Runs one step to its end, logging its output: a job run in place, or a trigger. */
export async function runStep(step: RunStep, ctx: StepContext, deps: RunDeps, options: RunOptions, log: Logger): Promise<StepOutcome> {
  const onLine = (line: OutputLine): void => {
    logOutputLine(log, line.stream, line.text);
    options.onOutput?.(line, ctx.run);
  };
  const env = { AUTODEPLOY_JOB: ctx.job, AUTODEPLOY_RUN: ctx.run };
  try {
    switch (step.kind) {
      case 'local': {
        if (deps.local === undefined) return { outcome: 'error', exitCode: undefined, message: 'commands in the scheduler itself cannot be run here' };
        const result = await deps.local.run(step.command, { env, onLine, timeoutMs: ctx.timeoutMs, signal: options.signal });
        return exitOutcome(result.exitCode, result.timedOut, ctx.timeoutMs);
      }
      case 'exec':
        return await runExec(step.exec, ctx, deps, options, onLine, log);
      case 'container':
        return await runTriggerContainer(step.container, ctx, deps, options, onLine);
    }
  } catch (error) {
    return { outcome: 'error', exitCode: undefined, message: error instanceof Error ? error.message : String(error) };
  }
}

function exitOutcome(exitCode: number | undefined, timedOut: boolean, timeoutMs: number | undefined): StepOutcome {
  if (timedOut) return { outcome: 'timed-out', exitCode, message: `timed out after ${Math.round((timeoutMs ?? 0) / 1000)}s` };
  if (exitCode === 0) return { outcome: 'succeeded', exitCode, message: undefined };
  return { outcome: 'failed', exitCode, message: exitCode === undefined ? 'stopped by a signal' : undefined };
}

/** `docker exec` in the target container, or in each running container of the target service. */
async function runExec(
  exec: ExecSpec,
  ctx: StepContext,
  deps: RunDeps,
  options: RunOptions,
  onLine: (line: OutputLine) => void,
  log: Logger,
): Promise<StepOutcome> {
  if (deps.execs === undefined) return { outcome: 'error', exitCode: undefined, message: 'commands in running containers cannot be run here' };
  const targets = await deps.execs.targets(exec);
  if (targets.length === 0) {
    const what = exec.project === undefined ? `container ${exec.container} is not running` : `no container of service ${exec.container} of compose project ${exec.project} is running`;
    return { outcome: 'failed', exitCode: undefined, message: `${what}: nothing was run` };
  }
  const deadline = ctx.timeoutMs === undefined ? undefined : Date.now() + ctx.timeoutMs;
  for (const target of targets) {
    const targetLog = targets.length > 1 ? log.child({ container: target.name }) : log;
    const lines = targets.length > 1 ? (line: OutputLine): void => { logOutputLine(targetLog, line.stream, line.text); options.onOutput?.(line, ctx.run); } : onLine;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = deadline === undefined ? undefined : setTimeout(() => { timedOut = true; stop.abort(); }, Math.max(0, deadline - Date.now()));
    try {
      const exitCode = await deps.execs.run(target, exec, { onLine: lines, signal: stop.signal });
      if (timedOut) {
        return { outcome: 'timed-out', exitCode: undefined, message: `timed out after ${Math.round((ctx.timeoutMs ?? 0) / 1000)}s in ${target.name} (Docker cannot stop a command run by docker exec: it may still be running there)` };
      }
      if (exitCode !== 0) return { outcome: 'failed', exitCode, message: targets.length > 1 ? `exit code ${exitCode} in ${target.name}` : undefined };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
  return { outcome: 'succeeded', exitCode: 0, message: undefined };
}

/** A trigger's new container: named after the trigger and the run, followed, then removed. */
async function runTriggerContainer(
  spec: ContainerSpec,
  ctx: StepContext,
  deps: RunDeps,
  options: RunOptions,
  onLine: (line: OutputLine) => void,
): Promise<StepOutcome> {
  const id = await deps.containers.create(
    { ...spec, containerName: `${ctx.name}-${ctx.run}` },
    { job: ctx.job, run: `${ctx.run}-${ctx.name.slice(ctx.job.length + 1)}`, origin: options.origin, instance: deps.instance },
  );
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await deps.containers.start(id);
    if (ctx.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        void deps.containers.stop(id, options.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS).catch(() => undefined);
      }, ctx.timeoutMs);
    }
    for await (const line of deps.containers.output(id, { skipLines: 0, signal: options.signal })) onLine(line);
    const exitCode = await deps.containers.wait(id);
    return exitOutcome(exitCode, timedOut, ctx.timeoutMs);
  } finally {
    clearTimeout(timer);
    await deps.containers.remove(id).catch(() => undefined);
  }
}

