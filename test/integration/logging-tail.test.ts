// `tail -F <dir>/<job>.log` is how an operator watches a job. The stable path
// is a symlink that moves to a new file on every rotation; this runs the real
// GNU tail against the real writer.
//
// GNU tail follows a symlink by polling (it does not use inotify for
// symlinks) and reopens the name once the file it holds has not changed for
// `--max-unchanged-stats` polls (5 by default). It reads the old file to its
// end before it reopens, so it sees every line as long as a file is not both
// filled and rotated away within those polls (about 5 s by default; a job
// writing faster than that, `autodeploy logs -f` follows without loss).
// `-s 0.1` only shortens the poll so that the test takes a few seconds.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseLogLine } from '../../src/logging/format.js';
import { openLogFiles, type LogFiles } from '../../src/logging/log-files.js';
import { listLogFiles } from '../../src/logging/read-logs.js';

let dir: string;
let tail: ChildProcess | undefined;
let logs: LogFiles | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autodeploy-tail-'));
});

afterEach(async () => {
  if (tail?.pid !== undefined && tail.exitCode === null) {
    const exited = new Promise((resolve) => tail?.once('exit', resolve));
    tail.kill('SIGTERM');
    await exited;
  }
  await logs?.close();
  await rm(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function followWithTail(startBeforeTheFileExists: boolean): Promise<void> {
  logs = openLogFiles({ dir, format: 'text', maxSize: '2k', keep: 20, secrets: [] });
  const job = logs.job('follow-me').child({ run: 'r1' });
  const written: string[] = [];
  const log = (line: string): void => {
    written.push(line);
    job.info({ out: 'stdout' }, line);
  };

  if (!startBeforeTheFileExists) {
    log('written before tail starts');
    await logs.flush();
  }
  tail = spawn('tail', ['-F', '-n', '+1', '-s', '0.1', join(dir, 'follow-me.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  let complaints = '';
  tail.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  tail.stderr?.on('data', (chunk: Buffer) => (complaints += chunk.toString()));
  const switches = (): number => complaints.split('has been replaced').length - 1;
  const printedMessages = (): string[] => printed.split('\n').slice(0, -1).map((line) => parseLogLine(line)?.msg ?? `unparsed: ${line}`);
  if (startBeforeTheFileExists) {
    await until('tail to give up opening the missing file', () => complaints.includes('No such file'));
    // A first line that does not fill the file: tail must find the file before it is rotated away.
    log('first line of the first run');
    await logs.flush();
  }
  await until('tail to print the first line', () => printedMessages().length >= 1);

  for (let batch = 0; batch < 6; batch += 1) {
    for (let i = 0; i < 12; i += 1) log(`batch ${batch} line ${i} | ${'z'.repeat(150)}`);
    await logs.flush();
    await until(`tail to print batch ${batch}`, () => printedMessages().length >= written.length);
    // Pace as a job that does not fill a file within tail's reopening delay: tail is on the current file.
    const files = await until(`the rotation after batch ${batch}`, async () => {
      const current = await listLogFiles(dir, 'follow-me');
      const target = join(dir, await readlink(join(dir, 'follow-me.log')));
      return current[current.length - 1] === target ? current : undefined;
    });
    await until(`tail to reopen the current file after batch ${batch}`, () => switches() >= files.length - 1);
  }

  const rotated = await readdir(join(dir, 'follow-me.log.d'));
  expect(rotated.length).toBeGreaterThanOrEqual(6);
  expect(printedMessages()).toEqual(written);

  // what tail printed is byte for byte what the files hold
  let onDisk = '';
  for (const file of await listLogFiles(dir, 'follow-me')) onDisk += await readFile(file, 'utf8');
  expect(printed).toBe(onDisk);
  expect(complaints).toMatch(/has been replaced; {2}following new file/);
}

it('tail -F on an existing <dir>/<job>.log prints every line exactly once, in order, across several rotations', async () => {
  await followWithTail(false);
});

it('tail -F started before the job ever ran prints every line exactly once, in order, across several rotations', async () => {
  await followWithTail(true);
});
