import { describe, expect, it } from 'vitest';
import { ACCEPTED_SCHEDULES, parseSchedule } from '../../src/core/schedule.js';

describe('parseSchedule', () => {
  it('reads an empty or blank schedule as disabled', () => {
    expect(parseSchedule('', 'UTC')).toEqual({ ok: true, schedule: null });
    expect(parseSchedule(' \t ', undefined)).toEqual({ ok: true, schedule: null });
  });

  it.each([
    ['7 5 * * *', '7 5 * * *'],
    ['0  7 5 * *   *', '0 7 5 * * *'],
    ['*/15 * * * * *', '*/15 * * * * *'],
    ['0 5 * * mon-fri', '0 5 * * mon-fri'],
    ['0 0 L * *', '0 0 L * *'],
  ])('reads the cron expression %j', (text, expression) => {
    expect(parseSchedule(text, 'America/Montreal')).toEqual({
      ok: true,
      schedule: { kind: 'cron', text, expression, timezone: 'America/Montreal' },
    });
  });

  it.each(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@Daily'])(
    'reads the nickname %s',
    (text) => {
      expect(parseSchedule(text, undefined)).toEqual({
        ok: true,
        schedule: { kind: 'cron', text, expression: text.toLowerCase(), timezone: undefined },
      });
    },
  );

  it.each([
    ['@every 30s', 30_000],
    ['@every 5m', 300_000],
    ['@every 2h', 7_200_000],
    ['@every 1h30m', 5_400_000],
    ['@every 1m30s', 90_000],
    ['@every 1s', 1000],
  ])('reads %j as an interval', (text, intervalMs) => {
    expect(parseSchedule(text, 'UTC')).toEqual({ ok: true, schedule: { kind: 'every', text, intervalMs } });
  });

  it.each([
    ['61 * * * *', 'schedule "61 * * * *" is not valid: the minute field "61" is not valid'],
    ['0 25 * * *', 'schedule "0 25 * * *" is not valid: the hour field "25" is not valid'],
    ['0 0 32 * *', 'schedule "0 0 32 * *" is not valid: the day-of-month field "32" is not valid'],
    ['0 0 * 13 *', 'schedule "0 0 * 13 *" is not valid: the month field "13" is not valid'],
    ['0 0 * * 8', 'schedule "0 0 * * 8" is not valid: the day-of-week field "8" is not valid'],
    ['61 0 0 * * *', 'schedule "61 0 0 * * *" is not valid: the second field "61" is not valid'],
    ['*/0 * * * *', 'schedule "*/0 * * * *" is not valid: the minute field "*/0" is not valid'],
    ['0 0 31 2 *', 'schedule "0 0 31 2 *" is not valid: day 31 never occurs in the given month(s)'],
    ['x y * * *', 'schedule "x y * * *" is not valid: the minute field "x" is not valid; the hour field "y" is not valid'],
    ['* * * *', `schedule "* * * *" is not valid: it has 4 fields; use ${ACCEPTED_SCHEDULES}`],
    ['* * * * * * *', `schedule "* * * * * * *" is not valid: it has 7 fields; use ${ACCEPTED_SCHEDULES}`],
    ['daily', `schedule "daily" is not valid: it has 1 field; use ${ACCEPTED_SCHEDULES}`],
    ['@sometimes', `schedule "@sometimes" is not valid; use ${ACCEPTED_SCHEDULES}`],
    ['@every', 'schedule "@every" is not valid: @every takes a duration like 30s, 5m, 2h or 1h30m'],
    ['@every 5', 'schedule "@every 5" is not valid: @every takes a duration like 30s, 5m, 2h or 1h30m'],
    ['@every 500ms', 'schedule "@every 500ms" is not valid: @every takes a duration like 30s, 5m, 2h or 1h30m'],
    ['@every 1d', 'schedule "@every 1d" is not valid: @every takes a duration like 30s, 5m, 2h or 1h30m'],
    ['@every -5m', 'schedule "@every -5m" is not valid: @every takes a duration like 30s, 5m, 2h or 1h30m'],
    ['@every 0s', 'schedule "@every 0s" is not valid: the interval must be at least 1s'],
    ['@every 0m0s', 'schedule "@every 0m0s" is not valid: the interval must be at least 1s'],
  ])('refuses %j', (text, message) => {
    expect(parseSchedule(text, 'UTC')).toEqual({ ok: false, message });
  });

  it('lists every accepted form when it refuses', () => {
    expect(ACCEPTED_SCHEDULES).toContain('5-field cron');
    for (const form of ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@every <n><s|m|h>']) {
      expect(ACCEPTED_SCHEDULES).toContain(form);
    }
  });
});
