// The steps a deploy shares with the recovery of one that died midway: move a checkout
// forward or back, bring the platform up from what its checkouts say and verify it, and roll
// back. Each runs under a deadline from the settings, so that no step can hold the lock forever.

import { join } from 'node:path';
import type { ComposeContainers } from '../core/ports.js';
import { expectedServices, notRestartedSince, parseComposeConfig, profilesFromEnv, servicesToRestart, type ServiceStart } from '../core/compose-services.js';
import type { CheckoutStep, DeployEvent } from '../core/deploy-events.js';
import type { ServiceCheck } from '../core/service-check.js';
import { chownTree } from '../git/chown-tree.js';
import { changedFilesBetween, commitsBetween, type CommitSummary } from '../git/commit-log.js';
import { fastForward, moveBack } from '../git/fast-forward.js';
import { composeConfig, composeProjectName, composeRestart, composeUp, resolveComposeCommand, type ComposeCommand, type ComposeRunOptions } from '../docker/compose.js';
import type { AutodeploySettings } from './settings.js';
import { verifyServices, type VerifyReport } from './verify.js';

/** What every step needs: the settings and the platform, and where its events go. */
export interface PlatformContext {
  readonly settings: AutodeploySettings;
  /**
   * What env.local itself sets (Config.platformEnv): compose without a wrapper needs the
   * platform's variables (COMPOSE_PROJECT_NAME, COMPOSE_PROFILES, what the compose files name).
   */
  readonly env: Readonly<Record<string, string>>;
  /** what a platform's compose wrapper gets over this process's environment: see Config.composeEnv */
  readonly composeEnv?: Readonly<Record<string, string>> | undefined;
  readonly composeDir: string;
  readonly containers: ComposeContainers;
  /** each step, as it happens */
  readonly onEvent: (event: DeployEvent) => void;
}

/** One checkout moved by the deploy. */
export interface CheckoutMove {
  readonly path: string;
  readonly from: string;
  readonly to: string;
  readonly commits: readonly CommitSummary[];
  /** deployed, or only fast-forwarded because its conditional trigger said no */
  readonly deployed: boolean;
}

export interface RollbackReport {
  readonly verify: VerifyReport | undefined;
  readonly problems: readonly string[];
}

/**
 * How long a deploy of `checkouts` can take, with its rollback, when every step runs to its
 * deadline: per checkout a fast-forward and a move back (a few git commands each); compose's
 * config, up and restart twice over; the verification twice; a minute for the engine's answers.
 * A lock held longer than this is held by a deploy that is stuck, whatever its process says.
 */
export function deployDeadlineMs(settings: Pick<AutodeploySettings, 'gitTimeoutMs' | 'composeTimeoutMs' | 'verifyTimeoutMs'>, checkouts: number): number {
  return (checkouts * 8 + 4) * settings.gitTimeoutMs + 8 * settings.composeTimeoutMs + 2 * settings.verifyTimeoutMs + 60_000;
}

/**
 * Options for compose commands; `loud` ones (up, stop, restart) have their output in the deploy
 * log. A platform's compose wrapper (birdhouse-compose.sh, pavics-compose.sh) reads env.local
 * itself, and lets the environment it is given win over it: it gets this process's environment,
 * COMPOSE_DIR and where env.local is, never values the scheduler computed (its own defaults
 * would leak into the platform, and values read before a pull would hide what the pull changed).
 * Plain compose gets what env.local sets.
 */
export function runOptions(compose: ComposeCommand, ctx: PlatformContext, loud = false): ComposeRunOptions {
  const wrapper = compose.source === 'pavics-compose.sh' || compose.source === 'birdhouse-compose.sh';
  return {
    cwd: ctx.composeDir,
    env: wrapper ? { ...hostEnvironment(process.env), COMPOSE_DIR: ctx.composeDir, ...ctx.composeEnv } : { ...process.env, ...ctx.env },
    timeoutMs: ctx.settings.composeTimeoutMs,
    ...(loud ? { onLine: (line: string, stream: 'stdout' | 'stderr') => ctx.onEvent({ type: 'compose-output', line, stream }) } : {}),
  };
}

/**
 * This process's environment as an operator's shell would have it: without the variables the
 * scheduler gives its deploy container (AUTODEPLOY_ENV_FILE, AUTODEPLOY_JOB, ...). The platform's
 * compose files may name them (the scheduler's own service does): handed on, they would make
 * a deploy see a service definition other than the operator's `up` and recreate it.
 */
function hostEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('AUTODEPLOY_')));
}

/** The compose command and the project it runs, said as an event. */
export async function composeOf(ctx: PlatformContext): Promise<{ compose: ComposeCommand; project: string }> {
  const compose = await resolveComposeCommand({ setting: ctx.settings.compose, composeDir: ctx.composeDir, env: ctx.env });
  ctx.onEvent({ type: 'compose-command', argv: compose.argv, source: compose.source });
  // The project name is looked up in env.local even when compose does not get its values.
  const project = (await composeProjectName(compose, { ...runOptions(compose, ctx), platformEnv: ctx.env })).name;
  return { compose, project };
}

/** Fast-forwards the checkout (to `to`, else its upstream); undefined when it did not move. */
export async function pullCheckout(path: string, to: string | undefined, deployed: boolean, ctx: PlatformContext): Promise<CheckoutMove | undefined> {
  const timeoutMs = ctx.settings.gitTimeoutMs;
  const move = await fastForward(path, to === undefined ? { timeoutMs } : { to, timeoutMs });
  if (move.from === move.to) return undefined;
  if (ctx.settings.codeOwnership !== undefined) await chownTree(path, ctx.settings.codeOwnership);
  const commits = await commitsBetween(path, move.from, move.to, { timeoutMs });
  ctx.onEvent({ type: 'pulled', path, from: move.from, to: move.to, deployed, commits });
  for (const c of commits) ctx.onEvent({ type: 'commit', path, commit: c.commit, subject: c.subject });
  return { path, from: move.from, to: move.to, commits, deployed };
}

/** What the moves changed, as absolute paths: a service that bind-mounts one of them is restarted. */
export async function changedPathsOf(moves: readonly CheckoutStep[], ctx: PlatformContext): Promise<string[]> {
  const paths: string[] = [];
  for (const m of moves) {
    const files = await changedFilesBetween(m.path, m.from, m.to, { timeoutMs: ctx.settings.gitTimeoutMs });
    for (const f of files) paths.push(...[f.path, ...(f.from ? [f.from] : [])].map((p) => join(m.path, p)));
  }
  return paths;
}

/** `up -d`, restart what mounts a changed path (and was not just recreated), then verify. */
export async function bringUp(compose: ComposeCommand, project: string, changedPaths: readonly string[], ctx: PlatformContext): Promise<{ verify: VerifyReport; restarted: string[] }> {
  const emit = ctx.onEvent;
  const run = runOptions(compose, ctx, true);
  const config = parseComposeConfig(await composeConfig(compose, runOptions(compose, ctx)), { projectDir: ctx.composeDir });
  const expected = expectedServices(config, profilesFromEnv(ctx.env));
  const before = starts(await ctx.containers.list(project));
  emit({ type: 'compose-up', project });
  await composeUp(compose, run);
  const after = starts(await ctx.containers.list(project));
  const touched = servicesToRestart(config.services, changedPaths);
  const stale = new Set(notRestartedSince(touched.map((t) => t.service), before, after));
  const restart = touched.filter((t) => stale.has(t.service));
  for (const t of restart) emit({ type: 'restarting', service: t.service, changed: t.changed });
  const restarted = restart.map((t) => t.service);
  await composeRestart(compose, restarted, run);
  if (restarted.length > 0) emit({ type: 'restarted', services: restarted });

  emit({ type: 'verifying', project, services: expected, timeoutMs: ctx.settings.verifyTimeoutMs });
  const verify = await verifyServices({ containers: ctx.containers, project, services: expected, timeoutMs: ctx.settings.verifyTimeoutMs });
  const services = verify.services.map(serviceCheck);
  for (const s of services) emit({ type: 'service-checked', ...s });
  emit({ type: 'verified', ok: verify.ok, outcome: verify.outcome, waitedMs: verify.waitedMs, services });
  return { verify, restarted };
}

/** Every moved checkout back to where it was, then the platform up again as it was. */
export async function rollBack(
  compose: ComposeCommand,
  project: string,
  moved: readonly CheckoutStep[],
  changedPaths: readonly string[],
  why: string,
  ctx: PlatformContext,
): Promise<RollbackReport> {
  const emit = ctx.onEvent;
  const problems: string[] = [];
  const back: CheckoutStep[] = [];
  const rolledBack = (verify: VerifyReport | undefined): RollbackReport => {
    emit({ type: 'rolled-back', ok: problems.length === 0, reason: why, checkouts: back.map(checkoutStep), problems });
    return { verify, problems };
  };
  emit({ type: 'rolling-back', checkouts: moved.map((m) => m.path) });
  for (const move of [...moved].reverse()) {
    try {
      await moveBack(move.path, move.from, { timeoutMs: ctx.settings.gitTimeoutMs });
      if (ctx.settings.codeOwnership !== undefined) await chownTree(move.path, ctx.settings.codeOwnership);
      back.push(move);
      emit({ type: 'checkout-moved-back', path: move.path, to: move.from, error: undefined });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problems.push(reason);
      emit({ type: 'checkout-moved-back', path: move.path, to: move.from, error: reason });
    }
  }
  try {
    const { verify } = await bringUp(compose, project, changedPaths, ctx);
    if (!verify.ok) problems.push('the platform is not healthy after the rollback either');
    return rolledBack(verify);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return rolledBack(undefined);
  }
}

function starts(containers: readonly { service: string; id: string; startedAt: string | undefined }[]): ServiceStart[] {
  return containers.map((c) => ({ service: c.service, containerId: c.id, startedAt: c.startedAt }));
}

/** The services that failed; on a fail-fast, those still starting are not blamed. */
export function failedServices(verify: VerifyReport): ServiceCheck[] {
  return verify.services.filter((s) => !s.ok && (verify.outcome !== 'failed-fast' || s.state !== 'starting')).map(serviceCheck);
}

function serviceCheck({ service, state, ok, detail }: ServiceCheck): ServiceCheck {
  return { service, state, ok, detail };
}

export function checkoutStep({ path, from, to }: CheckoutStep): CheckoutStep {
  return { path, from, to };
}
