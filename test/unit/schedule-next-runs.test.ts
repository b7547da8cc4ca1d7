import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Schedule } from '../../src/core/job.js';
import { nextRun, nextRuns } from '../../src/core/next-runs.js';
import { parseSchedule } from '../../src/core/schedule.js';

function schedule(text: string, timezone: string | undefined): Schedule {
  const parsed = parseSchedule(text, timezone);
  if (!parsed.ok || parsed.schedule === null) throw new Error(`test schedule ${text} did not parse`);
  return parsed.schedule;
}

const iso = (dates: readonly Date[]): string[] => dates.map((d) => d.toISOString());

describe('nextRuns', () => {
  // The wall clock sits far from every `from` below: runs must follow `from`, not the clock.
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2031-07-04T16:20:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('computes daily cron runs in the configured time zone, across a DST change', () => {
    // America/Montreal moves from UTC-5 to UTC-4 on 2024-03-10
    const runs = nextRuns(schedule('7 5 * * *', 'America/Montreal'), new Date('2024-03-09T09:00:00Z'), 3);
    expect(iso(runs)).toEqual(['2024-03-09T10:07:00.000Z', '2024-03-10T09:07:00.000Z', '2024-03-11T09:07:00.000Z']);
  });

  it('reads the same expression differently in another zone', () => {
    const from = new Date('2024-06-01T00:00:00Z');
    expect(iso(nextRuns(schedule('0 9 * * *', 'UTC'), from, 1))).toEqual(['2024-06-01T09:00:00.000Z']);
    // 09:00 in Tokyo is exactly `from`, so the first run is the next day's
    expect(iso(nextRuns(schedule('0 9 * * *', 'Asia/Tokyo'), from, 1))).toEqual(['2024-06-02T00:00:00.000Z']);
    expect(iso(nextRuns(schedule('0 9 * * *', 'Europe/Paris'), from, 1))).toEqual(['2024-06-01T07:00:00.000Z']);
  });

  it('runs strictly after from', () => {
    const s = schedule('30 * * * *', 'UTC');
    expect(iso(nextRuns(s, new Date('2024-01-01T10:30:00Z'), 2))).toEqual(['2024-01-01T11:30:00.000Z', '2024-01-01T12:30:00.000Z']);
    expect(iso(nextRuns(s, new Date('2024-01-01T10:29:59.999Z'), 1))).toEqual(['2024-01-01T10:30:00.000Z']);
  });

  it('handles 6-field expressions with seconds', () => {
    const runs = nextRuns(schedule('*/15 * * * * *', 'UTC'), new Date('2024-01-01T12:00:07.500Z'), 4);
    expect(iso(runs)).toEqual([
      '2024-01-01T12:00:15.000Z',
      '2024-01-01T12:00:30.000Z',
      '2024-01-01T12:00:45.000Z',
      '2024-01-01T12:01:00.000Z',
    ]);
  });

  it('handles nicknames', () => {
    const from = new Date('2024-02-28T12:34:00Z');
    expect(iso(nextRuns(schedule('@hourly', 'UTC'), from, 2))).toEqual(['2024-02-28T13:00:00.000Z', '2024-02-28T14:00:00.000Z']);
    expect(iso(nextRuns(schedule('@monthly', 'UTC'), from, 2))).toEqual(['2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    // 2024-03-03 is a Sunday; Paris is UTC+1 then
    expect(iso(nextRuns(schedule('@weekly', 'Europe/Paris'), from, 1))).toEqual(['2024-03-02T23:00:00.000Z']);
    expect(iso(nextRuns(schedule('@yearly', 'UTC'), from, 1))).toEqual(['2025-01-01T00:00:00.000Z']);
  });

  it('counts @every from the anchor', () => {
    const s = schedule('@every 10m', undefined);
    const anchor = new Date('2024-01-01T00:00:00Z');
    expect(iso(nextRuns(s, new Date('2024-01-01T00:25:00Z'), 3, anchor))).toEqual([
      '2024-01-01T00:30:00.000Z',
      '2024-01-01T00:40:00.000Z',
      '2024-01-01T00:50:00.000Z',
    ]);
    // exactly on a run: the next one
    expect(iso(nextRuns(s, new Date('2024-01-01T00:30:00Z'), 1, anchor))).toEqual(['2024-01-01T00:40:00.000Z']);
  });

  it('counts @every from `from` when there is no anchor', () => {
    const from = new Date('2024-01-01T08:00:03Z');
    expect(iso(nextRuns(schedule('@every 1h30m', undefined), from, 2))).toEqual(['2024-01-01T09:30:03.000Z', '2024-01-01T11:00:03.000Z']);
  });

  it('starts @every one interval after an anchor that is later than from', () => {
    const anchor = new Date('2024-01-01T01:00:00Z');
    expect(iso(nextRuns(schedule('@every 30s', undefined), new Date('2024-01-01T00:00:00Z'), 2, anchor))).toEqual([
      '2024-01-01T01:00:30.000Z',
      '2024-01-01T01:01:00.000Z',
    ]);
  });

  it('returns nothing for a count of zero, and nextRun gives the first run', () => {
    const s = schedule('0 0 * * *', 'UTC');
    expect(nextRuns(s, new Date('2024-01-01T12:00:00Z'), 0)).toEqual([]);
    expect(nextRun(s, new Date('2024-01-01T12:00:00Z')).toISOString()).toBe('2024-01-02T00:00:00.000Z');
  });
});
