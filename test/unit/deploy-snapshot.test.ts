import { describe, expect, it } from 'vitest';
import { DeployStatusTracker } from '../../src/core/deploy-snapshot.js';
import { parseEventLine, type EventLine } from '../../src/core/event-line.js';
import { deployNotification, jobNotification } from '../../src/core/notification.js';

const at = new Date('2026-12-01T10:00:00Z');
const line = (event: Record<string, unknown>): EventLine => {
  const parsed = parseEventLine(JSON.stringify({ eventVersion: 1, msg: 'sentence', ...event }));
  if (parsed === undefined) throw new Error('not an event line');
  return parsed;
};
const judged = (path: string, verdict = 'up-to-date') =>
  line({ event: 'deploy.checkout-judged', path, verdict, reason: `${path} is ${verdict}`, branch: 'main', upstream: 'origin/main', ahead: 0, behind: verdict === 'behind' ? 2 : 0, key: { reason: 'none' }, remoteUrl: 'git@host:org/repo.git', remoteBranch: 'main' });
const decision = (action: string) => line({ event: 'deploy.decision', action, reason: `because ${action}`, deploy: action === 'deploy' ? ['/a'] : [], pullOnly: [] });

describe('DeployStatusTracker', () => {
  it('takes a run’s verdicts once its decision is seen, and keeps the last complete picture otherwise', () => {
    const tracker = new DeployStatusTracker();
    tracker.observe('r1', judged('/a', 'behind'), at);
    expect(tracker.snapshot().checkouts).toEqual([]);
    expect(tracker.observe('r1', decision('deploy'), at)).toMatchObject({ kind: 'checked' });
    expect(tracker.snapshot()).toMatchObject({ run: 'r1', checkedAt: at.toISOString(), decision: { action: 'deploy', deploy: ['/a'] } });
    expect(tracker.snapshot().checkouts[0]).toMatchObject({ path: '/a', verdict: 'behind', behind: 2, remoteBranch: 'main' });

    // A second run dies mid-check: the first run's picture stays.
    tracker.observe('r2', judged('/a'), at);
    expect(tracker.snapshot().run).toBe('r1');
    // A re-attached run that resumes past its verdicts keeps the last ones known.
    tracker.observe('r3', decision('nothing'), at);
    expect(tracker.snapshot().checkouts).toHaveLength(1);
  });

  it('records each finished deploy with the commits it pulled, newest first', () => {
    const tracker = new DeployStatusTracker();
    tracker.observe('r1', line({ event: 'deploy.pulled', path: '/a', from: 'a1', to: 'b2', deployed: true, commits: [{ commit: 'b2', subject: 'Publish' }] }), at);
    const change = tracker.observe('r1', line({ event: 'deploy.finished', outcome: 'deployed', message: 'deploy succeeded', endedAt: at.toISOString(), durationMs: 5, exitCode: 0 }), at);
    expect(change).toMatchObject({ kind: 'finished', entry: { run: 'r1', outcome: 'deployed', message: 'deploy succeeded', pulled: [{ path: '/a', commits: [{ subject: 'Publish' }] }] } });
    tracker.observe('r2', line({ event: 'deploy.finished', outcome: 'nothing', message: 'nothing to do', endedAt: at.toISOString(), durationMs: 1, exitCode: 0 }), at);
    expect(tracker.snapshot().history.map((e) => e.run)).toEqual(['r2', 'r1']);
    expect(tracker.observe('r3', line({ event: 'notebooks.published', count: 1 }), at)).toBeUndefined();
  });

  it('restores what a previous scheduler saved under what it has seen since', () => {
    const before = new DeployStatusTracker();
    before.observe('r1', judged('/a'), at);
    before.observe('r1', decision('nothing'), at);
    const after = new DeployStatusTracker();
    after.restore(before.snapshot());
    expect(after.snapshot().checkouts).toHaveLength(1);
  });
});

describe('notifications', () => {
  const entry = { run: 'r1', outcome: 'rolled-back', message: 'web is unhealthy', endedAt: at.toISOString(), durationMs: 1, exitCode: 1, pulled: [{ path: '/a', from: 'a', to: 'b', commits: [{ commit: '0123456789ab', subject: 'Break web' }] }], decision: 'deploy' };

  it('tells deploys that did something, and failed or timed-out runs', () => {
    expect(deployNotification(entry, 'pavics')?.text).toBe('[pavics] deploy failed and was rolled back: web is unhealthy (01234567 Break web)');
    expect(deployNotification({ ...entry, outcome: 'held' }, 'pavics')?.kind).toBe('deploy-held');
    expect(deployNotification({ ...entry, outcome: 'nothing' }, 'pavics')).toBeUndefined();
    expect(jobNotification({ job: 'backup', run: 'x', outcome: 'timed-out', exitCode: 137, message: 'timed out after 60s' }, 'pavics')?.text).toBe('[pavics] job backup timed out: timed out after 60s (run x)');
    expect(jobNotification({ job: 'backup', run: 'x', outcome: 'succeeded', exitCode: 0, message: undefined }, 'pavics')).toBeUndefined();
  });
});
