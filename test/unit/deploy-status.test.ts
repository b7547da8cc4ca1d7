import { describe, expect, it } from 'vitest';
import { deployStatus, type LockSight } from '../../src/core/deploy-status.js';
import type { DeployInProgress } from '../../src/core/deploy-record.js';

// What status says of the deploy, from its intent and its lock.

const intent = (step: DeployInProgress['step']): DeployInProgress => ({ heads: { '/srv/p': 'a'.repeat(40) }, targets: { '/srv/p': 'b'.repeat(40) }, startedAt: '2026-12-01T05:07:00.000Z', step });
const lock = (sight: Partial<LockSight>): LockSight => ({
  host: 'c0ffee', pid: 7, startedAt: '2026-12-01T05:07:00.000Z', purpose: 'deploy', expiresAt: '2026-12-01T08:00:00.000Z', alive: true, pastDeadline: false, ...sight,
});

describe('deployStatus', () => {
  it('is idle with neither intent nor lock', () => {
    expect(deployStatus(undefined, undefined)).toEqual({ state: 'idle', message: 'no deploy under way' });
  });

  it('is running while a live holder is within its deadline', () => {
    expect(deployStatus(intent('starting'), lock({}))).toEqual({
      state: 'running',
      message: 'a deploy is under way (starting), held by c0ffee (pid 7) since 2026-12-01T05:07:00.000Z; stuck if still there at 2026-12-01T08:00:00.000Z',
    });
  });

  it('is unfinished when the intent outlived its lock, and says what the next run does', () => {
    expect(deployStatus(intent('starting'), undefined).message).toBe(
      'unfinished: a deploy started at 2026-12-01T05:07:00.000Z died while starting: the next deploy run brings the platform up from what the checkouts say and verifies it, or else rolls it back',
    );
    expect(deployStatus(intent('rolling-back'), undefined).message).toMatch(/died while rolling-back: the next deploy run moves the checkouts back/);
    expect(deployStatus(intent(undefined), undefined).message).toMatch(/died while pulling/);
  });

  it('is stuck when the holder is past its deadline or gone', () => {
    expect(deployStatus(intent('pulling'), lock({ pastDeadline: true }))).toEqual({
      state: 'stuck',
      message:
        'stuck: the deploy lock is held by c0ffee (pid 7) since 2026-12-01T05:07:00.000Z, and its holder is past its deadline (2026-12-01T08:00:00.000Z), with a deploy unfinished (pulling): the next deploy run takes the lock over; the next deploy run brings the platform up from what the checkouts say and verifies it, or else rolls it back',
    });
    expect(deployStatus(undefined, lock({ alive: false }))).toEqual({
      state: 'stuck',
      message: 'stuck: the deploy lock is held by c0ffee (pid 7) since 2026-12-01T05:07:00.000Z, and its holder is gone: the next deploy run takes the lock over',
    });
  });
});
