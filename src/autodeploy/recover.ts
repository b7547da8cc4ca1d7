// A deploy that died midway (its container killed, the host rebooted) leaves its intent in the
// state volume, and checkouts that may already say what the running containers do not. The
// next run, holding the lock, ends it one way or the other before it judges anything: the
// platform is brought up from what the checkouts say and verified, or, failing that (or when
// the deploy died rolling back), the checkouts go back to the heads recorded before it.

import { recoveryAction, type CommitSet, type DeployInProgress } from '../core/deploy-record.js';
import type { CheckoutStep } from '../core/deploy-events.js';
import { headOf } from '../git/fast-forward.js';
import type { DeployState } from '../state/deploy-state.js';
import { bringUp, changedPathsOf, checkoutStep, composeOf, failedServices, pullCheckout, rollBack, type PlatformContext, type RollbackReport } from './platform-steps.js';
import type { VerifyReport } from './verify.js';

export interface RecoveryReport {
  readonly outcome: 'recovered' | 'rolled-back' | 'failed';
  readonly message: string;
  /** the checkouts as the interrupted deploy left them, and where they are now */
  readonly checkouts: readonly CheckoutStep[];
  readonly restarted: readonly string[];
  readonly verify: VerifyReport | undefined;
  readonly rollback: RollbackReport | undefined;
}

export async function recoverDeploy(intent: DeployInProgress, state: DeployState, ctx: PlatformContext): Promise<RecoveryReport> {
  const emit = ctx.onEvent;
  const action = recoveryAction(intent);
  const step = intent.step ?? 'pulling';
  emit({ type: 'recovering', action, step, heads: intent.heads, targets: intent.targets });
  const { compose, project } = await composeOf(ctx);
  const now = async (): Promise<CheckoutStep[]> => {
    const moved: CheckoutStep[] = [];
    for (const [path, head] of Object.entries(intent.heads)) {
      // A checkout gone since (removed, or no longer a checkout) has nothing to bring up or move back.
      const current = await headOf(path, { timeoutMs: ctx.settings.gitTimeoutMs }).catch(() => undefined);
      if (current !== undefined && current !== head) moved.push({ path, from: head, to: current });
    }
    return moved;
  };

  let why = `the deploy started at ${intent.startedAt} died while ${step}`;
  let verify: VerifyReport | undefined;
  if (action === 'finish') {
    try {
      await state.step('starting', new Date());
      // The pulls the deploy did not get to: a checkout still at its recorded head goes to its target.
      for (const [path, target] of Object.entries(intent.targets)) {
        const head = intent.heads[path];
        if (head !== undefined && head !== target && (await headOf(path, { timeoutMs: ctx.settings.gitTimeoutMs }).catch(() => undefined)) === head) {
          await pullCheckout(path, target, true, ctx);
        }
      }
      const moved = await now();
      const up = await bringUp(compose, project, await changedPathsOf(moved, ctx), ctx);
      verify = up.verify;
      if (up.verify.ok) {
        await state.clearFailure();
        await state.end();
        emit({ type: 'recovered', action: 'finished', ok: true, checkouts: moved.map(checkoutStep) });
        return { outcome: 'recovered', message: `${why}; it is finished now: the platform runs ${describe(intent.targets)} and passed its verification`, checkouts: moved, restarted: up.restarted, verify, rollback: undefined };
      }
      const failing = failedServices(up.verify);
      why = failing.map((s) => `${s.service}: ${s.detail}`).join('; ');
      emit({ type: 'verification-failed', reason: why, services: failing.map((s) => s.service) });
    } catch (error) {
      why = error instanceof Error ? error.message : String(error);
      emit({ type: 'deploy-error', reason: why });
    }
  }

  await state.step('rolling-back', new Date());
  const moved = await now();
  const rollback = await rollBack(compose, project, moved, await changedPathsOf(moved, ctx).catch(() => []), why, ctx);
  await state.recordFailure({ commits: intent.targets, at: new Date().toISOString(), reason: why });
  // A rollback whose compose failed leaves containers that may not be what the checkouts say:
  // the intent stays, and the next run undoes the deploy again.
  if (rollback.verify !== undefined) await state.end();
  emit({ type: 'recovered', action: 'rolled-back', ok: rollback.problems.length === 0, checkouts: moved.map(checkoutStep) });
  const outcome = rollback.problems.length === 0 ? 'rolled-back' : 'failed';
  const message =
    outcome === 'rolled-back'
      ? `the interrupted deploy was rolled back (${why}): the platform runs ${describe(intent.heads)} again`
      : `the interrupted deploy could not be rolled back cleanly (${rollback.problems.join('; ')})${rollback.verify === undefined ? '; the next run tries again' : ''}`;
  return { outcome, message, checkouts: moved, restarted: [], verify, rollback };
}

function describe(commits: CommitSet): string {
  return Object.entries(commits).map(([path, commit]) => `${path}@${commit.slice(0, 8)}`).join(', ');
}
