import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readdir, readlink, realpath, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseLogLine, type LogRecord } from '../../src/logging/format.js';
import type { LogFileError } from '../../src/logging/log-errors.js';
import { openLogFiles, type LogFiles, type LogFilesOptions } from '../../src/logging/log-files.js';
import { listLogFiles } from '../../src/logging/read-logs.js';

let dir: string;
const opened: LogFiles[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autodeploy-logging-'));
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(opened.splice(0).map((logs) => logs.close()));
  await rm(dir, { recursive: true, force: true });
});

function open(options: Partial<LogFilesOptions> = {}): LogFiles {
  const errors: LogFileError[] = [];
  const logs = openLogFiles({
    dir,
    format: 'text',
    maxSize: '10m',
    keep: 3,
    secrets: [],
    onError: (error) => errors.push(error),
    ...options,
  });
  opened.push(logs);
  return logs;
}

// Polls with the real clock, also while a test fakes Date and setTimeout.
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function linesOf(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  return text.split('\n').slice(0, -1);
}

async function allLines(name: string): Promise<string[]> {
  const lines: string[] = [];
  for (const file of await listLogFiles(dir, name)) lines.push(...(await linesOf(file)));
  return lines;
}

async function rolledFiles(name: string): Promise<string[]> {
  return (await readdir(join(dir, `${name}.log.d`))).sort();
}

describe('openLogFiles', () => {
  it('writes a job output line and events as text to <dir>/<job>.log', async () => {
    const logs = open();
    const run = logs.job('backup').child({ run: 'r7k2p' });
    run.info({ out: 'stdout' }, 'hello from the job');
    run.info({ out: 'stderr' }, '  | odd = line "quoted"');
    run.info({ exitCode: 0, durationMs: 1377 }, 'run finished');
    await logs.flush();

    const lines = await linesOf(join(dir, 'backup.log'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}backup\[r7k2p\] \| hello from the job$/);
    expect(lines[1]).toMatch(/ INFO {2}backup\[r7k2p\] ! {3}\| odd = line "quoted"$/);
    expect(lines[2]).toMatch(/ INFO {2}backup\[r7k2p\] run finished exitCode=0 durationMs=1377$/);
    expect(lines.map((line) => parseLogLine(line))).toMatchObject([
      { job: 'backup', run: 'r7k2p', out: 'stdout', msg: 'hello from the job' },
      { job: 'backup', run: 'r7k2p', out: 'stderr', msg: '  | odd = line "quoted"' },
      { job: 'backup', run: 'r7k2p', msg: 'run finished', exitCode: 0, durationMs: 1377 },
    ]);
    expect(logs.path('backup')).toBe(join(dir, 'backup.log'));
  });

  it('writes pino JSON lines when the format is json', async () => {
    const logs = open({ format: 'json' });
    logs.job('backup').child({ run: 'r1' }).info({ out: 'stdout' }, 'a %s b');
    logs.scheduler().warn({ jobs: 3 }, 'job table reloaded');
    await logs.flush();

    const [jobLine] = await linesOf(join(dir, 'backup.log'));
    const json = JSON.parse(jobLine ?? '') as Record<string, unknown>;
    expect(json).toEqual({ level: 30, time: expect.any(Number), job: 'backup', run: 'r1', out: 'stdout', msg: 'a %s b' });
    expect(Object.keys(json)).toEqual(['level', 'time', 'job', 'run', 'out', 'msg']);
    const [schedulerLine] = await linesOf(join(dir, 'scheduler.log'));
    expect(parseLogLine(schedulerLine ?? '')).toEqual({ level: 'warn', time: expect.any(Number), jobs: 3, msg: 'job table reloaded' });
  });

  it('copies the scheduler events, and only them, to the stdout sink', async () => {
    const stdout = new PassThrough();
    let copied = '';
    stdout.on('data', (chunk: Buffer) => (copied += chunk.toString()));
    const logs = open({ stdout, secrets: ['hunter22'] });
    logs.scheduler().info({ password: 'hunter22' }, 'scheduler starting');
    logs.job('backup').info({ out: 'stdout' }, 'job output');
    await logs.flush();
    expect(copied).toMatch(/ INFO {2}scheduler: scheduler starting password=\*\*\*\n$/);
    expect(copied).not.toContain('job output');
    expect(await linesOf(join(dir, 'scheduler.log'))).toEqual([copied.trimEnd()]);
  });

  it('masks secrets in both formats, including a secret with quotes and backslashes, and takes new secrets at once', async () => {
    const secret = 'p4ss"w\\rd';
    for (const format of ['text', 'json'] as const) {
      const logs = open({ format, secrets: [secret, 'hunter22'] });
      const job = logs.job(`masked-${format}`);
      job.info({ out: 'stdout' }, `export PASSWORD='${secret}' and hunter22`);
      job.info({ env: { DB_PASSWORD: secret }, [secret]: 'as a key' }, `event with ${secret}`);
      job.info({ out: 'stdout' }, 'rotated-token-value before');
      logs.setSecrets(['rotated-token-value']);
      job.info({ out: 'stdout' }, 'rotated-token-value after');
      await logs.flush();

      const text = await readFile(join(dir, `masked-${format}.log`), 'utf8');
      expect(text).not.toContain('p4ss');
      expect(text).not.toContain('hunter22');
      const records = text.split('\n').slice(0, -1).map((line) => parseLogLine(line));
      expect(records).toMatchObject([
        { msg: "export PASSWORD='***' and ***" },
        { msg: 'event with ***', env: { DB_PASSWORD: '***' }, '***': 'as a key' },
        { msg: 'rotated-token-value before' },
        { msg: '*** after' },
      ]);
    }
  });

  it('opens a job file only when the job logs its first line', async () => {
    const logs = open();
    for (let i = 0; i < 100; i += 1) logs.job(`job-${i}`);
    logs.job('job-7').info({ out: 'stdout' }, 'only me');
    await logs.flush();
    expect((await readdir(dir)).sort()).toEqual(['job-7.log', 'job-7.log.d']);
  });

  it('holds one open file per log that has written, also after rotations', async (ctx) => {
    if (!existsSync('/proc/self/fd')) ctx.skip('needs /proc to count open files');
    const logs = open({ maxSize: '1k' });
    for (let round = 0; round < 5; round += 1) {
      for (let i = 0; i < 100; i += 1) logs.job(`job-${i}`).child({ run: `r${round}` }).info({ out: 'stdout' }, `round ${round} ${'o'.repeat(300)}`);
      await logs.flush();
    }
    const openFiles = async (): Promise<string[]> => {
      const targets: string[] = [];
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (target.startsWith(`${await realpath(dir)}/`)) targets.push(target);
      }
      return targets;
    };
    const files = await until('rotations to settle', async () => {
      const targets = await openFiles();
      return targets.length === 100 ? targets : undefined;
    });
    expect(new Set(files.map((file) => file.split('/').slice(-2)[0])).size).toBe(100);
    expect((await rolledFiles('job-42')).length).toBeGreaterThan(1);
  });

  it('refuses a job name that cannot be a file name, or that is the scheduler', () => {
    const logs = open();
    expect(() => logs.job('../etc/passwd')).toThrow(/cannot name a log file/);
    expect(() => logs.job('scheduler')).toThrow(/cannot name a log file/);
    expect(() => logs.job('')).toThrow(/cannot name a log file/);
  });

  it('refuses a size or a retention count it cannot honour', () => {
    expect(() => open({ maxSize: 'ten megs' })).toThrow(/not a size/);
    expect(() => open({ keep: 0 })).toThrow(/at least 1/);
  });

  it('rotates by size, keeps the link on the file being written, and loses no line', async () => {
    const logs = open({ maxSize: '2k', keep: 50 });
    const job = logs.job('chatty').child({ run: 'r1' });
    const written: string[] = [];
    for (let batch = 0; batch < 12; batch += 1) {
      for (let i = 0; i < 10; i += 1) {
        const line = `batch ${batch} line ${i} ${'x'.repeat(20)}`;
        written.push(line);
        job.info({ out: 'stdout' }, line);
      }
      await logs.flush();
      // a rotation completes after the write that caused it: the link then names the newest file
      await until(`the link to name the newest file after batch ${batch}`, async () => {
        const target = join(dir, await readlink(join(dir, 'chatty.log')));
        const files = await listLogFiles(dir, 'chatty');
        const newest = files[files.length - 1];
        return newest === target && (await lstat(newest)).size < 2048 ? true : undefined;
      });
    }
    const files = await rolledFiles('chatty');
    expect(files.length).toBeGreaterThanOrEqual(5);
    const read = (await allLines('chatty')).map((line) => parseLogLine(line)?.msg);
    expect(read).toEqual(written);
  });

  it('keeps at most `keep` rotated files besides the current one', async () => {
    const logs = open({ maxSize: '200b', keep: 2 });
    const job = logs.job('bounded');
    const written: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const line = `line ${i} ${'y'.repeat(200)}`;
      written.push(line);
      job.info({ out: 'stdout' }, line);
      await logs.flush();
      // each line fills a file: wait for the rotation it causes
      await until(`rotation after line ${i}`, async () => ((await readlink(join(dir, 'bounded.log'))).includes(`.${i + 2}.log`) ? true : undefined));
    }
    const files = await until('retention', async () => {
      const names = await rolledFiles('bounded');
      return names.length === 3 ? names : undefined;
    });
    const numbers = files.map((name) => Number(/\.(\d+)\.log$/.exec(name)?.[1])).sort((a, b) => a - b);
    // line i fills file i + 1; after ten lines, file 11 is current and files 9 and 10 are kept
    expect(numbers).toEqual([9, 10, 11]);
    // the newest lines survive, in order
    expect((await allLines('bounded')).map((line) => parseLogLine(line)?.msg)).toEqual(written.slice(-2));
  });

  it('rotates at midnight into a file named after the new day', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    vi.setSystemTime(new Date(2026, 10, 22, 23, 59, 58));
    const logs = open();
    const job = logs.job('nightly');
    job.info({ out: 'stdout' }, 'before midnight');
    await logs.flush();
    await vi.advanceTimersByTimeAsync(3_000);
    await until('the link to move to the new day', async () => ((await readlink(join(dir, 'nightly.log'))).includes('2026-11-23') ? true : undefined));
    job.info({ out: 'stdout' }, 'after midnight');
    await logs.flush();
    vi.useRealTimers();

    expect(await rolledFiles('nightly')).toEqual(['nightly.2026-11-22.1.log', 'nightly.2026-11-23.1.log']);
    expect(await readlink(join(dir, 'nightly.log'))).toBe(join('nightly.log.d', 'nightly.2026-11-23.1.log'));
    const read = (await allLines('nightly')).map((line) => parseLogLine(line)?.msg);
    expect(read).toEqual(['before midnight', 'after midnight']);
  });

  it('continues the same file after a restart and does not glue a line to one cut short', async () => {
    const first = open();
    first.job('resumed').info({ out: 'stdout' }, 'before the crash');
    await first.flush();
    const file = await realpath(join(dir, 'resumed.log'));
    // what a process killed in the middle of a write leaves behind
    await appendFile(file, '2026-11-22T10:00:00.000Z INFO  resumed[r1] | cut sho');
    await first.close();

    const second = open();
    second.job('resumed').info({ out: 'stdout' }, 'after the restart');
    await second.flush();
    expect(await realpath(join(dir, 'resumed.log'))).toBe(file);
    const lines = await linesOf(file);
    expect(lines.map((line) => parseLogLine(line)?.msg)).toEqual(['before the crash', 'cut sho', 'after the restart']);
  });

  it('adopts a regular file at the stable path as the oldest file of the log', async () => {
    await writeFile(join(dir, 'autodeploy.log'), 'written by an older scheduler\nsecond old line\n');
    const logs = open();
    logs.job('autodeploy').info({ out: 'stdout' }, 'new line');
    await logs.flush();

    expect((await lstat(join(dir, 'autodeploy.log'))).isSymbolicLink()).toBe(true);
    const files = await listLogFiles(dir, 'autodeploy');
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/autodeploy\.\d{4}-\d\d-\d\d\.0\.log$/);
    const lines = await allLines('autodeploy');
    expect(lines.slice(0, 2)).toEqual(['written by an older scheduler', 'second old line']);
    expect(parseLogLine(lines[2] ?? '')).toMatchObject({ msg: 'new line' });
  });

  it('reports a log directory it cannot write to and keeps the other logs working', async () => {
    await writeFile(join(dir, 'blocked.log.d'), 'a file where the directory should be');
    const errors: LogFileError[] = [];
    const logs = open({ onError: (error) => errors.push(error) });
    logs.job('blocked').info({ out: 'stdout' }, 'lost');
    logs.job('fine').info({ out: 'stdout' }, 'kept');
    await logs.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/cannot open the log file .*blocked.*check the free space and the permissions/);
    expect((await allLines('fine')).map((line) => parseLogLine(line)?.msg)).toEqual(['kept']);
  });

  it('has every line in the file when close resolves', async () => {
    const logs = openLogFiles({ dir, format: 'json', maxSize: '10m', keep: 2, secrets: [] });
    const job = logs.job('closing');
    for (let i = 0; i < 5000; i += 1) job.info({ out: 'stdout', i }, `line ${i}`);
    await logs.close();
    const records = (await allLines('closing')).map((line) => parseLogLine(line)) as LogRecord[];
    expect(records).toHaveLength(5000);
    expect(records.map((record) => record['i'])).toEqual([...Array(5000).keys()]);
    job.info({ out: 'stdout' }, 'after close');
    expect(await allLines('closing')).toHaveLength(5000);
  });
});
