import { describe, expect, it } from 'vitest';
import { endedWithScheduler, type RunContainer } from '../../src/core/run.js';

const lastSeen = new Date('2026-12-01T10:00:00.000Z');

function container(fields: Partial<RunContainer>): RunContainer {
  return {
    id: 'c'.repeat(64), name: 'job', job: 'job', run: 'r1', origin: 'schedule', instance: 'i',
    running: false, exitCode: 137, startedAt: new Date('2026-12-01T09:59:00.000Z'), finishedAt: new Date('2026-12-01T10:00:12.000Z'),
    ...fields,
  };
}

describe('a run that ended together with its scheduler', () => {
  it('is one killed (137 or 143) within the window after the scheduler was last seen', () => {
    expect(endedWithScheduler(container({}), lastSeen, 45_000)).toBe(true);
    expect(endedWithScheduler(container({ exitCode: 143 }), lastSeen, 45_000)).toBe(true);
    expect(endedWithScheduler(container({ finishedAt: new Date('2026-12-01T09:59:59.000Z') }), lastSeen, 45_000)).toBe(true);
  });

  it('is not one that failed on its own, ended long after, still runs, or has no previous scheduler to compare with', () => {
    expect(endedWithScheduler(container({ exitCode: 1 }), lastSeen, 45_000)).toBe(false);
    expect(endedWithScheduler(container({ finishedAt: new Date('2026-12-01T10:05:00.000Z') }), lastSeen, 45_000)).toBe(false);
    expect(endedWithScheduler(container({ finishedAt: new Date('2026-12-01T09:58:00.000Z') }), lastSeen, 45_000)).toBe(false);
    expect(endedWithScheduler(container({ running: true, exitCode: undefined, finishedAt: undefined }), lastSeen, 45_000)).toBe(false);
    expect(endedWithScheduler(container({}), undefined, 45_000)).toBe(false);
  });
});
