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
import { DeployState, type CommitSet } from '../state/deploy-state.js';
import { acquireDeployLock, type LockHolder } from '../state/lock.js';
import { verifyServices, type VerifyReport } from './verify.js';

export type DeployOutcome = 'nothing' | 'pulled' | 'held' | 'locked' | 'dry-run' | 'deployed' | 'aborted' | 'rolled-back' | 'failed';

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
  /** what compose is run with over this process's environment, when not `env`: see Config.composeEnv */
  readonly composeEnv?: Readonly<Record<string, string>>;
  readonly composeDir: string;
  /** the platform's checkout first, then AUTODEPLOY_EXTRA_REPOS */
  readonly checkouts: readonly string[];
  readonly dryRun: boolean;
  readonly containers: ComposeContainers;
  readonly isLockHolderAlive: (holder: LockHolder) => Promise<boolean>;
  /** progress, one line at a time, as it happens */
  readonly say: (line: string) => void;
  readonly now?: () => Date;
}

const short = (commit: string): string => commit.slice(0, 8);

/**
 * The autodeploy flow: check -> lock -> pull -> compose up -> verify -> roll back.
 * Every step is said as it happens; the report says what came of it.
 */
export async function runDeploy(input: DeployInput): Promise<DeployReport> {
  const now = input.now ?? (() => new Date());
  const startedAt = now();
  const state = new DeployState(input.settings.stateDir);
  const { say } = input;
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
    say(`warning: a deploy started at ${interrupted.startedAt} did not finish; heads before it: ${describeCommits(interrupted.heads)}`);
  }

  check = await checkCheckouts({
    checkouts: input.checkouts,
    keyRootDir: input.settings.deployKeyRootDir,
    pinnedKnownHosts: input.settings.knownHosts,
    stateDir: input.settings.stateDir,
    failed: await state.failed(),
  });
  for (const v of check.verdicts) {
    say(`checkout ${v.path}: ${v.verdict}: ${v.reason}${describeKey(v.key)}`);
    const trigger = check.triggers.get(v.path);
    if (trigger?.present) say(`  conditional trigger ${trigger.trigger ? 'says deploy' : 'says no deploy'} (exit ${trigger.exitCode ?? 'killed'})`);
  }
  const decision = check.decision;
  say(`decision: ${decision.action}: ${decision.reason}`);

  if (input.dryRun) return finish('dry-run', describeDryRun(decision));
  if (decision.action === 'abort') return finish('aborted', decision.reason);
  if (decision.action !== 'deploy' && decision.pullOnly.length === 0) {
    return finish(decision.action === 'hold' ? 'held' : 'nothing', decision.reason);
  }

  const locked = await acquireDeployLock({ stateDir: input.settings.stateDir, purpose: 'deploy', isAlive: input.isLockHolderAlive });
  if (!locked.acquired) {
    const message = `another deploy holds the lock (started ${locked.holder.startedAt} in ${locked.holder.host}, pid ${locked.holder.pid}); not deploying now`;
    say(message);
    return finish('locked', message);
  }
  try {
    // Checkouts the trigger declined are only fast-forwarded: no compose, no restart.
    for (const path of decision.pullOnly) {
      const move = await pull(path, undefined, false, input, say);
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
  const { say, settings } = input;
  const compose = await resolveComposeCommand({ setting: settings.compose, composeDir: input.composeDir, env: input.env });
  say(`compose command: ${compose.argv.join(' ')} (${compose.source})`);
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
      say('stopping every service (AUTODEPLOY_RESTART=all)');
      await composeStop(compose, run);
    }
    for (const path of decision.deploy) {
      const move = await pull(path, decision.targets[path], true, input, say);
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
      const message = `deploy succeeded: ${deployed.map((m) => `${m.path} ${short(m.from)}..${short(m.to)}`).join(', ')}`;
      say(message);
      return finish('deployed', message, { verify });
    }
    const failing = describeFailure(verify);
    say(`verification failed: ${failing}`);
    const rollback = await rollBack(compose, project, deployed, changedPaths(), input);
    await state.recordFailure({ commits: decision.targets, at: new Date().toISOString(), reason: failing });
    await state.end();
    deployed = [];
    const message = `deploy failed and was rolled back: ${failing}`;
    say(message);
    return finish('rolled-back', message, { verify, rollback });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    say(`deploy failed: ${reason}`);
    const rollback = await rollBack(compose, project, deployed, changedPaths(), input);
    await state.recordFailure({ commits: decision.targets, at: new Date().toISOString(), reason });
    await state.end();
    return finish(rollback.problems.length === 0 ? 'rolled-back' : 'failed', `deploy failed and was rolled back: ${reason}`, { rollback });
  }
}

/** `up -d`, restart what mounts a changed path (and was not just recreated), then verify. */
async function bringUp(compose: ComposeCommand, project: string, changedPaths: readonly string[], input: DeployInput): Promise<{ verify: VerifyReport; restarted: string[] }> {
  const { say } = input;
  const run = runOptions(input, true);
  const config = parseComposeConfig(await composeConfig(compose, runOptions(input)), { projectDir: input.composeDir });
  const expected = expectedServices(config, profilesFromEnv(input.env));
  const before = starts(await input.containers.list(project));
  say(`compose up -d (project ${project})`);
  await composeUp(compose, run);
  const after = starts(await input.containers.list(project));
  const touched = servicesToRestart(config.services, changedPaths);
  const stale = new Set(notRestartedSince(touched.map((t) => t.service), before, after));
  const restart = touched.filter((t) => stale.has(t.service));
  for (const t of restart) say(`restarting ${t.service}: it mounts ${t.changed.slice(0, 3).join(', ')}${t.changed.length > 3 ? ', …' : ''}`);
  await composeRestart(compose, restart.map((t) => t.service), run);

  say(`verifying ${expected.length} service${expected.length === 1 ? '' : 's'} (up to ${Math.round(input.settings.verifyTimeoutMs / 1000)}s): ${expected.join(', ')}`);
  const verify = await verifyServices({ containers: input.containers, project, services: expected, timeoutMs: input.settings.verifyTimeoutMs });
  for (const s of verify.services) say(`  ${s.service}: ${s.state}${s.ok ? '' : ` (${s.detail})`}`);
  say(`verification ${verify.ok ? 'passed' : 'failed'} after ${(verify.waitedMs / 1000).toFixed(1)}s`);
  return { verify, restarted: restart.map((t) => t.service) };
}

/** Every moved checkout back to where it was, then the platform up again as it was. */
async function rollBack(
  compose: ComposeCommand,
  project: string,
  moved: readonly CheckoutMove[],
  changedPaths: readonly string[],
  input: DeployInput,
): Promise<{ verify: VerifyReport | undefined; problems: string[] }> {
  const { say } = input;
  const problems: string[] = [];
  say(`rolling back ${moved.length} checkout${moved.length === 1 ? '' : 's'}`);
  for (const move of [...moved].reverse()) {
    try {
      await moveBack(move.path, move.from);
      if (input.settings.codeOwnership !== undefined) await chownTree(move.path, input.settings.codeOwnership);
      say(`  ${move.path}: back to ${short(move.from)}`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problems.push(reason);
      say(`  ${move.path}: NOT rolled back: ${reason}`);
    }
  }
  try {
    const { verify } = await bringUp(compose, project, changedPaths, input);
    if (!verify.ok) problems.push('the platform is not healthy after the rollback either');
    say(problems.length === 0 ? 'rolled back: the platform runs the previous commits again' : `rollback incomplete: ${problems.join('; ')}`);
    return { verify, problems };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    problems.push(reason);
    say(`rollback incomplete: ${reason}`);
    return { verify: undefined, problems };
  }
}

async function pull(path: string, to: string | undefined, deployed: boolean, input: DeployInput, say: (line: string) => void): Promise<CheckoutMove | undefined> {
  const move = await fastForward(path, to === undefined ? {} : { to });
  if (move.from === move.to) return undefined;
  if (input.settings.codeOwnership !== undefined) await chownTree(path, input.settings.codeOwnership);
  const commits = await commitsBetween(path, move.from, move.to);
  say(`${deployed ? 'pulled' : 'fast-forwarded (no deploy)'} ${path}: ${short(move.from)}..${short(move.to)}`);
  for (const c of commits) say(`  ${short(c.commit)} ${c.subject}`);
  return { path, from: move.from, to: move.to, commits, deployed };
}

/** Options for compose commands; `loud` ones (up, stop, restart) have their output in the deploy log. */
function runOptions(input: DeployInput, loud = false): ComposeRunOptions {
  return {
    cwd: input.composeDir,
    env: { ...process.env, ...(input.composeEnv ?? input.env) },
    ...(loud ? { onLine: (line: string) => input.say(`  compose: ${line}`) } : {}),
  };
}

function starts(containers: readonly { service: string; id: string; startedAt: string | undefined }[]): ServiceStart[] {
  return containers.map((c) => ({ service: c.service, containerId: c.id, startedAt: c.startedAt }));
}

/** The services that failed; on a fail-fast, those still starting are not blamed. */
function describeFailure(verify: VerifyReport): string {
  const bad = verify.services.filter((s) => !s.ok && (verify.outcome !== 'failed-fast' || s.state !== 'starting'));
  return bad.map((s) => `${s.service}: ${s.detail}`).join('; ');
}

function describeCommits(commits: CommitSet): string {
  return Object.entries(commits).map(([path, commit]) => `${path}@${short(commit)}`).join(', ');
}

function describeKey(key: { path: string | undefined; reason: string }): string {
  return key.path === undefined ? '' : ` [key ${key.path} (${key.reason})]`;
}

function describeDryRun(decision: Decision): string {
  if (decision.action === 'deploy') return `would deploy ${decision.deploy.join(', ')}${decision.pullOnly.length > 0 ? ` and fast-forward ${decision.pullOnly.join(', ')}` : ''}`;
  if (decision.pullOnly.length > 0) return `would fast-forward ${decision.pullOnly.join(', ')} without a deploy`;
  return `would do nothing: ${decision.reason}`;
}
