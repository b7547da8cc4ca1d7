// The autodeploy flow, in the order it runs: check -> decide -> lock -> pull -> compose up ->
// verify -> roll back. One file, past 300 lines, because its steps share one deploy's state
// (the checkouts moved so far are what a rollback moves back) and read best in sequence.

import { join } from 'node:path';
import type { Settings } from '../config/settings.js';
import type { ComposeContainers } from '../core/ports.js';
import { chownTree } from '../git/chown-tree.js';
import { commitsBetween, type CommitSummary } from '../git/commit-log.js';
import { fastForward, headOf, moveBack } from '../git/fast-forward.js';
import { checkCheckouts, type CheckReport } from './check.js';
import {
  composeConfig,
  composeProjectName,
  composeRestart,
  composeStop,
  composeUp,
  resolveComposeCommand,
  type ComposeCommand,
  type ComposeRunOptions,
} from '../docker/compose.js';
import { expectedServices, notRestartedSince, parseComposeConfig, profilesFromEnv, servicesToRestart, type ServiceStart } from '../core/compose-services.js';
import type { Decision } from '../core/decide.js';
import type { CheckoutStep, DeployEvent, DeployOutcome } from '../core/deploy-events.js';
import { deployEventText } from '../core/deploy-event-text.js';
import type { ServiceCheck } from '../core/service-check.js';
import { DeployState, type CommitSet } from '../state/deploy-state.js';
import { acquireDeployLock, type LockHolder } from '../state/lock.js';
import { verifyServices, type VerifyReport } from './verify.js';

export type { DeployOutcome } from '../core/deploy-events.js';

/** One checkout moved by the deploy. */
export interface CheckoutMove {
  readonly path: string;
  readonly from: string;
  readonly to: string;
  readonly commits: readonly CommitSummary[];
  /** deployed, or only fast-forwarded because its conditional trigger said no */
  readonly deployed: boolean;
}

/** What a deploy did, for the CLI to print and turn into an exit code. */
export interface DeployReport {
  readonly outcome: DeployOutcome;
  readonly message: string;
  readonly check: CheckReport | undefined;
  readonly moves: readonly CheckoutMove[];
  readonly restarted: readonly string[];
  readonly verify: VerifyReport | undefined;
  readonly rollback: { readonly verify: VerifyReport | undefined; readonly problems: readonly string[] } | undefined;
  readonly startedAt: Date;
  readonly endedAt: Date;
}

export interface DeployInput {
  readonly settings: Settings;
  /** the resolved env.local (compose needs COMPOSE_PROJECT_NAME and the platform's variables) */
  readonly env: Readonly<Record<string, string>>;
  readonly composeDir: string;
  /** the platform's checkout first, then AUTODEPLOY_EXTRA_REPOS */
  readonly checkouts: readonly string[];
  readonly dryRun: boolean;
  readonly containers: ComposeContainers;
  readonly isLockHolderAlive: (holder: LockHolder) => Promise<boolean>;
  /** each step, as it happens */
  readonly onEvent: (event: DeployEvent) => void;
  readonly now?: () => Date;
}

/**
 * The autodeploy flow: check -> lock -> pull -> compose up -> verify -> roll back.
 * Every step is an event as it happens; the report says what came of it.
 */
export async function runDeploy(input: DeployInput): Promise<DeployReport> {
  const now = input.now ?? (() => new Date());
  const startedAt = now();
  const state = new DeployState(input.settings.stateDir);
  const emit = input.onEvent;
  const moves: CheckoutMove[] = [];
  let restarted: string[] = [];
  let check: CheckReport | undefined;
  const finish = (outcome: DeployOutcome, message: string, extra: Partial<Pick<DeployReport, 'verify' | 'rollback'>> = {}): DeployReport => ({
    outcome,
    message,
    check,
    moves,
    restarted,
    verify: extra.verify,
    rollback: extra.rollback,
    startedAt,
    endedAt: now(),
  });

  const interrupted = await state.inProgress();
  if (interrupted !== undefined) {
    emit({ type: 'interrupted', startedAt: interrupted.startedAt, heads: interrupted.heads });
  }

  check = await checkCheckouts({
    checkouts: input.checkouts,
    keyRootDir: input.settings.deployKeyRootDir,
    pinnedKnownHosts: input.settings.knownHosts,
    stateDir: input.settings.stateDir,
    failed: await state.failed(),
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

  if (input.dryRun) return finish('dry-run', describeDryRun(decision));
  if (decision.action === 'abort') return finish('aborted', decision.reason);
  if (decision.action !== 'deploy' && decision.pullOnly.length === 0) {
    return finish(decision.action === 'hold' ? 'held' : 'nothing', decision.reason);
  }

  const locked = await acquireDeployLock({ stateDir: input.settings.stateDir, purpose: 'deploy', isAlive: input.isLockHolderAlive });
  if (!locked.acquired) {
    const { host, pid, startedAt: since } = locked.holder;
    const event: DeployEvent = { type: 'locked', holder: { host, pid, startedAt: since } };
    emit(event);
    return finish('locked', deployEventText(event));
  }
  try {
    // Checkouts the trigger declined are only fast-forwarded: no compose, no restart.
    for (const path of decision.pullOnly) {
      const move = await pull(path, undefined, false, input);
      if (move) moves.push(move);
    }
    if (decision.action !== 'deploy') return finish('pulled', `fast-forwarded without a deploy: ${decision.pullOnly.join(', ')}`);
    return await deploy(decision, check, input, state, moves, (r) => (restarted = r), finish);
  } finally {
    await locked.lock.release();
  }
}

async function deploy(
  decision: Extract<Decision, { action: 'deploy' }>,
  check: CheckReport,
  input: DeployInput,
  state: DeployState,
  moves: CheckoutMove[],
  setRestarted: (services: string[]) => void,
  finish: (outcome: DeployOutcome, message: string, extra?: Partial<Pick<DeployReport, 'verify' | 'rollback'>>) => DeployReport,
): Promise<DeployReport> {
  const { onEvent: emit, settings } = input;
  const compose = await resolveComposeCommand({ setting: settings.compose, composeDir: input.composeDir, env: input.env });
  emit({ type: 'compose-command', argv: compose.argv, source: compose.source });
  const run = runOptions(input, true);

  const heads: CommitSet = {};
  for (const path of decision.deploy) heads[path] = await headOf(path);
  await state.begin({ heads, targets: decision.targets, startedAt: new Date().toISOString() });

  const project = (await composeProjectName(compose, runOptions(input))).name;
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
      const move = await pull(path, decision.targets[path], true, input);
      if (move) {
        moves.push(move);
        deployed.push(move);
      }
    }
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
    const rollback = await rollBack(compose, project, deployed, changedPaths(), reason, input);
    await state.recordFailure({ commits: decision.targets, at: new Date().toISOString(), reason });
    await state.end();
    deployed = [];
    const event: DeployEvent = { type: 'deploy-failed', reason };
    emit(event);
    return finish('rolled-back', deployEventText(event), { verify, rollback });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    emit({ type: 'deploy-error', reason });
    const rollback = await rollBack(compose, project, deployed, changedPaths(), reason, input);
    await state.recordFailure({ commits: decision.targets, at: new Date().toISOString(), reason });
    await state.end();
    return finish(rollback.problems.length === 0 ? 'rolled-back' : 'failed', `deploy failed and was rolled back: ${reason}`, { rollback });
  }
}

/** `up -d`, restart what mounts a changed path (and was not just recreated), then verify. */
async function bringUp(compose: ComposeCommand, project: string, changedPaths: readonly string[], input: DeployInput): Promise<{ verify: VerifyReport; restarted: string[] }> {
  const emit = input.onEvent;
  const run = runOptions(input, true);
  const config = parseComposeConfig(await composeConfig(compose, runOptions(input)), { projectDir: input.composeDir });
  const expected = expectedServices(config, profilesFromEnv(input.env));
  const before = starts(await input.containers.list(project));
  emit({ type: 'compose-up', project });
  await composeUp(compose, run);
  const after = starts(await input.containers.list(project));
  const touched = servicesToRestart(config.services, changedPaths);
  const stale = new Set(notRestartedSince(touched.map((t) => t.service), before, after));
  const restart = touched.filter((t) => stale.has(t.service));
  for (const t of restart) emit({ type: 'restarting', service: t.service, changed: t.changed });
  const restarted = restart.map((t) => t.service);
  await composeRestart(compose, restarted, run);
  if (restarted.length > 0) emit({ type: 'restarted', services: restarted });

  emit({ type: 'verifying', project, services: expected, timeoutMs: input.settings.verifyTimeoutMs });
  const verify = await verifyServices({ containers: input.containers, project, services: expected, timeoutMs: input.settings.verifyTimeoutMs });
  const services = verify.services.map(serviceCheck);
  for (const s of services) emit({ type: 'service-checked', ...s });
  emit({ type: 'verified', ok: verify.ok, outcome: verify.outcome, waitedMs: verify.waitedMs, services });
  return { verify, restarted };
}

/** Every moved checkout back to where it was, then the platform up again as it was. */
async function rollBack(
  compose: ComposeCommand,
  project: string,
  moved: readonly CheckoutMove[],
  changedPaths: readonly string[],
  why: string,
  input: DeployInput,
): Promise<{ verify: VerifyReport | undefined; problems: string[] }> {
  const emit = input.onEvent;
  const problems: string[] = [];
  const back: CheckoutMove[] = [];
  const rolledBack = (verify: VerifyReport | undefined): { verify: VerifyReport | undefined; problems: string[] } => {
    emit({ type: 'rolled-back', ok: problems.length === 0, reason: why, checkouts: back.map(checkoutStep), problems });
    return { verify, problems };
  };
  emit({ type: 'rolling-back', checkouts: moved.map((m) => m.path) });
  for (const move of [...moved].reverse()) {
    try {
      await moveBack(move.path, move.from);
      if (input.settings.codeOwnership !== undefined) await chownTree(move.path, input.settings.codeOwnership);
      back.push(move);
      emit({ type: 'checkout-moved-back', path: move.path, to: move.from, error: undefined });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problems.push(reason);
      emit({ type: 'checkout-moved-back', path: move.path, to: move.from, error: reason });
    }
  }
  try {
    const { verify } = await bringUp(compose, project, changedPaths, input);
    if (!verify.ok) problems.push('the platform is not healthy after the rollback either');
    return rolledBack(verify);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return rolledBack(undefined);
  }
}

async function pull(path: string, to: string | undefined, deployed: boolean, input: DeployInput): Promise<CheckoutMove | undefined> {
  const move = await fastForward(path, to === undefined ? {} : { to });
  if (move.from === move.to) return undefined;
  if (input.settings.codeOwnership !== undefined) await chownTree(path, input.settings.codeOwnership);
  const commits = await commitsBetween(path, move.from, move.to);
  input.onEvent({ type: 'pulled', path, from: move.from, to: move.to, deployed, commits });
  for (const c of commits) input.onEvent({ type: 'commit', path, commit: c.commit, subject: c.subject });
  return { path, from: move.from, to: move.to, commits, deployed };
}

/** Options for compose commands; `loud` ones (up, stop, restart) have their output in the deploy log. */
function runOptions(input: DeployInput, loud = false): ComposeRunOptions {
  return {
    cwd: input.composeDir,
    env: { ...process.env, ...input.env },
    ...(loud ? { onLine: (line: string, stream: 'stdout' | 'stderr') => input.onEvent({ type: 'compose-output', line, stream }) } : {}),
  };
}

function starts(containers: readonly { service: string; id: string; startedAt: string | undefined }[]): ServiceStart[] {
  return containers.map((c) => ({ service: c.service, containerId: c.id, startedAt: c.startedAt }));
}

/** The services that failed; on a fail-fast, those still starting are not blamed. */
function failedServices(verify: VerifyReport): ServiceCheck[] {
  return verify.services.filter((s) => !s.ok && (verify.outcome !== 'failed-fast' || s.state !== 'starting')).map(serviceCheck);
}

function serviceCheck({ service, state, ok, detail }: ServiceCheck): ServiceCheck {
  return { service, state, ok, detail };
}

function checkoutStep({ path, from, to }: CheckoutMove): CheckoutStep {
  return { path, from, to };
}

function describeDryRun(decision: Decision): string {
  if (decision.action === 'deploy') return `would deploy ${decision.deploy.join(', ')}${decision.pullOnly.length > 0 ? ` and fast-forward ${decision.pullOnly.join(', ')}` : ''}`;
  if (decision.pullOnly.length > 0) return `would fast-forward ${decision.pullOnly.join(', ')} without a deploy`;
  return `would do nothing: ${decision.reason}`;
}
