import { describe, expect, it } from 'vitest';
import { decide, type TriggerAnswer } from '../../src/core/decide.js';
import type { CheckoutVerdict, Verdict } from '../../src/core/checkout.js';

function checkout(path: string, verdict: Verdict, extra: Partial<CheckoutVerdict> = {}): CheckoutVerdict {
  return {
    path,
    exists: verdict !== 'missing',
    isRepo: true,
    branch: 'main',
    upstream: 'origin/main',
    remoteUrl: 'ssh://git@host/repo.git',
    head: 'a'.repeat(40),
    upstreamHead: verdict === 'behind' ? `${path.length}`.padEnd(40, 'b') : 'a'.repeat(40),
    ahead: verdict === 'ahead' || verdict === 'divergent' ? 1 : 0,
    behind: verdict === 'behind' || verdict === 'divergent' ? 2 : 0,
    dirtyFiles: verdict === 'dirty' ? [' M env.local'] : [],
    changedFiles: [],
    key: { path: undefined, reason: 'none' },
    error: undefined,
    verdict,
    reason: verdict,
    ...extra,
  };
}

const none = new Map<string, TriggerAnswer>();

describe('decide', () => {
  it('does nothing when every checkout is up to date or ahead', () => {
    const d = decide([checkout('/p', 'up-to-date'), checkout('/x', 'ahead')], none, undefined);
    expect(d).toEqual({ action: 'nothing', reason: 'nothing to deploy (1 up-to-date, 1 ahead)', pullOnly: [] });
  });

  it('deploys the behind checkouts and names their target commits', () => {
    const d = decide([checkout('/p', 'behind'), checkout('/x', 'up-to-date')], none, undefined);
    expect(d.action).toBe('deploy');
    if (d.action !== 'deploy') return;
    expect(d.deploy).toEqual(['/p']);
    expect(d.targets).toEqual({ '/p': checkout('/p', 'behind').upstreamHead });
    expect(d.reason).toBe('behind upstream: /p (2 new commits)');
  });

  it('never touches a divergent checkout, and does not deploy for it', () => {
    const d = decide([checkout('/dev', 'divergent')], none, undefined);
    expect(d.action).toBe('nothing');
    expect(d.pullOnly).toEqual([]);
  });

  it('aborts before anything changes when a checkout is dirty and a deploy is due', () => {
    const d = decide([checkout('/p', 'behind'), checkout('/cfg', 'dirty')], none, undefined);
    expect(d.action).toBe('abort');
    expect(d.reason).toMatch(/\/cfg has local changes/);
  });

  it('aborts, rather than idles, when the checkout that is behind is itself dirty', () => {
    const d = decide([checkout('/p', 'dirty', { behind: 1 })], none, undefined);
    expect(d.action).toBe('abort');
    expect(d.reason).toMatch(/\/p has local changes/);
  });

  it('reports but does not abort for a dirty checkout when nothing is due', () => {
    expect(decide([checkout('/p', 'up-to-date'), checkout('/cfg', 'dirty')], none, undefined).action).toBe('nothing');
  });

  it('only fast-forwards a behind checkout whose conditional trigger says no', () => {
    const triggers = new Map<string, TriggerAnswer>([['/docs', { present: true, trigger: false, exitCode: 1 }]]);
    const d = decide([checkout('/docs', 'behind'), checkout('/p', 'up-to-date')], triggers, undefined);
    expect(d).toMatchObject({ action: 'nothing', pullOnly: ['/docs'] });
  });

  it('deploys when the trigger agrees, and pulls the declined ones alongside', () => {
    const triggers = new Map<string, TriggerAnswer>([
      ['/docs', { present: true, trigger: false, exitCode: 1 }],
      ['/p', { present: true, trigger: true, exitCode: 0 }],
    ]);
    const d = decide([checkout('/docs', 'behind'), checkout('/p', 'behind')], triggers, undefined);
    expect(d).toMatchObject({ action: 'deploy', deploy: ['/p'], pullOnly: ['/docs'] });
  });

  it('holds a commit set that already failed, and retries once a newer commit arrives', () => {
    const behind = checkout('/p', 'behind');
    const failed = { commits: { '/p': behind.upstreamHead! }, at: '2026-11-22T10:00:00Z', reason: 'service web unhealthy' };
    const held = decide([behind], none, failed);
    expect(held.action).toBe('hold');
    expect(held.reason).toMatch(/failed to deploy at 2026-11-22T10:00:00Z .*service web unhealthy.*newer commit/);

    const newer = checkout('/p', 'behind', { upstreamHead: 'c'.repeat(40), behind: 3 });
    expect(decide([newer], none, failed).action).toBe('deploy');
  });
});
