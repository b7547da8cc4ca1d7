// Host logrotate and the deployment helpers, for real: logrotate/autodeploy
// installed by deployment/install-logrotate-config, run by the real
// logrotate against a log directory that the real writer has filled.

import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLogLine } from '../../src/logging/format.js';
import { openLogFiles } from '../../src/logging/log-files.js';
import { listLogFiles } from '../../src/logging/read-logs.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL = join(REPO, 'deployment', 'install-logrotate-config');
const FIX_WRITE_PERM = join(REPO, 'deployment', 'fix-write-perm');
// logrotate and setfacl live in sbin on Debian, which a non-login PATH may lack.
const PATH = `${process.env['PATH'] ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function installed(command: string): Promise<boolean> {
  const result = await run('sh', ['-c', `command -v ${command}`]).catch(() => undefined);
  return result?.code === 0;
}

const hasLogrotate = await installed('logrotate');
const hasSetfacl = await installed('setfacl');
const isRoot = process.getuid?.() === 0;

let root: string;
let logDir: string;
let config: string;
let state: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'autodeploy-logrotate-'));
  logDir = join(root, 'logs');
  config = join(root, 'logrotate.d', 'autodeploy');
  state = join(root, 'logrotate.status');
  await mkdir(join(root, 'logrotate.d'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function today(): string {
  const now = new Date();
  return `${now.getFullYear()}${String(now.getMonth() + 1).padStart(2, '0')}${String(now.getDate()).padStart(2, '0')}`;
}

/** A state file in which every path was last rotated long ago, so that `weekly` is due. */
async function writeStateDue(paths: readonly string[]): Promise<void> {
  const lines = paths.map((path) => `"${path}" 2020-1-1-0:0:0`);
  await writeFile(state, `logrotate state -- version 2\n${lines.join('\n')}\n`);
  // as logrotate keeps its own: a state file others can read is one they could lock
  await chmod(state, 0o600);
}

async function install(...args: string[]): Promise<Result> {
  return run(INSTALL, args, { LOGROTATE_FILE: config });
}

/** Fills the log directory: the scheduler's own logs, big enough to be rotated if logrotate took them. */
async function writeSchedulerLogs(): Promise<string[]> {
  const logs = openLogFiles({ dir: logDir, format: 'text', maxSize: '10m', keep: 3, secrets: [] });
  logs.scheduler().info('scheduler starting');
  const job = logs.job('big').child({ run: 'r1' });
  const written: string[] = [];
  for (let i = 0; i < 6000; i += 1) {
    written.push(`line ${i} ${'b'.repeat(100)}`);
    job.info({ out: 'stdout' }, written[written.length - 1]);
  }
  await logs.close();
  return written;
}

async function outputOf(name: string): Promise<string[]> {
  const lines: string[] = [];
  for (const file of await listLogFiles(logDir, name)) {
    for (const line of (await readFile(file, 'utf8')).split('\n').slice(0, -1)) lines.push(parseLogLine(line)?.msg ?? line);
  }
  return lines;
}

describe('install-logrotate-config', () => {
  it('installs the configuration for the given log directory, root-owned and 0644, and creates the directory', async (ctx) => {
    if (!hasLogrotate) ctx.skip('logrotate is not installed (apt-get install logrotate)');
    const result = await install(`${logDir}/`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const text = await readFile(config, 'utf8');
    expect(text).toContain(`\n${logDir}/*.log {\n`);
    expect(text).not.toMatch(/^\/var\/log\/PAVICS/m);
    for (const directive of ['weekly', 'rotate 6', 'minsize 500k', 'missingok', 'copytruncate', 'compress', 'delaycompress', 'dateext', 'notifempty']) {
      expect(text).toMatch(new RegExp(`^\\s+${directive}$`, 'm'));
    }
    const info = await stat(config);
    expect(info.mode & 0o777).toBe(0o644);
    if (isRoot) expect([info.uid, info.gid]).toEqual([0, 0]);
    expect((await stat(logDir)).isDirectory()).toBe(true);
  });

  it('refuses a log directory that logrotate would misread, and explains itself', async () => {
    const blank = await install('/var/log/my logs');
    expect(blank.code).toBe(1);
    expect(blank.stderr).toMatch(/holds a blank, a quote or a glob character/);
    const relative = await install('logs');
    expect(relative.code).toBe(1);
    expect(relative.stderr).toMatch(/must be an absolute path/);
    const help = await run(INSTALL, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: install-logrotate-config \[LOG_DIR\] \[OWNER\]/);
  });
});

describe('logrotate with the installed configuration', () => {
  it('rotates the other files of the log directory and leaves the scheduler’s own logs alone', async (ctx) => {
    if (!hasLogrotate) ctx.skip('logrotate is not installed (apt-get install logrotate)');
    expect((await install(logDir)).code).toBe(0);
    const written = await writeSchedulerLogs();
    const bigLink = join(logDir, 'big.log');
    const bigTarget = await readlink(bigLink);
    const bigFiles = await readdir(join(logDir, 'big.log.d'));
    expect((await stat(bigLink)).size).toBeGreaterThan(500 * 1024);

    const other = 'written by a job that logs on its own\n'.repeat(16_000);
    await writeFile(join(logDir, 'other.log'), other);
    await writeFile(join(logDir, 'small.log'), 'too small to rotate\n');
    await writeFile(join(logDir, 'empty.log'), '');
    await writeStateDue(['other.log', 'small.log', 'empty.log', 'big.log', 'scheduler.log'].map((name) => join(logDir, name)));

    const debug = await run('logrotate', ['-d', '-s', state, config]);
    expect(debug.code).toBe(0);
    expect(debug.stderr + debug.stdout).toContain(`log ${bigLink} is symbolic link. Rotation of symbolic links is not allowed`);

    const result = await run('logrotate', ['-s', state, config]);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });

    // the other file: copied to a dated name (compressed on the next rotation), then truncated in place
    const rotatedName = `other.log-${today()}`;
    expect(await readFile(join(logDir, rotatedName), 'utf8')).toBe(other);
    expect((await stat(join(logDir, 'other.log'))).size).toBe(0);
    // too small and empty files stay as they are
    expect(await readFile(join(logDir, 'small.log'), 'utf8')).toBe('too small to rotate\n');
    expect((await readdir(logDir)).filter((name) => name.startsWith('small.log-') || name.startsWith('empty.log-'))).toEqual([]);
    // the scheduler's logs: still symlinks to the same files, nothing added, nothing lost
    expect((await lstat(bigLink)).isSymbolicLink()).toBe(true);
    expect(await readlink(bigLink)).toBe(bigTarget);
    expect(await readdir(join(logDir, 'big.log.d'))).toEqual(bigFiles);
    expect((await readdir(logDir)).filter((name) => name.startsWith('big.log-') || name.startsWith('scheduler.log-'))).toEqual([]);
    expect(await outputOf('big')).toEqual(written);

    // A week later: the previous copy is compressed now, and only six rotations are kept.
    await rm(join(logDir, rotatedName));
    await writeFile(join(logDir, 'other.log-20200108'), 'last week\n');
    for (let day = 1; day <= 7; day += 1) await writeFile(join(logDir, `other.log-2020010${day}.gz`), '');
    await writeFile(join(logDir, 'other.log'), other);
    await writeStateDue([join(logDir, 'other.log')]);
    const again = await run('logrotate', ['-s', state, config]);
    expect(again).toEqual({ code: 0, stdout: '', stderr: '' });
    const rotations = (await readdir(logDir)).filter((name) => name.startsWith('other.log-')).sort();
    expect(rotations).toEqual(['other.log-20200104.gz', 'other.log-20200105.gz', 'other.log-20200106.gz', 'other.log-20200107.gz', 'other.log-20200108.gz', rotatedName]);
  });

  it('works when the log directory belongs to the operator and fix-write-perm gave them write access', async (ctx) => {
    if (!hasLogrotate) ctx.skip('logrotate is not installed (apt-get install logrotate)');
    if (!hasSetfacl) ctx.skip('setfacl is not installed (apt-get install acl)');
    if (!isRoot) ctx.skip('changing owners and acting as another user needs root');
    await chmod(root, 0o755);
    const group = (await run('id', ['-gn', 'nobody'])).stdout.trim();
    expect((await install(logDir, `nobody:${group}`)).code).toBe(0);
    const owner = await stat(logDir);
    expect([owner.uid, owner.gid]).toEqual([Number((await run('id', ['-u', 'nobody'])).stdout.trim()), Number((await run('id', ['-g', 'nobody'])).stdout.trim())]);
    const fixed = await run(FIX_WRITE_PERM, ['-u', 'nobody', '-l', logDir]);
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);

    await writeSchedulerLogs();
    // root created these after the ACL was set: the default ACL lets the operator write them too
    const rootFile = await readlink(join(logDir, 'big.log'));
    const asOperator = await run('runuser', ['-u', 'nobody', '--', 'sh', '-c', `echo by-operator >> '${join(logDir, rootFile)}' && echo mine > '${join(logDir, 'operator.log')}'`]);
    expect(asOperator).toMatchObject({ code: 0, stderr: '' });

    await writeFile(join(logDir, 'other.log'), 'x'.repeat(600 * 1024));
    await writeStateDue([join(logDir, 'other.log')]);
    const result = await run('logrotate', ['-s', state, config]);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await stat(join(logDir, 'other.log'))).size).toBe(0);

    // Without `su root root`, logrotate refuses a directory the operator can write to.
    const withoutSu = join(root, 'logrotate.d', 'without-su');
    await writeFile(withoutSu, (await readFile(config, 'utf8')).replace(/^\s+su root root\n/m, ''));
    await chmod(withoutSu, 0o644);
    await writeFile(join(logDir, 'other.log'), 'x'.repeat(600 * 1024));
    await writeStateDue([join(logDir, 'other.log')]);
    const refused = await run('logrotate', ['-s', state, withoutSu]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/parent directory has insecure permissions/);
  });
});

describe('fix-write-perm', () => {
  it('gives lasting write access to the log directory and to the paths given', async (ctx) => {
    if (!hasSetfacl) ctx.skip('setfacl is not installed (apt-get install acl)');
    if (!isRoot) ctx.skip('acting as another user needs root');
    await chmod(root, 0o755);
    const checkout = join(root, 'checkout');
    await mkdir(join(checkout, 'sub'), { recursive: true });
    await writeFile(join(checkout, 'sub', 'existing.txt'), 'root wrote this\n');
    const result = await run(FIX_WRITE_PERM, ['--user', 'nobody', '--log-dir', logDir, checkout], { SUDO_USER: '' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`nobody can now write to ${checkout}`);

    // created by root after the fact, as a deploy container would
    await mkdir(join(checkout, 'new-dir'));
    await writeFile(join(checkout, 'new-dir', 'pulled.txt'), 'pulled\n');
    const script = [
      `echo edit >> '${join(checkout, 'sub', 'existing.txt')}'`,
      `echo edit >> '${join(checkout, 'new-dir', 'pulled.txt')}'`,
      `mkdir '${join(checkout, 'new-dir', 'mine')}'`,
      `echo log > '${join(logDir, 'mine.log')}'`,
    ].join(' && ');
    expect(await run('runuser', ['-u', 'nobody', '--', 'sh', '-c', script])).toMatchObject({ code: 0, stderr: '' });
    expect(await readFile(join(checkout, 'new-dir', 'pulled.txt'), 'utf8')).toBe('pulled\nedit\n');
  });

  it('says what is wrong: no setfacl, an unknown user, root, a missing path', async () => {
    const emptyBin = join(root, 'empty-bin');
    await mkdir(emptyBin);
    const noSetfacl = await run('/bin/sh', [FIX_WRITE_PERM, '-u', 'nobody'], { PATH: emptyBin });
    expect(noSetfacl.code).toBe(1);
    expect(noSetfacl.stderr).toMatch(/setfacl is not installed: install the acl package/);

    if (!hasSetfacl) return;
    const unknown = await run(FIX_WRITE_PERM, ['-u', 'no-such-user-here', '-l', logDir]);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toMatch(/there is no user 'no-such-user-here'/);
    const asRoot = await run(FIX_WRITE_PERM, ['-u', 'root', '-l', logDir]);
    expect(asRoot.stderr).toMatch(/is root, which has access already/);
    const missing = await run(FIX_WRITE_PERM, ['-u', 'nobody', '-l', logDir, join(root, 'nope')]);
    expect(missing.stderr).toMatch(/nope does not exist/);
    const help = await run(FIX_WRITE_PERM, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/default ACL/);
  });
});
