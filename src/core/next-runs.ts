import { cronRunsAfter } from './cron-runs.js';
import type { Schedule } from './job.js';

/**
 * The next `count` run times strictly after `from`. For `@every` schedules the
 * runs are `anchor + k * interval` (k >= 1); the anchor defaults to `from`.
 */
export function nextRuns(schedule: Schedule, from: Date, count: number, anchor?: Date): Date[] {
  const runs: Date[] = [];
  if (count <= 0) return runs;
  if (schedule.kind === 'every') {
    const start = (anchor ?? from).getTime();
    const interval = schedule.intervalMs;
    let k = Math.max(1, Math.floor((from.getTime() - start) / interval) + 1);
    while (runs.length < count) {
      const t = start + k * interval;
      if (t > from.getTime()) runs.push(new Date(t));
      k += 1;
    }
    return runs;
  }
  return cronRunsAfter(schedule.expression, schedule.timezone, from, count);
}

/** The first run strictly after `from`. */
export function nextRun(schedule: Schedule, from: Date, anchor?: Date): Date {
  const [first] = nextRuns(schedule, from, 1, anchor);
  if (first === undefined) throw new Error(`schedule "${schedule.text}" has no next run`);
  return first;
}
