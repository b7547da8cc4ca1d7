import { describe, expect, it } from 'vitest';
import { judgeCheckout } from '../../src/core/verdict.js';
import { VERDICTS, type CheckoutState, type Verdict } from '../../src/core/checkout.js';

const HEAD = '1111111111111111111111111111111111111111';
const UPSTREAM = '2222222222222222222222222222222222222222';

/** A clean checkout of main, up to date with origin/main. */
function state(overrides: Partial<CheckoutState> = {}): CheckoutState {
  return {
    path: '/srv/platform',
    exists: true,
    isRepo: true,
    branch: 'main',
    upstream: 'origin/main',
    remoteUrl: 'git@example.org:org/platform.git',
    head: HEAD,
    upstreamHead: HEAD,
    ahead: 0,
    behind: 0,
    dirtyFiles: [],
    changedFiles: [],
    key: { path: '/keys/platform_deploy_key', reason: 'per-repo' },
    error: undefined,
    ...overrides,
  };
}

const FETCH_FAILED = '/srv/platform: fetching refs/heads/main from git@example.org:org/platform.git: authentication or permission refused';

describe('judgeCheckout', () => {
  it.each<[string, Partial<CheckoutState>, Verdict]>([
    ['a clean checkout at its upstream', {}, 'up-to-date'],
    ['a checkout with local commits only', { ahead: 2 }, 'ahead'],
    ['a checkout missing upstream commits', { behind: 3, upstreamHead: UPSTREAM }, 'behind'],
    ['a checkout both ahead and behind', { ahead: 1, behind: 1, upstreamHead: UPSTREAM }, 'divergent'],
    ['a checkout with a modified tracked file', { dirtyFiles: [' M env.local'] }, 'dirty'],
    ['a checkout with an untracked file', { dirtyFiles: ['?? notes.txt'] }, 'dirty'],
    ['a dirty checkout that is up to date', { dirtyFiles: ['M  docker-compose.yml'] }, 'dirty'],
    ['a dirty checkout that is behind', { dirtyFiles: [' M env.local'], behind: 4, upstreamHead: UPSTREAM }, 'dirty'],
    ['a dirty checkout that is divergent', { dirtyFiles: [' M env.local'], ahead: 1, behind: 4 }, 'dirty'],
    ['a dirty checkout on a detached HEAD', { dirtyFiles: [' M env.local'], branch: undefined, upstream: undefined }, 'dirty'],
    ['a dirty checkout without upstream', { dirtyFiles: ['?? x'], upstream: undefined }, 'dirty'],
    ['a dirty checkout whose fetch failed', { dirtyFiles: ['?? x'], error: FETCH_FAILED, errorKind: 'auth-refused' }, 'dirty'],
    ['a branch that tracks nothing', { upstream: undefined, upstreamHead: undefined }, 'no-upstream'],
    ['a detached HEAD', { branch: undefined, upstream: undefined }, 'detached'],
    ['a detached HEAD with a stale error-free state', { branch: undefined, upstream: undefined, behind: 2 }, 'detached'],
    ['a fetch that failed', { error: FETCH_FAILED, errorKind: 'auth-refused', behind: 0 }, 'error'],
    ['a fetch that failed on a checkout otherwise behind', { error: FETCH_FAILED, errorKind: 'unreachable', behind: 5 }, 'error'],
    ['an error on a detached checkout', { error: 'key problem', errorKind: 'unsafe-key', branch: undefined, upstream: undefined }, 'error'],
    ['a directory that is not a repository', { isRepo: false, branch: undefined, upstream: undefined, head: undefined, error: '/srv/platform is not a git checkout', errorKind: 'not-a-repo' }, 'error'],
    ['a path that does not exist', { exists: false, isRepo: false, branch: undefined, upstream: undefined, head: undefined }, 'missing'],
    ['a missing path with leftover data', { exists: false, isRepo: false, dirtyFiles: ['?? x'], error: 'x' }, 'missing'],
  ])('%s is %s', (_what, overrides, expected) => {
    expect(judgeCheckout(state(overrides)).verdict).toBe(expected);
  });

  it('can reach every verdict', () => {
    const reached = new Set([
      {}, { ahead: 1 }, { behind: 1 }, { ahead: 1, behind: 1 }, { dirtyFiles: ['?? a'] }, { upstream: undefined },
      { branch: undefined }, { exists: false }, { error: 'e' },
    ].map((o) => judgeCheckout(state(o)).verdict));
    expect([...reached].sort()).toEqual([...VERDICTS].sort());
  });

  it('keeps every observed field and adds a verdict and a reason', () => {
    const observed = state({ behind: 2, upstreamHead: UPSTREAM, changedFiles: [{ status: 'M', path: 'env.local' }] });
    const judged = judgeCheckout(observed);
    expect(judged).toMatchObject(observed);
    expect(judged.verdict).toBe('behind');
  });

  describe('reasons', () => {
    it('counts the commits behind and names the range', () => {
      const reason = judgeCheckout(state({ behind: 3, upstreamHead: UPSTREAM })).reason;
      expect(reason).toContain('/srv/platform (main) is 3 commits behind origin/main');
      expect(reason).toContain(`${HEAD.slice(0, 12)}..${UPSTREAM.slice(0, 12)}`);
    });

    it('uses the singular for one commit', () => {
      expect(judgeCheckout(state({ ahead: 1 })).reason).toContain('1 commit ahead');
    });

    it('says a divergent checkout is left alone', () => {
      const reason = judgeCheckout(state({ ahead: 2, behind: 5 })).reason;
      expect(reason).toContain('2 commits');
      expect(reason).toContain('5 commits');
      expect(reason).toContain('left alone');
    });

    it('lists the first dirty files and how many more there are', () => {
      const dirtyFiles = ['?? a', '?? b', ' M c', 'M  d', 'A  e', '?? f', '?? g'];
      const reason = judgeCheckout(state({ dirtyFiles })).reason;
      expect(reason).toContain('7 uncommitted or untracked changes');
      expect(reason).toContain('?? a, ?? b, M c, M  d, A  e and 2 more');
      expect(reason).not.toContain('?? f');
      expect(reason).toContain('commit, stash or remove');
    });

    it('keeps the fetch error in the reason of a dirty checkout', () => {
      const reason = judgeCheckout(state({ dirtyFiles: [' M env.local'], error: FETCH_FAILED, errorKind: 'auth-refused' })).reason;
      expect(reason).toContain('1 uncommitted or untracked change (');
      expect(reason).toContain(FETCH_FAILED);
    });

    it('gives the inspection error as the reason of an error verdict', () => {
      expect(judgeCheckout(state({ error: FETCH_FAILED, errorKind: 'auth-refused' })).reason).toBe(FETCH_FAILED);
    });

    it('tells how to set an upstream', () => {
      expect(judgeCheckout(state({ branch: 'prod', upstream: undefined })).reason).toContain('git branch --set-upstream-to=origin/prod');
    });

    it('names the detached commit', () => {
      expect(judgeCheckout(state({ branch: undefined, upstream: undefined })).reason).toContain(`detached HEAD at ${HEAD.slice(0, 12)}`);
    });

    it('names the missing path', () => {
      expect(judgeCheckout(state({ exists: false, isRepo: false })).reason).toMatch(/^\/srv\/platform does not exist/);
    });

    it('names the upstream of an up-to-date checkout', () => {
      expect(judgeCheckout(state()).reason).toBe(`/srv/platform (main) is up to date with origin/main at ${HEAD.slice(0, 12)}`);
    });
  });
});
