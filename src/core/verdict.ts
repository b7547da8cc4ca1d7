import type { CheckoutState, CheckoutVerdict, Verdict } from './checkout.js';
import { shortId } from './short-id.js';

const LISTED_DIRTY_FILES = 5;

/**
 * The verdict on one checkout, from what was observed of it. The first that applies wins:
 *
 * missing > dirty > error > detached > no-upstream > divergent > behind > ahead > up-to-date
 *
 * Local changes come before everything else that can be observed, because any dirty
 * checkout stops a deploy: a restart would put uncommitted edits in service. That holds for a
 * checkout whose fetch failed, or that is detached or tracks nothing, as much as for one that is
 * behind; the reason sentence still names the other problem. Divergent comes before behind: a
 * checkout with local commits is a development checkout and is never deployed.
 */
export function judgeCheckout(state: CheckoutState): CheckoutVerdict {
  const [verdict, reason] = decide(state);
  return { ...state, verdict, reason };
}

function decide(s: CheckoutState): readonly [Verdict, string] {
  if (!s.exists) return ['missing', `${s.path} does not exist: clone the repository there, or remove it from the list of checkouts`];
  if (s.isRepo && s.dirtyFiles.length > 0) return ['dirty', dirtyReason(s)];
  if (s.error !== undefined) return ['error', s.error];
  if (!s.isRepo) return ['error', `${s.path} is not a git checkout`];
  const at = s.head === undefined ? '' : ` at ${shortId(s.head)}`;
  if (s.branch === undefined) {
    return ['detached', `${s.path} has a detached HEAD${at}, so it follows no branch: check out the branch to deploy (git switch <branch>)`];
  }
  if (s.upstream === undefined) {
    return ['no-upstream', `${s.path} is on branch ${s.branch}, which tracks no upstream branch: set one (git branch --set-upstream-to=origin/${s.branch})`];
  }
  const where = `${s.path} (${s.branch})`;
  if (s.ahead > 0 && s.behind > 0) {
    return ['divergent', `${where} has ${commits(s.ahead)} that ${s.upstream} does not have and lacks ${commits(s.behind)} of it: a development checkout, left alone`];
  }
  if (s.behind > 0) return ['behind', `${where} is ${commits(s.behind)} behind ${s.upstream}${target(s)}`];
  if (s.ahead > 0) return ['ahead', `${where} is ${commits(s.ahead)} ahead of ${s.upstream}, with nothing new upstream`];
  return ['up-to-date', `${where} is up to date with ${s.upstream}${at}`];
}

function dirtyReason(s: CheckoutState): string {
  const listed = s.dirtyFiles.slice(0, LISTED_DIRTY_FILES).map((line) => line.trim()).join(', ');
  const more = s.dirtyFiles.length > LISTED_DIRTY_FILES ? ` and ${s.dirtyFiles.length - LISTED_DIRTY_FILES} more` : '';
  const also = s.error === undefined ? '' : `; besides: ${s.error}`;
  return `${s.path} has ${s.dirtyFiles.length} uncommitted or untracked change${s.dirtyFiles.length === 1 ? '' : 's'} (${listed}${more}): commit, stash or remove them; no deploy runs while a checkout is dirty${also}`;
}

function target(s: CheckoutState): string {
  return s.head !== undefined && s.upstreamHead !== undefined ? ` (${shortId(s.head)}..${shortId(s.upstreamHead)})` : '';
}

function commits(n: number): string {
  return `${n} commit${n === 1 ? '' : 's'}`;
}
