import { createTask, getTasks } from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cronRunsAfter } from '../../src/core/cron-runs.js';

const iso = (dates: readonly Date[]): string[] => dates.map((d) => d.toISOString());

/** node-cron's own answer, which it gives only from the wall clock: the clock is set to `from`. */
function nodeCronRuns(expression: string, timezone: string, from: Date, count: number): string[] {
  vi.useFakeTimers();
  vi.setSystemTime(from);
  const task = createTask(expression, () => undefined, { timezone });
  try {
    return iso(task.getNextRuns(count));
  } finally {
    void task.destroy();
    vi.useRealTimers();
  }
}

describe('cronRunsAfter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const EXPRESSIONS = [
    '7 5 * * *',
    '*/15 * * * * *',
    '0 0 L * *',
    '0 12 15W * *',
    '0 12 LW * *',
    '0 12 L-3 * *',
    '30 6 * * 5#2',
    '30 6 * * 5L',
    '0 5 * * mon-fri',
    '0 0 1,15 */2 *',
    '0 0 13 * 5',
    '0 22 * * 0,7',
    '@weekly',
    '@yearly',
  ];
  const ZONES = ['UTC', 'America/Montreal', 'Asia/Kolkata', 'Pacific/Chatham'];
  const FROM = [new Date('2024-01-30T23:59:59.500Z'), new Date('2025-06-30T12:00:00Z')];

  it.each(EXPRESSIONS)('finds the runs of %j that node-cron finds', (expression) => {
    for (const timezone of ZONES) {
      for (const from of FROM) {
        expect(iso(cronRunsAfter(expression, timezone, from, 5)), `${expression} in ${timezone} after ${from.toISOString()}`).toEqual(
          nodeCronRuns(expression, timezone, from, 5),
        );
      }
    }
  });

  it('does not run a time the zone skips, and runs a time it repeats once, at its first occurrence', () => {
    // Montreal: 02:00 becomes 03:00 on 2024-03-10; 02:00 becomes 01:00 again on 2024-11-03
    expect(iso(cronRunsAfter('30 2 * * *', 'America/Montreal', new Date('2024-03-09T12:00:00Z'), 2))).toEqual([
      '2024-03-11T06:30:00.000Z',
      '2024-03-12T06:30:00.000Z',
    ]);
    expect(iso(cronRunsAfter('30 1 * * *', 'America/Montreal', new Date('2024-11-02T12:00:00Z'), 2))).toEqual([
      '2024-11-03T05:30:00.000Z',
      '2024-11-04T06:30:00.000Z',
    ]);
    // Paris: 03:00 becomes 02:00 again on 2024-10-27
    expect(iso(cronRunsAfter('30 2 * * *', 'Europe/Paris', new Date('2024-10-26T12:00:00Z'), 2))).toEqual([
      '2024-10-27T00:30:00.000Z',
      '2024-10-28T01:30:00.000Z',
    ]);
    // inside the repeated hour, after its first occurrence: the next day's
    expect(iso(cronRunsAfter('30 2 * * *', 'Europe/Paris', new Date('2024-10-27T00:45:00Z'), 1))).toEqual(['2024-10-28T01:30:00.000Z']);
  });

  it('finds rare days quickly, and leaves no task behind in node-cron', () => {
    const before = getTasks().size;
    const started = performance.now();
    // 29 February on a Monday
    expect(iso(cronRunsAfter('0 0 29 2 1', 'UTC', new Date('2024-03-01T00:00:00Z'), 2))).toEqual([
      '2044-02-29T00:00:00.000Z',
      '2072-02-29T00:00:00.000Z',
    ]);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(getTasks().size).toBe(before);
  });

  it('says when an expression never runs', () => {
    expect(() => cronRunsAfter('0 0 L-30 2 *', 'UTC', new Date('2024-01-01T00:00:00Z'), 1)).toThrow(
      'cron expression "0 0 L-30 2 *" has no run in the 100 years after 2024-01-01T00:00:00.000Z',
    );
  });

  it('refuses an expression node-cron cannot read', () => {
    expect(() => cronRunsAfter('61 * * * *', 'UTC', new Date(), 1)).toThrow();
  });
});
