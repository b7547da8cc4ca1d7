import { appendFileSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatJson, formatText, type LogRecord } from '../../src/logging/format.js';
import { openLogFiles, type LogFiles } from '../../src/logging/log-files.js';
import { countRunOutputLines, listLogFiles, listLogNames, readLogs, type LogEntry } from '../../src/logging/read-logs.js';

let dir: string;
const opened: LogFiles[] = [];

beforeEach(async () => {
  // realpath: the reader reports paths as it finds them, the writer as it makes them
  dir = await realpath(await mkdtemp(join(tmpdir(), 'autodeploy-read-')));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((logs) => logs.close()));
  await rm(dir, { recursive: true, force: true });
});

function open(format: 'text' | 'json', maxSize = '10m'): LogFiles {
  const logs = openLogFiles({ dir, format, maxSize, keep: 100, secrets: [] });
  opened.push(logs);
  return logs;
}

const T0 = Date.parse('2026-11-20T08:00:00.000Z');

function output(minute: number, msg: string, run = 'r1'): LogRecord {
  return { time: T0 + minute * 60_000, level: 'info', job: 'backup', run, out: 'stdout', msg };
}

/** Writes a numbered file of the log by hand, in the writer's layout. */
async function rolled(name: string, date: string, number: number, lines: readonly string[], end = '\n'): Promise<string> {
  await mkdir(join(dir, `${name}.log.d`), { recursive: true });
  const file = join(dir, `${name}.log.d`, `${name}.${date}.${number}.log`);
  await writeFile(file, lines.join('\n') + (lines.length > 0 ? end : ''));
  return file;
}

async function collect(entries: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const all: LogEntry[] = [];
  for await (const item of entries) all.push(item);
  return all;
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Follows a log in the background; `entries` fills as lines arrive. */
function follow(name: string, extra: { since?: Date; last?: number } = {}): { entries: LogEntry[]; stop: () => Promise<void> } {
  const abort = new AbortController();
  const entries: LogEntry[] = [];
  const done = (async () => {
    for await (const item of readLogs({ dir, name, follow: true, signal: abort.signal, pollMs: 100, ...extra })) entries.push(item);
  })();
  return {
    entries,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

describe('listLogFiles', () => {
  it('lists rotated files oldest first by date then number, the file being written last', async () => {
    const a = await rolled('backup', '2026-11-21', 10, ['x']);
    const b = await rolled('backup', '2026-11-20', 7, ['x']);
    const c = await rolled('backup', '2026-11-21', 2, ['x']);
    await writeFile(join(dir, 'backup.log.d', 'unrelated.txt'), 'x\n');
    await writeFile(join(dir, 'backup.log.d', 'backup.2026-11-21.3.log.gz'), 'x\n');
    await symlink(join('backup.log.d', 'backup.2026-11-21.10.log'), join(dir, 'backup.log'));
    expect(await listLogFiles(dir, 'backup')).toEqual([b, c, a]);
  });

  it('lists a regular file at the stable path after the numbered files, and nothing for an unknown log', async () => {
    const a = await rolled('legacy', '2026-11-20', 1, ['x']);
    await writeFile(join(dir, 'legacy.log'), 'plain\n');
    expect(await listLogFiles(dir, 'legacy')).toEqual([a, join(dir, 'legacy.log')]);
    expect(await listLogFiles(dir, 'nothing')).toEqual([]);
  });

  it('names the logs of a directory', async () => {
    const logs = open('text');
    logs.scheduler().info('up');
    logs.job('backup').info({ out: 'stdout' }, 'x');
    await logs.flush();
    await writeFile(join(dir, 'other.log'), 'written by something else\n');
    expect(await listLogNames(dir)).toEqual(['backup', 'scheduler']);
  });
});

describe('readLogs', () => {
  it('reads every file in order, both formats, and keeps lines in neither format', async () => {
    await rolled('backup', '2026-11-20', 1, [formatText(output(0, 'one')), formatJson(output(1, 'two'))]);
    await rolled('backup', '2026-11-20', 2, ['a line written by hand', formatText(output(2, 'three'))]);
    await rolled('backup', '2026-11-21', 1, [formatJson(output(3, 'four'))], '');

    const entries = await collect(readLogs({ dir, name: 'backup' }));
    expect(entries.map((e) => e.record?.msg ?? `raw: ${e.line}`)).toEqual(['one', 'two', 'raw: a line written by hand', 'three', 'four']);
    expect(entries[1]?.record).toEqual(output(1, 'two'));
    expect(entries[4]?.file).toBe(join(dir, 'backup.log.d', 'backup.2026-11-21.1.log'));
  });

  it('skips records before `since`, with the lines that follow them', async () => {
    await rolled('backup', '2026-11-20', 1, [formatText(output(0, 'old')), 'its continuation', formatText(output(5, 'new')), 'continued']);
    const entries = await collect(readLogs({ dir, name: 'backup', since: new Date(T0 + 5 * 60_000) }));
    expect(entries.map((e) => e.line.endsWith('new') ? 'new' : e.line)).toEqual(['new', 'continued']);
  });

  it('gives only the last entries when asked', async () => {
    await rolled('backup', '2026-11-20', 1, [1, 2, 3].map((m) => formatText(output(m, `m${m}`))));
    await rolled('backup', '2026-11-20', 2, [4, 5].map((m) => formatText(output(m, `m${m}`))));
    const entries = await collect(readLogs({ dir, name: 'backup', last: 3 }));
    expect(entries.map((e) => e.record?.msg)).toEqual(['m3', 'm4', 'm5']);
    expect(await collect(readLogs({ dir, name: 'backup', last: 0 }))).toEqual([]);
  });

  it('follows a burst of rotations without losing or repeating a line, then stops on abort', async () => {
    const logs = open('json', '1k');
    const job = logs.job('burst').child({ run: 'r1' });
    job.info({ out: 'stdout' }, 'before following');
    await logs.flush();

    const follower = follow('burst');
    await until('the existing line', () => follower.entries.length === 1);
    const written = ['before following'];
    // Far faster than the follower polls: many files are filled between two looks.
    for (let i = 0; i < 400; i += 1) {
      const line = `line ${i} ${'q'.repeat(40)}`;
      written.push(line);
      job.info({ out: 'stdout' }, line);
      if (i % 20 === 0) await logs.flush();
    }
    await logs.flush();
    expect((await listLogFiles(dir, 'burst')).length).toBeGreaterThan(10);
    await until('every line', () => follower.entries.length >= written.length);
    await sleep(300);
    await follower.stop();
    expect(follower.entries.map((e) => e.record?.msg)).toEqual(written);
  });

  it('reads the end of the old file and every file that appeared between two looks, in order', async () => {
    const first = await rolled('jumpy', '2026-11-20', 1, [formatText(output(0, 'm0'))]);
    await symlink(join('jumpy.log.d', 'jumpy.2026-11-20.1.log'), join(dir, 'jumpy.log'));
    const follower = follow('jumpy');
    await until('the first line', () => follower.entries.length === 1);
    // One synchronous burst: the follower cannot look in between.
    appendFileSync(first, `${formatText(output(1, 'm1'))}\n`);
    for (let n = 2; n <= 6; n += 1) {
      writeFileSync(join(dir, 'jumpy.log.d', `jumpy.2026-11-20.${n}.log`), `${formatText(output(n, `m${n}`))}\n`);
    }
    writeFileSync(join(dir, 'jumpy.log.d', 'jumpy.2026-11-21.1.log'), `${formatText(output(7, 'm7'))}\n`);
    await until('every line', () => follower.entries.length >= 8);
    await sleep(300);
    await follower.stop();
    expect(follower.entries.map((e) => e.record?.msg)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });

  it('waits for a log that does not exist yet, and starts with the last entries when asked', async () => {
    const follower = follow('later', { last: 2 });
    await sleep(250);
    expect(follower.entries).toEqual([]);
    const logs = open('text');
    const job = logs.job('later').child({ run: 'r9' });
    job.info({ out: 'stdout' }, 'first');
    job.info({ out: 'stderr' }, 'second');
    await logs.flush();
    await until('two lines', () => follower.entries.length === 2);
    job.info({ out: 'stdout' }, 'third');
    await logs.flush();
    await until('the third line', () => follower.entries.length === 3);
    await follower.stop();
    expect(follower.entries.map((e) => [e.record?.out, e.record?.msg])).toEqual([
      ['stdout', 'first'],
      ['stderr', 'second'],
      ['stdout', 'third'],
    ]);
  });

  it('keeps a line without its newline until the newline is written', async () => {
    const file = await rolled('partial', '2026-11-20', 1, [formatText(output(0, 'whole'))]);
    await symlink(join('partial.log.d', 'partial.2026-11-20.1.log'), join(dir, 'partial.log'));
    const follower = follow('partial');
    await until('the whole line', () => follower.entries.length === 1);
    await appendFile(file, formatText(output(1, 'half')).slice(0, 40));
    await sleep(300);
    expect(follower.entries).toHaveLength(1);
    await appendFile(file, `${formatText(output(1, 'half')).slice(40)}\n`);
    await until('the completed line', () => follower.entries.length === 2);
    await follower.stop();
    expect(follower.entries[1]?.record?.msg).toBe('half');
  });

  it('follows a regular file at the stable path into the numbered files when the writer adopts it', async () => {
    await writeFile(join(dir, 'autodeploy.log'), 'old line 1\nold line 2\n');
    const follower = follow('autodeploy');
    await until('the old lines', () => follower.entries.length === 2);
    const logs = open('text', '1k');
    const job = logs.job('autodeploy').child({ run: 'r1' });
    const written: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      written.push(`new ${i} ${'w'.repeat(30)}`);
      job.info({ out: 'stdout' }, written[written.length - 1]);
      await logs.flush();
    }
    await until('every new line', () => follower.entries.length >= 2 + written.length);
    await sleep(300);
    await follower.stop();
    expect(follower.entries.map((e) => e.record?.msg ?? e.line)).toEqual(['old line 1', 'old line 2', ...written]);
  });
});

describe('countRunOutputLines', () => {
  it('counts the output lines of one run across rotated files and formats', async () => {
    await rolled('backup', '2026-11-20', 1, [
      formatText(output(0, 'a')),
      formatText({ ...output(0, 'event'), out: undefined } as unknown as LogRecord),
      formatText(output(0, 'other run', 'r0')),
    ]);
    await rolled('backup', '2026-11-20', 2, [formatJson(output(1, 'b')), formatJson({ time: T0, level: 'info', job: 'backup', run: 'r1', msg: 'run started' })]);
    // the file being written ends with a line cut short: written again on re-attach, so not counted
    await rolled('backup', '2026-11-21', 1, [formatText(output(2, 'c')), formatText(output(3, 'd')).slice(0, 50)], '');
    expect(await countRunOutputLines(dir, 'backup', 'r1')).toBe(3);
    expect(await countRunOutputLines(dir, 'backup', 'r0')).toBe(1);
    expect(await countRunOutputLines(dir, 'backup', 'r2')).toBe(0);
    expect(await countRunOutputLines(dir, 'missing', 'r1')).toBe(0);
  });

  it('counts what the writer wrote, so that a resumed run continues where the file stops', async () => {
    const logs = open('text', '2k');
    const run = logs.job('resume').child({ run: 'r5' });
    for (let i = 0; i < 100; i += 1) {
      run.info({ out: i % 3 === 0 ? 'stderr' : 'stdout' }, `line ${i}`);
      if (i % 10 === 0) run.info({ step: i }, 'progress');
    }
    await logs.flush();
    expect((await listLogFiles(dir, 'resume')).length).toBeGreaterThan(1);
    expect(await countRunOutputLines(dir, 'resume', 'r5')).toBe(100);
  });
});
