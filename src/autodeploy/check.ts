import { runConditionalTrigger } from '../git/conditional-trigger.js';
import { inspectAll } from '../git/inspect.js';
import { formatNameStatus } from '../git/name-status.js';
import { hostKeyPolicy } from '../git/ssh-command.js';
import { decide, type Decision, type TriggerAnswer } from '../core/decide.js';
import type { FailedDeploy } from '../state/deploy-state.js';
import { judgeCheckout } from '../core/verdict.js';
import type { CheckoutVerdict } from '../core/checkout.js';

export interface CheckInput {
  /** the platform's checkout first, then AUTODEPLOY_EXTRA_REPOS */
  readonly checkouts: readonly string[];
  readonly keyRootDir: string | undefined;
  readonly pinnedKnownHosts: string | undefined;
  readonly stateDir: string;
  readonly failed: FailedDeploy | undefined;
  /** the deadline of each git command; the git client's default when absent */
  readonly gitTimeoutMs?: number | undefined;
  /** the deadline of each conditional trigger; the trigger runner's default when absent */
  readonly triggerTimeoutMs?: number | undefined;
}

export interface CheckReport {
  readonly verdicts: readonly CheckoutVerdict[];
  /** what each behind checkout's conditional trigger said, with its output */
  readonly triggers: ReadonlyMap<string, TriggerAnswer & { readonly output?: string }>;
  readonly decision: Decision;
}

/**
 * Step 1 of a deploy, and all of `autodeploy status`: fetch every checkout (in parallel),
 * judge each, ask the conditional triggers of the behind ones, and decide. Changes nothing
 * but the remote-tracking refs.
 */
export async function checkCheckouts(input: CheckInput): Promise<CheckReport> {
  const policy = hostKeyPolicy({ pinnedKnownHosts: input.pinnedKnownHosts, stateDir: input.stateDir });
  const states = await inspectAll(input.checkouts, { keyRootDir: input.keyRootDir, ...policy, timeoutMs: input.gitTimeoutMs });
  const verdicts = states.map(judgeCheckout);
  const triggers = new Map<string, TriggerAnswer & { output?: string }>();
  await Promise.all(
    verdicts
      .filter((v) => v.verdict === 'behind' && v.upstreamHead !== undefined)
      .map(async (v) => {
        // The text `git diff --name-status` prints, which is what triggers written for birdhouse-deploy read.
        const result = await runConditionalTrigger(v.path, v.upstreamHead ?? '', formatNameStatus(v.changedFiles), input.triggerTimeoutMs === undefined ? {} : { timeoutMs: input.triggerTimeoutMs });
        triggers.set(v.path, result.present ? { present: true, trigger: result.trigger, exitCode: result.exitCode, output: result.output } : { present: false });
      }),
  );
  return { verdicts, triggers, decision: decide(verdicts, triggers, input.failed) };
}
