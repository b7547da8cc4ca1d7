import type { CommitSet, FailedDeploy } from './deploy-record.js';
import type { CheckoutVerdict } from './checkout.js';

/** What the conditional trigger of a behind checkout said; absent: the checkout has none. */
export type TriggerAnswer = { readonly present: false } | { readonly present: true; readonly trigger: boolean; readonly exitCode: number | null };

export type Decision =
  | { readonly action: 'nothing'; readonly reason: string; readonly pullOnly: readonly string[] }
  | { readonly action: 'abort'; readonly reason: string; readonly pullOnly: readonly [] }
  | { readonly action: 'hold'; readonly reason: string; readonly pullOnly: readonly string[] }
  | { readonly action: 'deploy'; readonly reason: string; readonly deploy: readonly string[]; readonly pullOnly: readonly string[]; readonly targets: CommitSet };

/**
 * Whether to deploy, from the verdicts alone: a plain function, so every rule below is unit-tested.
 * - Deploy when some checkout is behind and its conditional trigger (if any) agrees.
 * - A behind checkout whose trigger says no is only fast-forwarded, if it is clean.
 * - Any dirty checkout aborts a deploy before anything changes.
 * - Divergent checkouts are never touched.
 * - The commit set of a deploy that failed and was rolled back is not retried until a newer commit arrives.
 */
export function decide(verdicts: readonly CheckoutVerdict[], triggers: ReadonlyMap<string, TriggerAnswer>, failed: FailedDeploy | undefined): Decision {
  const behind = verdicts.filter((v) => v.verdict === 'behind');
  const wanted = behind.filter((v) => {
    const answer = triggers.get(v.path);
    return answer === undefined || !answer.present || answer.trigger;
  });
  const declined = behind.filter((v) => !wanted.includes(v)).map((v) => v.path);
  const dirty = verdicts.filter((v) => v.verdict === 'dirty');

  // A dirty checkout with new commits upstream is a deploy held up by local changes, not an idle one.
  const heldByChanges = dirty.filter((v) => v.behind > 0 && v.ahead === 0);
  if (wanted.length === 0 && heldByChanges.length === 0) {
    if (declined.length > 0) {
      return { action: 'nothing', reason: `behind, but their conditional triggers say no deploy is needed: ${declined.join(', ')}; fast-forwarding them only`, pullOnly: declined };
    }
    return { action: 'nothing', reason: describeIdle(verdicts), pullOnly: [] };
  }
  if (dirty.length > 0) {
    return {
      action: 'abort',
      reason: `not deploying: ${dirty.map((v) => v.path).join(', ')} ${dirty.length === 1 ? 'has' : 'have'} local changes; commit, stash or remove them (nothing was changed)`,
      pullOnly: [],
    };
  }
  const targets: CommitSet = {};
  for (const v of wanted) if (v.upstreamHead !== undefined) targets[v.path] = v.upstreamHead;
  if (failed !== undefined && sameCommits(targets, failed.commits)) {
    return {
      action: 'hold',
      reason: `these commits failed to deploy at ${failed.at} and were rolled back (${failed.reason}); waiting for a newer commit`,
      pullOnly: declined,
    };
  }
  return {
    action: 'deploy',
    reason: `behind upstream: ${wanted.map((v) => `${v.path} (${v.behind} new commit${v.behind === 1 ? '' : 's'})`).join(', ')}`,
    deploy: wanted.map((v) => v.path),
    pullOnly: declined,
    targets,
  };
}

function sameCommits(a: CommitSet, b: CommitSet): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function describeIdle(verdicts: readonly CheckoutVerdict[]): string {
  if (verdicts.length === 0) return 'no checkout to watch';
  const counts = new Map<string, number>();
  for (const v of verdicts) counts.set(v.verdict, (counts.get(v.verdict) ?? 0) + 1);
  return `nothing to deploy (${[...counts].map(([verdict, n]) => `${n} ${verdict}`).join(', ')})`;
}
