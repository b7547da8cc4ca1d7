// The autodeploy flow, in the order it runs: finish or undo a deploy that died midway, then
// check -> decide -> lock -> intent -> pull -> compose up -> verify -> roll back. The steps
// themselves are in platform-steps.ts, the recovery in recover.ts. Over 300 lines as one
// file: the flow reads top to bottom in the order it runs, and each step's failure path
// (abort, hold, roll back) must stay beside the step.

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Settings } from '../config/settings.js';
import type { ComposeContainers } from '../core/ports.js';
import type { Decision } from '../core/decide.js';
import type { DeployEvent, DeployOutcome } from '../core/deploy-events.js';
import { deployEventText } from '../core/deploy-event-text.js';
import type { CheckoutVerdict } from '../core/checkout.js';
import { headOf } from '../git/fast-forward.js';
import { composeStop } from '../docker/compose.js';
import { DeployState, type CommitSet, type DeployInProgress } from '../state/deploy-state.js';
import { RunHistory } from '../state/run-history.js';
import { acquireDeployLock, type DeployLock, type LockHolder } from '../state/lock.js';
import { checkCheckouts, type CheckReport } from './check.js';
import { bringUp, checkoutStep, composeOf, deployDeadlineMs, failedServices, pullCheckout, rollBack, runOptions, type CheckoutMove, type RollbackReport } from './platform-steps.js';
import { recoverDeploy } from './recover.js';
import type { AutodeploySettings } from './settings.js';
import type { VerifyReport } from './verify.js';

export type { DeployOutcome } from '../core/deploy-events.js';
export type { CheckoutMove } from './platform-steps.js';

/** What a deploy did, for the CLI to print and turn into an exit code. */
export interface DeployReport {
  /** this run's id in the deploy history */
  readonly id: string;
  readonly outcome: DeployOutcome;
  readonly message: string;
  readonly check: CheckReport | undefined;
  /** checkouts that could not be judged (error, missing): a run with any is not a success */
  readonly unjudged: readonly CheckoutVerdict[];
  readonly moves: readonly CheckoutMove[];
  readonly restarted: readonly string[];
  readonly verify: VerifyReport | undefined;
  readonly rollback: RollbackReport | undefined;
  readonly startedAt: Date;
  readonly endedAt: Date;
}

export interface DeployInput {
  /** the scheduler's settings (the state directory, the deploy keys) and the autodeploy job's */
  readonly settings: Settings & AutodeploySettings;
  /**
   * What env.local itself sets (Config.platformEnv): compose without a wrapper needs the
   * platform's variables (COMPOSE_PROJECT_NAME, COMPOSE_PROFILES, what the compose files name).
   */
  readonly env: Readonly<Record<string, string>>;
  /** what a platform's compose wrapper gets over this process's environment: see Config.composeEnv */
  readonly composeEnv?: Readonly<Record<string, string>>;
  readonly composeDir: string;
  /** the platform's checkout first, then AUTODEPLOY_EXTRA_REPOS */
  readonly checkouts: readonly string[];
  readonly dryRun: boolean;
  readonly containers: ComposeContainers;
  readonly isLockHolderAlive: (holder: LockHolder) => Promise<boolean>;
  /** each step, as it happens */
  readonly onEvent: (event: DeployEvent) => void;
  /** the job and the run this deploy is (AUTODEPLOY_JOB, AUTODEPLOY_RUN), kept in its intent and history */
  readonly job?: string | undefined;
  readonly run?: string | undefined;
  readonly now?: () => Date;
}

/** Verdicts that say a checkout could not be looked at, as opposed to one that was judged. */
const UNJUDGED = new Set(['error', 'missing']);

/**
 * The autodeploy flow. Every step is an event as it happens; the report says what came of it.
 * A deploy that died midway is finished or undone first, and that is this run's whole work.
 */
export async function runDeploy(input: DeployInput): Promise<DeployReport> {
  const now = input.now ?? (() => new Date());
  const startedAt = now();
  const id = `${startedAt.toISOString()}-${randomUUID().slice(0, 8)}`;
  const state = new DeployState(input.settings.stateDir);
  const emit = input.onEvent;
  const moves: CheckoutMove[] = [];
  let restarted: readonly string[] = [];
  let check: CheckReport | undefined;
  const finish = (outcome: DeployOutcome, message: string, extra: Partial<Pick<DeployReport, 'verify' | 'rollback'>> = {}): DeployReport => ({
    id,
    outcome,
    message,
    check,
    unjudged: check?.verdicts.filter((v) => UNJUDGED.has(v.verdict)) ?? [],
    moves,
    restarted,
    verify: extra.verify,
    rollback: extra.rollback,
    startedAt,
    endedAt: now(),
  });
  const lockDeadlineMs = deployDeadlineMs(input.settings, input.checkouts.length);
  /** The lock, or the report of a run that found it held. */
  const lock = async (): Promise<{ readonly lock: DeployLock } | { readonly report: DeployReport }> => {
    const locked = await acquireDeployLock({ stateDir: input.settings.stateDir, purpose: 'deploy', isAlive: input.isLockHolderAlive, deadlineMs: lockDeadlineMs });
    if (locked.acquired) return { lock: locked.lock };
    const { host, pid, startedAt: since } = locked.holder;
    const event: DeployEvent = { type: 'locked', holder: { host, pid, startedAt: since } };
    emit(event);
    return { report: finish('locked', deployEventText(event)) };
  };

  const interrupted = await state.inProgress();
  if (interrupted !== undefined) {
    emit({ type: 'interrupted', startedAt: interrupted.startedAt, heads: interrupted.heads });
  }
  // A dry run changes nothing: it only says that the deploy would be ended first.
  if (interrupted !== undefined && !input.dryRun) {
    const locked = await lock();
    if ('report' in locked) return locked.report;
    try {
      // Read again under the lock: the deploy may have been ended by the holder just gone.
      const intent = await state.inProgress();
      if (intent !== undefined) {
        const record = { id: intent.id ?? `${intent.startedAt}-interrupted`, run: intent.run, startedAt: intent.startedAt, outcome: 'interrupted' as const, ok: false };
        const died = `died while ${intent.step ?? 'pulling'}`;
        await state.recordRun({ ...record, endedAt: now().toISOString(), message: `${died}; being finished or undone by the next run` });
        try {
          const recovery = await recoverDeploy(intent, state, input);
          restarted = recovery.restarted;
          await state.recordRun({ ...record, endedAt: now().toISOString(), message: `${died}; ${recovery.message}` });
          await markJobRunInterrupted(input.settings.stateDir, intent, `${died}; ${recovery.message}`);
          return finish(recovery.outcome, recovery.message, { verify: recovery.verify, rollback: recovery.rollback });
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          emit({ type: 'deploy-error', reason });
          return finish('failed', `the interrupted deploy could not be finished or undone: ${reason}; the next run tries again`);
        }
      }
    } finally {
      await locked.lock.release();
    }
  }

  check = await checkCheckouts({
    checkouts: input.checkouts,
    keyRootDir: input.settings.deployKeyRootDir,
    pinnedKnownHosts: input.settings.knownHosts,
    stateDir: input.settings.stateDir,
    failed: await state.failed(),
    gitTimeoutMs: input.settings.gitTimeoutMs,
    triggerTimeoutMs: input.settings.triggerTimeoutMs,
  });
  for (const v of check.verdicts) {
    emit({
      type: 'checkout-judged',
      path: v.path,
      verdict: v.verdict,
      reason: v.reason,
      branch: v.branch,
      upstream: v.upstream,
      head: v.head,
      upstreamHead: v.upstreamHead,
      ahead: v.ahead,
      behind: v.behind,
      key: v.key,
      remoteUrl: v.remoteUrl,
      remoteBranch: v.upstreamBranch,
    });
    const trigger = check.triggers.get(v.path);
    if (trigger?.present) emit({ type: 'trigger-answered', path: v.path, trigger: trigger.trigger, exitCode: trigger.exitCode });
  }
  const decision = check.decision;
  emit({ type: 'decision', action: decision.action, reason: decision.reason, deploy: decision.action === 'deploy' ? decision.deploy : [], pullOnly: decision.pullOnly });
  const unjudged = check.verdicts.filter((v) => UNJUDGED.has(v.verdict));
  if (unjudged.length > 0) emit({ type: 'unjudged', checkouts: unjudged.map((v) => ({ path: v.path, verdict: v.verdict, reason: v.reason })) });

  if (input.dryRun) return finish('dry-run', `${interrupted === undefined ? '' : 'would first finish or undo the interrupted deploy; then '}${describeDryRun(decision)}`);
  if (decision.action === 'abort') return finish('aborted', decision.reason);
  if (decision.action !== 'deploy' && decision.pullOnly.length === 0) {
    return finish(decision.action === 'hold' ? 'held' : 'nothing', decision.reason);
  }

  const locked = await lock();
  if ('report' in locked) return locked.report;
  try {
    // Checkouts the trigger declined are only fast-forwarded: no compose, no restart.
    for (const path of decision.pullOnly) {
      const move = await pullCheckout(path, undefined, false, input);
      if (move) moves.push(move);
    }
    if (decision.action !== 'deploy') return finish('pulled', `fast-forwarded without a deploy: ${decision.pullOnly.join(', ')}`);
    return await deploy({ decision, check, input, state, moves, id, setRestarted: (r) => (restarted = r), finish });
  } finally {
    await locked.lock.release();
  }
}

interface DeployStepsInput {
  readonly decision: Extract<Decision, { action: 'deploy' }>;
  readonly check: CheckReport;
  readonly input: DeployInput;
  readonly state: DeployState;
  readonly moves: CheckoutMove[];
  readonly id: string;
  readonly setRestarted: (services: string[]) => void;
  readonly finish: (outcome: DeployOutcome, message: string, extra?: Partial<Pick<DeployReport, 'verify' | 'rollback'>>) => DeployReport;
}

async function deploy({ decision, check, input, state, moves, id, setRestarted, finish }: DeployStepsInput): Promise<DeployReport> {
  const { onEvent: emit, settings } = input;
  let compose, project;
  try {
    ({ compose, project } = await composeOf(input));
  } catch (error) {
    // Nothing has moved yet.
    const reason = error instanceof Error ? error.message : String(error);
    emit({ type: 'deploy-error', reason });
    return finish('failed', `deploy not started: ${reason}`);
  }
  const run = runOptions(compose, input, true);

  const heads: CommitSet = {};
  for (const path of decision.deploy) heads[path] = await headOf(path, { timeoutMs: settings.gitTimeoutMs });
  // The intent, before anything moves: what a run after this one's death needs to end it.
  await state.begin({ id, job: input.job, run: input.run, heads, targets: decision.targets, startedAt: new Date().toISOString(), step: 'pulling' });

  // What the diff touched, as absolute paths: a service that bind-mounts one of them is restarted.
  const changedPaths = (): string[] =>
    moves
      .filter((m) => m.deployed)
      .flatMap((m) => (check.verdicts.find((v) => v.path === m.path)?.changedFiles ?? []).flatMap((f) => [f.path, ...(f.from ? [f.from] : [])].map((p) => join(m.path, p))));

  let deployed: CheckoutMove[] = [];
  try {
    if (settings.restart === 'all') {
      emit({ type: 'stopping-all' });
      await composeStop(compose, run);
    }
    for (const path of decision.deploy) {
      const move = await pullCheckout(path, decision.targets[path], true, input);
      if (move) {
        moves.push(move);
        deployed.push(move);
      }
    }
    await state.step('starting', new Date());
    const { verify, restarted } = await bringUp(compose, project, settings.restart === 'changed' ? changedPaths() : [], input);
    setRestarted(restarted);
    if (verify.ok) {
      await state.clearFailure();
      await state.end();
      const event: DeployEvent = { type: 'deployed', checkouts: deployed.map(checkoutStep), restarted };
      emit(event);
      return finish('deployed', deployEventText(event), { verify });
    }
    const failing = failedServices(verify);
    const reason = failing.map((s) => `${s.service}: ${s.detail}`).join('; ');
    emit({ type: 'verification-failed', reason, services: failing.map((s) => s.service) });
    await state.step('rolling-back', new Date());
    const rollback = await rollBack(compose, project, deployed, changedPaths(), reason, input);
    await state.recordFailure({ commits: decision.targets, at: new Date().toISOString(), reason });
    await endUnlessUnsettled(state, rollback);
    deployed = [];
    const event: DeployEvent = { type: 'deploy-failed', reason };
    emit(event);
    return finish('rolled-back', deployEventText(event), { verify, rollback });
  } catch (error) {
    // A step that failed or passed its deadline (stopped with everything it started).
    const reason = error instanceof Error ? error.message : String(error);
    emit({ type: 'deploy-error', reason });
    await state.step('rolling-back', new Date());
    const rollback = await rollBack(compose, project, deployed, changedPaths(), reason, input);
    await state.recordFailure({ commits: decision.targets, at: new Date().toISOString(), reason });
    await endUnlessUnsettled(state, rollback);
    return finish(rollback.problems.length === 0 ? 'rolled-back' : 'failed', `deploy failed and was rolled back: ${reason}`, { rollback });
  }
}

/**
 * A rollback whose compose failed leaves containers that may not be what the checkouts say:
 * the intent stays (at its rolling-back step), and the next run undoes the deploy again.
 */
async function endUnlessUnsettled(state: DeployState, rollback: RollbackReport): Promise<void> {
  if (rollback.verify !== undefined) await state.end();
}

/**
 * The scheduler recorded the dead deploy's run by its container's end (killed: failed), or not
 * at all (the host went down); the job's history is to say what it was: interrupted.
 */
async function markJobRunInterrupted(stateDir: string, intent: DeployInProgress, message: string): Promise<void> {
  if (intent.job === undefined || intent.run === undefined) return;
  const history = new RunHistory(stateDir);
  const record = (await history.runs(intent.job)).find((r) => r.run === intent.run);
  await history.record({
    job: intent.job,
    run: intent.run,
    origin: record?.origin ?? 'schedule',
    startedAt: record?.startedAt ?? intent.startedAt,
    endedAt: record?.endedAt,
    durationMs: record?.durationMs,
    exitCode: record?.exitCode,
    outcome: 'interrupted',
    message,
  });
}

function describeDryRun(decision: Decision): string {
  if (decision.action === 'deploy') return `would deploy ${decision.deploy.join(', ')}${decision.pullOnly.length > 0 ? ` and fast-forward ${decision.pullOnly.join(', ')}` : ''}`;
  if (decision.pullOnly.length > 0) return `would fast-forward ${decision.pullOnly.join(', ')} without a deploy`;
  return `would do nothing: ${decision.reason}`;
}
