import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/cli/logs.js';
import { parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1h30m15s', 5_415_000],
    [' 2H ', 7_200_000],
  ])('reads %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('reads a bare number as seconds only when asked', () => {
    expect(parseDuration('90')).toBeUndefined();
    expect(parseDuration('90', { plainSeconds: true })).toBe(90_000);
  });

  it('reads days only when asked', () => {
    expect(parseDuration('1d')).toBeUndefined();
    expect(parseDuration('2d12h')).toBeUndefined();
    expect(parseDuration('1d', { days: true })).toBe(86_400_000);
    expect(parseDuration('2d12h', { days: true })).toBe(216_000_000);
  });

  it.each(['', ' ', 'h', '1.5h', '-5m', '30m2h', '1w', '500ms', '1 h'])('refuses %j', (text) => {
    expect(parseDuration(text, { plainSeconds: true, days: true })).toBeUndefined();
  });
});

describe('parseSince', () => {
  const now = new Date('2026-11-22T12:00:00Z');

  it('reads an age back from now, or a date', () => {
    expect(parseSince('30m', now).toISOString()).toBe('2026-11-22T11:30:00.000Z');
    expect(parseSince('2h', now).toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(parseSince('1d', now).toISOString()).toBe('2026-11-21T12:00:00.000Z');
    expect(parseSince('45s', now).toISOString()).toBe('2026-11-22T11:59:15.000Z');
    expect(parseSince('1h30m', now).toISOString()).toBe('2026-11-22T10:30:00.000Z');
    expect(parseSince('2026-11-22T10:00:00Z', now).toISOString()).toBe('2026-11-22T10:00:00.000Z');
  });

  it('says what it takes when it can read neither', () => {
    expect(() => parseSince('yesterday', now)).toThrow('--since "yesterday" is neither a date (2026-11-22T10:00) nor an age (30m, 2h, 1d)');
  });
});
