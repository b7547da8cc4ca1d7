/**
 * The longest interval or timeout a job may have: a year and a day. Waits that long work (they
 * are chained past Node's 24.8-day timer limit); beyond it a value is refused at load, so that
 * no number is too large to be a date or a timer.
 */
export const MAX_DURATION_MS = 366 * 24 * 3_600_000;
export const MAX_DURATION_TEXT = '366 days (8784h)';

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export interface DurationOptions {
  /** a bare number is seconds: `90` */
  readonly plainSeconds?: boolean;
  /** days are allowed too: `1d`, `2d12h` (ages, not timeouts or intervals) */
  readonly days?: boolean;
}

/**
 * `90s`, `30m`, `2h`, `1h30m` (and `1d`, `2d12h` when `days`, plain seconds, `90`, when
 * `plainSeconds`) in milliseconds; undefined when the text is none of these.
 */
export function parseDuration(text: string, options: DurationOptions = {}): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === '') return undefined;
  if (/^\d+$/.test(t)) return options.plainSeconds === true ? Number(t) * 1000 : undefined;
  const m = DURATION.exec(t);
  if (m === null) return undefined;
  const [, days, hours, minutes, seconds] = m;
  if (days !== undefined && options.days !== true) return undefined;
  return (((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes ?? 0)) * 60 + Number(seconds ?? 0)) * 1000;
}
