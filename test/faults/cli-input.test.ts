// Hostile or awkward input to the CLI: log names that climb out of the log directory or
// name no job, and an --env-file that Node 20 would take as its own option.
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../bench/build.js';
import { main } from '../../src/cli/cli.js';
import { faultJob } from './helpers/scheduler-faults.js';
import { DEFAULTS_FILE, REPO_ROOT, makeScratch, nativeJob, TEST_IMAGE, type Scratch } from '../helpers/scheduler-env.js';

let scratch: Scratch;

beforeAll(async () => {
  await ensureBuilt(REPO_ROOT, () => undefined);
}, 120_000);

afterEach(async () => {
  await rm(scratch.dir, { recursive: true, force: true });
});

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  // A -f that were let through would follow forever: the deadline makes that a failure, not a hang.
  const code = await Promise.race([
    main({ argv, env: { AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE, PATH: process.env['PATH'] }, stdout, stderr }),
    new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`autodeploy ${argv.join(' ')} did not return`)), 5_000)),
  ]);
  return { code, out, err };
}

function spawnCli(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO_ROOT, 'bin', 'autodeploy'), args, {
      cwd,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('autodeploy logs with names that are no job', () => {
  it('prints nothing from outside the log directory, followed or not', async () => {
    scratch = await makeScratch('autodeploy-fault-');
    await writeFile(join(scratch.dir, 'outside.log'), 'a line outside the log directory\n');
    await mkdir(join(scratch.dir, 'outside.log.d'));
    await writeFile(join(scratch.dir, 'outside.log.d', 'outside.2026-12-01.1.log'), 'another line outside\n');
    for (const argv of [
      ['logs', '-f', '../outside', '--log-dir', scratch.logDir],
      ['logs', '../outside', '--log-dir', scratch.logDir],
      ['logs', '-f', '../../../../../../etc/passwd', '--log-dir', scratch.logDir],
      ['logs', '-f', '/etc/passwd', '--log-dir', scratch.logDir],
    ]) {
      const result = await cli(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.out).toBe('');
      expect(result.err).toMatch(/is not a job/);
    }
  });

  it('refuses a name that is no job of env.local, followed or not', async () => {
    scratch = await makeScratch('autodeploy-fault-');
    const job = faultJob(scratch, 'quiet');
    await scratch.writeEnv(nativeJob(job, { SCHEDULE: '@every 1h', IMAGE: TEST_IMAGE, COMMAND: 'true' }));
    const refused = await cli(['logs', '-f', 'nosuchjob', '--env-file', scratch.envFile]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/"nosuchjob" is not a job/);
    const notFollowed = await cli(['logs', 'nosuchjob', '--env-file', scratch.envFile]);
    expect(notFollowed.code).toBe(2);
  });
});

describe('--env-file on every Node version', () => {
  it('bin/autodeploy hands a relative --env-file to the CLI, not to Node', async () => {
    scratch = await makeScratch('autodeploy-fault-');
    const job = faultJob(scratch, 'envfile');
    await scratch.writeEnv(nativeJob(job, { SCHEDULE: '@every 1h', IMAGE: TEST_IMAGE, COMMAND: 'true' }));
    await mkdir(join(scratch.logDir, `${job}.log.d`));
    for (const args of [['logs', '--list', '--env-file', 'env.local'], ['logs', '--list', '--env-file=env.local']]) {
      const result = await spawnCli(args, scratch.dir);
      expect(result.out).not.toMatch(/not found/);
      expect(result.code, result.out).toBe(0);
      expect(result.out.split('\n')).toContain(job);
    }
    // Without it, the CLI's own env.local is not there to read: the CLI says so, not Node.
    const missing = await spawnCli(['logs', '--list', '--env-file', 'missing.local'], scratch.dir);
    expect(missing.out).not.toMatch(/^node:/m);
  });
});
