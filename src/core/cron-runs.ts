// The run times of a cron expression after any given moment, in a given time zone.
//
// node-cron's public API cannot give these. A task's getNextRun() answers only once the task
// is started, that is once its timer is set, and getNextRuns(count) always counts from the
// wall clock, whereas `autodeploy jobs` (and its tests, with a fake clock) ask for the runs
// after a moment of their choosing. So the walk through the calendar is done here, and
// node-cron is asked only what its public API does answer: `parse` expands the fields, and a
// stopped task's `match` says whether a calendar day fits the day-of-month, month and
// day-of-week fields, so that `L`, `W`, `#` and the rest mean here what they mean to the
// node-cron timer that actually runs the job.
//
// Daylight saving time: a wall-clock time that the zone skips has no run, as node-cron's
// `match` has none for it; a wall-clock time that the zone repeats runs once, at its first
// occurrence. node-cron's timer does the same west of UTC, but east of UTC (Europe/Paris) it
// runs the repeated hour at its second occurrence, so there, on that one night, the time
// shown here is an hour earlier than the run.

import { createTask, parse } from 'node-cron';

const DAY_MS = 86_400_000;
/** node-cron gives up after about as long; an expression such as `0 0 L-30 2 *` never runs. */
const SEARCH_YEARS = 100;
const SEARCH_MS = SEARCH_YEARS * 366 * DAY_MS;

interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string | undefined): Intl.DateTimeFormat {
  const key = timezone ?? '';
  let formatter = formatters.get(key);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      ...(timezone === undefined ? {} : { timeZone: timezone }),
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(key, formatter);
  }
  return formatter;
}

/** The wall-clock time in the zone (undefined: this host's) at an instant, to the second. */
function wallTimeAt(instant: number, timezone: string | undefined): WallTime {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatterFor(timezone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

function asUtc(wall: WallTime): number {
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
}

/** How far the zone's clock is ahead of UTC at an instant, in milliseconds. */
function offsetAt(instant: number, timezone: string | undefined): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return asUtc(wallTimeAt(whole, timezone)) - whole;
}

/**
 * The first instant at which the zone's clock reads `wall`; undefined when it never does (the
 * hour skipped when clocks go forward). The offsets a day either side cover both sides of any
 * change of offset near that time.
 */
function firstInstantOf(wall: WallTime, timezone: string | undefined): number | undefined {
  const utc = asUtc(wall);
  const offsets = new Set([offsetAt(utc - DAY_MS, timezone), offsetAt(utc, timezone), offsetAt(utc + DAY_MS, timezone)]);
  let first: number | undefined;
  for (const offset of offsets) {
    const instant = utc - offset;
    if (offsetAt(instant, timezone) === offset && (first === undefined || instant < first)) first = instant;
  }
  return first;
}

const ascending = (values: readonly number[]): number[] => [...new Set(values)].sort((a, b) => a - b);

/**
 * The next `count` runs of a cron expression (5 or 6 fields, or a nickname node-cron knows)
 * strictly after `from`, reading it in `timezone` (undefined: this host's zone).
 * Throws when the expression is not valid, or has a hundred years without a run.
 */
export function cronRunsAfter(expression: string, timezone: string | undefined, from: Date, count: number): Date[] {
  if (count <= 0) return [];
  const fields = parse(expression);
  const hours = ascending(fields.hour);
  const minutes = ascending(fields.minute);
  const seconds = ascending(fields.second);
  const months = new Set(fields.month);
  // Read in UTC with every time of day allowed, this task matches a whole calendar day or none of it.
  const days = createTask(
    `* * * ${fields.dayOfMonth.join(',')} ${fields.month.join(',')} ${fields.dayOfWeek.join(',')}`,
    () => undefined,
    { timezone: 'UTC' },
  );
  try {
    const runs: Date[] = [];
    const after = from.getTime();
    const start = wallTimeAt(after, timezone);
    // Wall-clock times earlier in the first day map to instants no later than `from`.
    const startSecond = (start.hour * 60 + start.minute) * 60 + start.second;
    const firstDay = Date.UTC(start.year, start.month - 1, start.day);
    let lastDay = firstDay + SEARCH_MS;
    for (let dayStart = firstDay; dayStart <= lastDay; dayStart += DAY_MS) {
      const date = new Date(dayStart);
      const year = date.getUTCFullYear();
      const month = date.getUTCMonth() + 1;
      const day = date.getUTCDate();
      if (!months.has(month) || !days.match(date)) continue;
      for (const hour of hours) {
        for (const minute of minutes) {
          for (const second of seconds) {
            if (dayStart === firstDay && (hour * 60 + minute) * 60 + second < startSecond) continue;
            const instant = firstInstantOf({ year, month, day, hour, minute, second }, timezone);
            if (instant === undefined || instant <= after) continue;
            runs.push(new Date(instant));
            if (runs.length >= count) return runs;
            lastDay = dayStart + SEARCH_MS;
          }
        }
      }
    }
    const since = runs.at(-1) ?? from;
    throw new Error(`cron expression "${expression}" has no run in the ${SEARCH_YEARS} years after ${since.toISOString()}`);
  } finally {
    void days.destroy();
  }
}
