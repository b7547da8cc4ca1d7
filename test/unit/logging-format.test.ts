import { describe, expect, it } from 'vitest';
import { formatJson, formatText, levelFromNumber, parseLogLine, type LogRecord } from '../../src/logging/format.js';

const T = Date.parse('2026-11-22T10:00:00.123Z');

function output(msg: string, extra: Partial<LogRecord> = {}): LogRecord {
  return { time: T, level: 'info', job: 'backup', run: 'r7k2p', out: 'stdout', msg, ...extra };
}

describe('formatText', () => {
  it('writes a job output line with the raw message after the separator', () => {
    expect(formatText(output('hello from the job'))).toBe('2026-11-22T10:00:00.123Z INFO  backup[r7k2p] | hello from the job');
    expect(formatText(output('oops', { out: 'stderr', level: 'warn' }))).toBe('2026-11-22T10:00:00.123Z WARN  backup[r7k2p] ! oops');
  });

  it('writes an event with its fields as key=value, quoting values with blanks', () => {
    const line = formatText({ time: T + 1377, level: 'info', job: 'backup', run: 'r7k2p', msg: 'run finished', exitCode: 0, durationMs: 1377, reason: 'took too long' });
    expect(line).toBe('2026-11-22T10:00:01.500Z INFO  backup[r7k2p] run finished exitCode=0 durationMs=1377 reason="took too long"');
  });

  it('names the scheduler when there is neither job nor run', () => {
    expect(formatText({ time: T, level: 'error', msg: 'job table is invalid', file: '/srv/env.local' })).toBe(
      '2026-11-22T10:00:00.123Z ERROR scheduler: job table is invalid file=/srv/env.local',
    );
  });

  it('quotes a string field that would read back as another type', () => {
    const line = formatText({ time: T, level: 'info', msg: 'x', a: '0', b: 'true', c: 'null', d: '', e: '{x' });
    expect(line).toBe('2026-11-22T10:00:00.123Z INFO  scheduler: x a="0" b="true" c="null" d="" e="{x"');
  });
});

// Records that must come back exactly as they went in, in both formats.
const roundTrips: Array<[string, LogRecord]> = [
  ['plain output', output('hello')],
  ['empty output', output('')],
  ['output of only spaces', output('   ')],
  ['output with leading and trailing spaces', output('  indented  ')],
  ['output with separators and equals', output('| a=b ! c | d')],
  ['output that looks like a field', output('exitCode=0')],
  ['output that looks like a quoted string', output('"quoted" x=1')],
  ['output that looks like a whole log line', output('2026-11-22T10:00:00.123Z INFO  other[x] | nested')],
  ['output with a carriage return', output('progress 50%\rprogress 100%\r')],
  ['output with tabs and unicode', output('\tcafé ☕ \u0000 end')],
  ['output with a newline', output('first\nsecond')],
  ['stderr output', output('warning: x', { out: 'stderr' })],
  ['output with an extra field', output('hello', { container: 'abc 123', attempt: 2 })],
  ['output of a job that is not a plain name', output('hi', { job: 'my job', run: 'r1' })],
  ['output of a run that is not a plain name', output('hi', { run: 'r 1' })],
  ['output without job or run', { time: T, level: 'info', out: 'stdout', msg: 'x' }],
  ['event', { time: T, level: 'info', job: 'backup', run: 'r7k2p', msg: 'run finished', exitCode: 0, durationMs: 1377 }],
  ['event with a message holding equals', { time: T, level: 'info', job: 'backup', msg: 'set a=b', x: 1 }],
  ['event with a message holding quotes', { time: T, level: 'info', msg: 'say "hi"', x: 'y' }],
  ['event with an empty message', { time: T, level: 'debug', msg: '', x: 1 }],
  ['event with a multi-line message', { time: T, level: 'error', msg: 'failed:\n  at x', code: 'E1' }],
  ['event with a message starting with a separator', { time: T, level: 'info', job: 'j', msg: '| not output' }],
  ['event with a message with surrounding blanks', { time: T, level: 'info', msg: ' padded ' }],
  ['event with only a job', { time: T, level: 'warn', job: 'backup', msg: 'run skipped: previous run still going', previousRun: 'r1' }],
  ['event with only a run', { time: T, level: 'info', run: 'r1', msg: 'x' }],
  ['event of a job named scheduler', { time: T, level: 'info', job: 'scheduler', msg: 'x' }],
  ['event whose message starts with a bracket', { time: T, level: 'info', job: 'backup', msg: '[r1] looks like a run' }],
  ['event of a run with an empty id', { time: T, level: 'info', job: 'backup', run: '', msg: 'x' }],
  ['event whose message is a single character', { time: T, level: 'info', msg: 'x' }],
  ['event with every kind of value', {
    time: T, level: 'fatal', msg: 'values',
    n: -1.5e-7, t: true, f: false, z: null, s: 'a=b', q: 'with "quote"', e: '', sp: ' lead', arr: [1, 'two words', { x: '}' }],
    obj: { nested: { deep: 'a b' }, list: [] }, url: 'https://example.org/?a=b&c=d',
  }],
  ['event with keys that are not plain', { time: T, level: 'info', msg: 'k', 'two words': 1, 'a=b': 'c', '': 'empty key' }],
  ['event with a non-standard out', { time: T, level: 'info', msg: 'x', out: 'other' as never }],
  ['trace level', { time: T, level: 'trace', msg: 'x' }],
];

describe('round trip', () => {
  it.each(roundTrips)('text: %s', (_name, record) => {
    const line = formatText(record);
    expect(line).not.toContain('\n');
    expect(parseLogLine(line)).toEqual(record);
  });

  it.each(roundTrips)('json: %s', (_name, record) => {
    expect(parseLogLine(formatJson(record))).toEqual(record);
  });
});

describe('parseLogLine', () => {
  it('reads pino JSON with a numeric level, pid and hostname', () => {
    const line = '{"level":50,"time":1763805600123,"pid":7,"hostname":"h","job":"backup","run":"r1","out":"stderr","msg":"boom"}';
    expect(parseLogLine(line)).toEqual({ time: 1763805600123, level: 'error', pid: 7, hostname: 'h', job: 'backup', run: 'r1', out: 'stderr', msg: 'boom' });
  });

  it('reads a level label and an ISO time', () => {
    expect(parseLogLine('{"level":"warn","time":"2026-11-22T10:00:00.123Z","msg":"m"}')).toEqual({ time: T, level: 'warn', msg: 'm' });
  });

  it('maps custom pino levels to the standard level below them', () => {
    expect(levelFromNumber(35)).toBe('info');
    expect(levelFromNumber(5)).toBe('trace');
    expect(levelFromNumber(70)).toBe('fatal');
  });

  it.each([
    'plain text written by something else',
    '',
    '{not json',
    '{"msg":"no level or time"}',
    '[1,2]',
    '2026-11-22T10:00:00.123Z NOTICE backup | x',
    '2026-11-22T10:00:00.123Z INFO  ',
    '2026-11-22 10:00:00 INFO  backup | x',
    '2026-11-22T10:00:00.123Z INFO  backup[r1] "unterminated',
    '2026-11-22T10:00:00.123Z INFO  backup[r1] || "no closing',
    '2026-11-22T10:00:00.123Z INFO  backup[r1] msg x={"open":1',
  ])('returns undefined for %j', (line) => {
    expect(parseLogLine(line)).toBeUndefined();
  });
});
