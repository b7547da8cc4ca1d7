import { createTask } from 'node-cron';
import type { Schedule } from './job.js';

interface Matcher {
  getNextMatch(date: Date): Date;
}

// node-cron's public getNextRuns() always counts from the wall clock; its task
// keeps the matcher that does the calendar and time-zone work, and that
// matcher takes any starting date. A throw-away task is created once per
// expression and destroyed at once, so nothing is left in node-cron's registry.
const matchers = new Map<string, Matcher>();

function matcherFor(expression: string, timezone: string | undefined): Matcher {
  const cacheKey = `${timezone ?? ''}\u0000${expression}`;
  const cached = matchers.get(cacheKey);
  if (cached !== undefined) return cached;
  const task = createTask(expression, () => undefined, timezone === undefined ? {} : { timezone });
  const matcher = (task as unknown as { timeMatcher?: Partial<Matcher> }).timeMatcher;
  void task.destroy();
  if (matcher === undefined || typeof matcher.getNextMatch !== 'function') {
    throw new Error('node-cron no longer exposes its time matcher; next runs cannot be computed from a given date');
  }
  const bound: Matcher = { getNextMatch: (date) => (matcher.getNextMatch as Matcher['getNextMatch']).call(matcher, date) };
  matchers.set(cacheKey, bound);
  return bound;
}

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
  const matcher = matcherFor(schedule.expression, schedule.timezone);
  let cursor = from;
  while (runs.length < count) {
    cursor = matcher.getNextMatch(cursor);
    runs.push(cursor);
  }
  return runs;
}

/** The first run strictly after `from`. */
export function nextRun(schedule: Schedule, from: Date, anchor?: Date): Date {
  const [first] = nextRuns(schedule, from, 1, anchor);
  if (first === undefined) throw new Error(`schedule "${schedule.text}" has no next run`);
  return first;
}
