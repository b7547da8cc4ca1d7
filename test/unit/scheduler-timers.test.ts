// The job timers on a fake clock: when each job falls due, and what a new job table changes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../src/core/job.js';
import { JobTimers } from '../../src/scheduler/timers.js';
import { containerJob } from '../helpers/jobs.js';

function job(name: string, schedule: string, options: { timezone?: string; enabled?: boolean } = {}): Job {
  return containerJob(name, { schedule, ...options });
}

const T0 = new Date('2030-01-15T01:30:00.000Z');
const at = (ms: number): string => new Date(T0.getTime() + ms).toISOString();
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Each call of onDue: the job, the moment it was due, and the fake time it came at. */
let calls: { job: string; due: string; at: string }[];
let timers: JobTimers;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
  calls = [];
  timers = new JobTimers({ onDue: (name, dueAt) => void calls.push({ job: name, due: dueAt.toISOString(), at: new Date().toISOString() }) });
});

afterEach(() => {
  timers.stop();
  vi.useRealTimers();
});

describe('JobTimers', () => {
  it('fires an @every job at each interval from when it was armed', async () => {
    expect(timers.apply([job('tick', '@every 5m')])).toEqual({ added: ['tick'], removed: [], rescheduled: [] });
    expect(timers.nextRun('tick')?.toISOString()).toBe(at(5 * MINUTE));

    await vi.advanceTimersByTimeAsync(5 * MINUTE - 1);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([{ job: 'tick', due: at(5 * MINUTE), at: at(5 * MINUTE) }]);
    expect(timers.nextRun('tick')?.toISOString()).toBe(at(10 * MINUTE));

    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(calls.map((c) => c.at)).toEqual([at(5 * MINUTE), at(10 * MINUTE), at(15 * MINUTE)]);
    expect(calls.map((c) => c.due)).toEqual(calls.map((c) => c.at));
  });

  it('fires a cron job at its moment in its time zone, then the next day', async () => {
    timers.apply([job('utc', '0 3 * * *', { timezone: 'UTC' }), job('montreal', '0 3 * * *', { timezone: 'America/Montreal' })]);
    expect(timers.nextRun('utc')?.toISOString()).toBe('2030-01-15T03:00:00.000Z');
    // 03:00 in Montreal in January (UTC-5)
    expect(timers.nextRun('montreal')?.toISOString()).toBe('2030-01-15T08:00:00.000Z');

    await vi.advanceTimersByTimeAsync(90 * MINUTE - 1);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([{ job: 'utc', due: '2030-01-15T03:00:00.000Z', at: '2030-01-15T03:00:00.000Z' }]);
    expect(timers.nextRun('utc')?.toISOString()).toBe('2030-01-16T03:00:00.000Z');

    await vi.advanceTimersByTimeAsync(DAY);
    expect(calls).toEqual([
      { job: 'utc', due: '2030-01-15T03:00:00.000Z', at: '2030-01-15T03:00:00.000Z' },
      { job: 'montreal', due: '2030-01-15T08:00:00.000Z', at: '2030-01-15T08:00:00.000Z' },
      { job: 'utc', due: '2030-01-16T03:00:00.000Z', at: '2030-01-16T03:00:00.000Z' },
    ]);
  });

  it('never arms a disabled job or one without a schedule', async () => {
    expect(timers.apply([job('off', '@every 1s', { enabled: false }), job('none', '')])).toEqual({ added: [], removed: [], rescheduled: [] });
    expect(timers.size).toBe(0);
    expect(timers.nextRun('off')).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(calls).toEqual([]);
  });

  it('re-times only the jobs whose schedule a new table changes', async () => {
    timers.apply([job('kept', '@every 1m'), job('changed', '@every 1h'), job('cron', '*/10 * * * *', { timezone: 'UTC' })]);
    await vi.advanceTimersByTimeAsync(30 * SECOND);

    const changes = timers.apply([
      job('kept', '@every 1m'),
      job('changed', '@every 2m'),
      job('cron', '*/10 * * * *', { timezone: 'America/Montreal' }),
      job('added', '@every 90s'),
    ]);
    expect(changes).toEqual({ added: ['added'], removed: [], rescheduled: ['changed', 'cron'] });
    // An unchanged @every keeps its phase: due a minute after it was first armed, not after the reload.
    expect(timers.nextRun('kept')?.toISOString()).toBe(at(MINUTE));
    expect(timers.nextRun('changed')?.toISOString()).toBe(at(30 * SECOND + 2 * MINUTE));
    expect(timers.nextRun('added')?.toISOString()).toBe(at(30 * SECOND + 90 * SECOND));

    await vi.advanceTimersByTimeAsync(2 * MINUTE);
    expect(calls.map((c) => [c.job, c.at])).toEqual([
      ['kept', at(MINUTE)],
      ['added', at(2 * MINUTE)],
      ['kept', at(2 * MINUTE)],
      ['changed', at(2 * MINUTE + 30 * SECOND)],
    ]);

    calls = [];
    expect(timers.apply([job('changed', '@every 2m'), job('added', '@every 90s', { enabled: false })])).toEqual({
      added: [],
      removed: ['kept', 'cron', 'added'],
      rescheduled: [],
    });
    expect(timers.size).toBe(1);
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(new Set(calls.map((c) => c.job))).toEqual(new Set(['changed']));
  });

  it('fires once after a late wake-up, for the last slot missed, and keeps to its grid', async () => {
    timers.apply([job('tick', '@every 5m')]);
    // The host sleeps 17.5 minutes: the wall clock jumps, the pending timer still has its 5 minutes to go.
    vi.setSystemTime(new Date(T0.getTime() + 17.5 * MINUTE));
    await vi.advanceTimersByTimeAsync(5 * MINUTE);
    expect(calls).toEqual([{ job: 'tick', due: at(5 * MINUTE), at: at(22.5 * MINUTE) }]);
    expect(timers.nextRun('tick')?.toISOString()).toBe(at(25 * MINUTE));
  });

  it('waits the whole of an @every interval longer than a Node timer can hold', async () => {
    // 600 hours is more than 2^31-1 ms (24.8 days), which Node's setTimeout takes for 1 ms.
    timers.apply([job('rare', '@every 600h')]);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(600 * HOUR - 11);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([{ job: 'rare', due: at(600 * HOUR), at: at(600 * HOUR) }]);
    expect(timers.nextRun('rare')?.toISOString()).toBe(at(1200 * HOUR));
  });

  it('fires a slot once, at its time, when its timer goes off early by the wall clock', async () => {
    timers.apply([job('tick', '@every 5m')]);
    await vi.advanceTimersByTimeAsync(MINUTE);
    // The wall clock is stepped back a minute; Node's timers follow a monotonic clock and still
    // go off four minutes later, when the wall clock reads one minute before the slot.
    vi.setSystemTime(T0);
    await vi.advanceTimersByTimeAsync(4 * MINUTE);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(calls).toEqual([{ job: 'tick', due: at(5 * MINUTE), at: at(5 * MINUTE) }]);
    await vi.advanceTimersByTimeAsync(5 * MINUTE - 1);
    expect(calls).toHaveLength(1);
  });

  it('stops every timer', async () => {
    timers.apply([job('tick', '@every 1s'), job('cron', '* * * * *')]);
    timers.stop();
    expect(timers.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(calls).toEqual([]);
  });
});
