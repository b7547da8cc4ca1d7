import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { deployEventText } from '../../src/core/deploy-event-text.js';
import type { DeployEvent } from '../../src/core/deploy-events.js';
import { formatEventLine, parseEventLine } from '../../src/core/event-line.js';
import { formatJson, formatText, parseLogLine, type LogRecord } from '../../src/logging/format.js';
import { logOutputLine } from '../../src/logging/log-files.js';

// The line a built-in job writes for each event, and what the scheduler's log writer makes of
// a line of a job's output: an event becomes a record with fields, anything else stays as it is.

const A = '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d';
const B = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432';
const PULLED: DeployEvent = { type: 'pulled', path: '/srv/platform', from: A, to: B, deployed: true, commits: [{ commit: B, subject: 'Fix "web" | a=b' }] };

describe('formatEventLine', () => {
  it('writes the event name, the version, the fields flat, and the sentence last', () => {
    const line = formatEventLine('deploy', PULLED, deployEventText(PULLED));
    expect(line).toBe(
      `{"event":"deploy.pulled","eventVersion":1,"path":"/srv/platform","from":"${A}","to":"${B}","deployed":true,"commits":[{"commit":"${B}","subject":"Fix \\"web\\" | a=b"}],"msg":"pulled /srv/platform: 1a2b3c4d5e6f..9f8e7d6c5b4a"}`,
    );
  });

  it('leaves out fields that are undefined', () => {
    const back: DeployEvent = { type: 'checkout-moved-back', path: '/srv/platform', to: A, error: undefined };
    const line = formatEventLine('deploy', back, 'x');
    expect(JSON.parse(line)).toEqual({ event: 'deploy.checkout-moved-back', eventVersion: 1, path: '/srv/platform', to: A, msg: 'x' });
  });
});

describe('parseEventLine', () => {
  it('reads back what formatEventLine wrote', () => {
    const parsed = parseEventLine(formatEventLine('deploy', PULLED, 'pulled it'));
    expect(parsed).toEqual({
      event: 'deploy.pulled',
      msg: 'pulled it',
      fields: { path: '/srv/platform', from: A, to: B, deployed: true, commits: [{ commit: B, subject: 'Fix "web" | a=b' }] },
    });
  });

  it.each([
    ['plain text', 'pulled /srv/platform: 1a2b3c4d5e6f..9f8e7d6c5b4a'],
    ['text in braces', '{ not json }'],
    ['another program\'s JSON log line', '{"level":30,"time":1700000000000,"msg":"listening"}'],
    ['JSON with an event but no version', '{"event":"deploy.pulled","msg":"x"}'],
    ['a version this writer does not know', '{"event":"deploy.pulled","eventVersion":2,"msg":"x"}'],
    ['a version written as a string', '{"event":"deploy.pulled","eventVersion":"1","msg":"x"}'],
    ['no sentence', '{"event":"deploy.pulled","eventVersion":1}'],
    ['a sentence that is not a string', '{"event":"deploy.pulled","eventVersion":1,"msg":3}'],
    ['an event name without a source', '{"event":"pulled","eventVersion":1,"msg":"x"}'],
    ['an event name with blanks', '{"event":"deploy. pulled","eventVersion":1,"msg":"x"}'],
    ['a field that names another job', '{"event":"deploy.pulled","eventVersion":1,"job":"backup","msg":"x"}'],
    ['a field that sets the level', '{"event":"deploy.pulled","eventVersion":1,"level":60,"msg":"x"}'],
    ['a field that sets the time', '{"event":"deploy.pulled","eventVersion":1,"time":0,"msg":"x"}'],
    ['a field that names another run', '{"event":"deploy.pulled","eventVersion":1,"run":"r1","msg":"x"}'],
    ['a field that sets the stream', '{"event":"deploy.pulled","eventVersion":1,"out":"stderr","msg":"x"}'],
    ['an array', '[{"event":"deploy.pulled","eventVersion":1,"msg":"x"}]'],
    ['a JSON line cut short', '{"event":"deploy.pulled","eventVersion":1,"msg":"x"'],
  ])('is not fooled by %s', (_what, line) => {
    expect(parseEventLine(line)).toBeUndefined();
  });
});

/** A job's logger as the scheduler makes it (see openLogFiles), writing its JSON lines here. */
function jobLogger(): { logger: pino.Logger; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ base: { job: 'autodeploy' } }, sink).child({ run: 'r7k2p' });
  return { logger, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('logOutputLine', () => {
  it('logs an event line as an output record with the event\'s fields and its sentence as the message', () => {
    const { logger, records } = jobLogger();
    logOutputLine(logger, 'stdout', formatEventLine('deploy', PULLED, deployEventText(PULLED)));
    const [record] = records();
    expect(record).toMatchObject({
      level: 30,
      job: 'autodeploy',
      run: 'r7k2p',
      out: 'stdout',
      event: 'deploy.pulled',
      eventVersion: 1,
      path: '/srv/platform',
      from: A,
      to: B,
      deployed: true,
      commits: [{ commit: B, subject: 'Fix "web" | a=b' }],
      msg: 'pulled /srv/platform: 1a2b3c4d5e6f..9f8e7d6c5b4a',
    });
  });

  it('logs any other line of output as it is, JSON or not', () => {
    const { logger, records } = jobLogger();
    const other = '{"level":30,"time":1700000000000,"msg":"listening","job":"web"}';
    const forged = '{"event":"deploy.pulled","eventVersion":1,"job":"backup","msg":"x"}';
    logOutputLine(logger, 'stdout', other);
    logOutputLine(logger, 'stderr', forged);
    logOutputLine(logger, 'stdout', 'plain');
    expect(records().map(({ time: _time, ...rest }) => rest)).toEqual([
      { level: 30, job: 'autodeploy', run: 'r7k2p', out: 'stdout', msg: other },
      { level: 30, job: 'autodeploy', run: 'r7k2p', out: 'stderr', msg: forged },
      { level: 30, job: 'autodeploy', run: 'r7k2p', out: 'stdout', msg: 'plain' },
    ]);
  });
});

describe('an event record in the log formats', () => {
  const T = Date.parse('2026-11-22T10:00:00.123Z');
  const record: LogRecord = {
    time: T, level: 'info', job: 'autodeploy', run: 'r7k2p', out: 'stdout',
    event: 'deploy.pulled', eventVersion: 1, path: '/srv/platform', from: A, to: B, deployed: true, commits: [{ commit: B, subject: 'Fix web' }],
    msg: 'pulled /srv/platform: 1a2b3c4d5e6f..9f8e7d6c5b4a',
  };

  it('reads as the sentence alone in text, as the job\'s output always read', () => {
    expect(formatText(record)).toBe('2026-11-22T10:00:00.123Z INFO  autodeploy[r7k2p] | pulled /srv/platform: 1a2b3c4d5e6f..9f8e7d6c5b4a');
    expect(parseLogLine(formatText(record))).toEqual({ time: T, level: 'info', job: 'autodeploy', run: 'r7k2p', out: 'stdout', msg: record.msg });
  });

  it('keeps every field in JSON, and reads back whole', () => {
    const line = formatJson(record);
    expect(JSON.parse(line)).toEqual({ ...record, level: 30 });
    expect(parseLogLine(line)).toEqual(record);
  });

  it('still names a job or run that is not a plain name in text', () => {
    expect(formatText({ ...record, run: 'r 1' })).toBe('2026-11-22T10:00:00.123Z INFO  autodeploy run="r 1" | pulled /srv/platform: 1a2b3c4d5e6f..9f8e7d6c5b4a');
  });

  it('keeps the fields in text of a record that is not a job\'s output', () => {
    const { out: _out, ...notOutput } = record;
    expect(formatText(notOutput)).toContain(' path=/srv/platform ');
  });
});
