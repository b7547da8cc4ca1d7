import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';
import { VERSION } from '../../src/cli/version.js';
import type { Daemon, DaemonOptions } from '../../src/scheduler/daemon.js';
import type { RunReport } from '../../src/scheduler/run-job.js';

export const TEST_IMAGE = 'autodeploy-test/busybox:latest';
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEFAULTS_FILE = join(REPO_ROOT, 'config', 'default.env');

/** A scratch platform directory: env.local plus log and state directories of its own. */
export interface Scratch {
  readonly dir: string;
  readonly envFile: string;
  readonly logDir: string;
  readonly stateDir: string;
  /** A job name unique to this test run, so that parallel or leftover containers never collide. */
  name(base: string): string;
  writeEnv(lines: readonly string[]): Promise<void>;
}

export async function makeScratch(prefix = 'autodeploy-test-'): Promise<Scratch> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const logDir = join(dir, 'log');
  const stateDir = join(dir, 'state');
  await mkdir(logDir, { recursive: true });
  const suffix = Math.random().toString(36).slice(2, 7);
  const envFile = join(dir, 'env.local');
  return {
    dir,
    envFile,
    logDir,
    stateDir,
    name: (base) => `${base}_${suffix}`,
    async writeEnv(lines) {
      const header = [`export AUTODEPLOY_LOG_DIR="${logDir}"`, `export AUTODEPLOY_STATE_DIR="${stateDir}"`];
      await writeFile(envFile, `${[...header, ...lines].join('\n')}\n`);
    },
  };
}

/** The environment of a test daemon and its local commands: PATH and HOME, nothing of the developer's. */
export const TEST_PROCESS_ENV: Readonly<Record<string, string | undefined>> = { PATH: process.env['PATH'], HOME: process.env['HOME'] };

/** What every test daemon starts from: the real job kinds, the scratch's env.local and the shipped defaults. */
export function daemonBase(scratch: Pick<Scratch, 'envFile'>): Pick<DaemonOptions, 'builtins' | 'version' | 'envFile' | 'defaultsFile' | 'processEnv'> {
  return { builtins: BUILTIN_JOB_KINDS, version: VERSION, envFile: scratch.envFile, defaultsFile: DEFAULTS_FILE, processEnv: TEST_PROCESS_ENV };
}

/** env.local lines of one native-format job. */
export function nativeJob(name: string, settings: Record<string, string>): string[] {
  const prefix = `AUTODEPLOY_JOB_${name.toUpperCase()}`;
  return Object.entries(settings).map(([key, value]) => {
    if (value.includes("'")) throw new Error(`test job setting ${key} must not contain a single quote`);
    return `${prefix}_${key}='${value}'`;
  });
}

/** Polls until `probe` returns a value, or fails after `timeoutMs` with `what` in the message. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The daemon's next finished run of that job; fails after timeoutMs. Start waiting before the run can end. */
export function nextRun(daemon: Daemon, job: string, timeoutMs = 20_000): Promise<RunReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no run of ${job} ended within ${timeoutMs} ms (jobs: ${daemon.jobs.map((j) => j.name).join(', ')})`)), timeoutMs);
    const onRun = (report: RunReport): void => {
      if (report.job !== job) return;
      clearTimeout(timer);
      daemon.off('run', onRun);
      resolve(report);
    };
    daemon.on('run', onRun);
  });
}
