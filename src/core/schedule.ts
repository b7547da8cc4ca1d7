import { validateDetailed } from 'node-cron';
import type { Schedule } from './job.js';
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from './duration.js';

export type ParseScheduleResult =
  | { readonly ok: true; readonly schedule: Schedule | null }
  | { readonly ok: false; readonly message: string };

const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

export const ACCEPTED_SCHEDULES =
  'a 5-field cron expression ("7 5 * * *"), a 6-field one with seconds first ("0 7 5 * * *"), ' +
  '@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, ' +
  '"@every <n><s|m|h>" (e.g. @every 5m, @every 1h30m), or empty to disable';

const FIELD_LABELS: Readonly<Record<string, string>> = {
  second: 'second',
  minute: 'minute',
  hour: 'hour',
  dayOfMonth: 'day-of-month',
  month: 'month',
  dayOfWeek: 'day-of-week',
};

/**
 * Reads a schedule expression; empty (or blank) means disabled (null).
 * `timezone` is kept on cron schedules; `@every` intervals do not depend on it.
 */
export function parseSchedule(text: string, timezone: string | undefined): ParseScheduleResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, schedule: null };
  const lower = trimmed.toLowerCase();

  if (lower === '@every' || lower.startsWith('@every ') || lower.startsWith('@every\t')) {
    const spec = trimmed.slice('@every'.length).trim();
    const intervalMs = /^(?:\d+[hms])+$/i.test(spec) ? parseDuration(spec) : undefined;
    if (intervalMs === undefined) {
      return {
        ok: false,
        message: `schedule "${trimmed}" is not valid: @every takes a duration like 30s, 5m, 2h or 1h30m`,
      };
    }
    if (intervalMs < 1000) {
      return { ok: false, message: `schedule "${trimmed}" is not valid: the interval must be at least 1s` };
    }
    if (intervalMs > MAX_DURATION_MS) {
      return { ok: false, message: `schedule "${trimmed}" is not valid: the interval must be at most ${MAX_DURATION_TEXT}` };
    }
    return { ok: true, schedule: { kind: 'every', text, intervalMs } };
  }

  if (trimmed.startsWith('@')) {
    if (!NICKNAMES.has(lower)) {
      return { ok: false, message: `schedule "${trimmed}" is not valid; use ${ACCEPTED_SCHEDULES}` };
    }
    return { ok: true, schedule: { kind: 'cron', text, expression: lower, timezone } };
  }

  const expression = trimmed.split(/\s+/).join(' ');
  const fields = expression.split(' ').length;
  if (fields !== 5 && fields !== 6) {
    return {
      ok: false,
      message: `schedule "${trimmed}" is not valid: it has ${fields} field${fields === 1 ? '' : 's'}; use ${ACCEPTED_SCHEDULES}`,
    };
  }
  const check = validateDetailed(expression);
  if (!check.valid) {
    const problems = check.errors.map((e) => {
      if (e.field === 'expression') return `it contains characters a cron expression cannot hold; use ${ACCEPTED_SCHEDULES}`;
      const label = FIELD_LABELS[e.field] ?? e.field;
      if (e.message.includes('impossible')) return `day ${e.value ?? ''} never occurs in the given month(s)`;
      return `the ${label} field "${e.value ?? ''}" is not valid`;
    });
    return { ok: false, message: `schedule "${trimmed}" is not valid: ${problems.join('; ')}` };
  }
  return { ok: true, schedule: { kind: 'cron', text, expression, timezone } };
}
