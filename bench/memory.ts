// Resident memory of the real daemon (the built CLI's `start`) holding 100 jobs,
// against an idle node process; and the wall time of `autodeploy jobs` over them.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LABEL_JOB } from '../src/core/job.js';
import { ensureBuilt } from './build.js';
import { writeEnvLocal } from './env-local.js';
import { CommandFailed, pollUntil, readMemoryStatus, runCommand, settle, stopChild, tailOutput, type MemoryStatus } from './processes.js';
import { makeScratchDir } from './scratch.js';
import type { BenchContext, ResultRow, Section, SectionResult } from './section.js';
import { mb, ms } from './stats.js';

const JOBS = 100;
const SETTLE_MS = 3_000;
/** V8's memory reducer shrinks an idle heap some seconds after start: the HTTP daemon is read again then. */
const LATER_MS = 12_000;
const BOOT_TIMEOUT_MS = 30_000;
const TARGET_KB = 80 * 1024;

/**
 * 100 native jobs, none due while measured: a fifth `@every 1h`, the rest cron at an hour
 * at least six hours from now (daily, 1 January, weekdays, and 6-field weekends).
 */
export function hundredJobs(now: Date, image: string, dataDir: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const hour = (now.getHours() + 6 + (i % 12)) % 24;
    const minute = (i * 7) % 60;
    const schedule = [
      '@every 1h',
      `${minute} ${hour} * * *`,
      `${minute} ${hour} 1 1 *`,
      `${minute} ${hour} * * 1-5`,
      `${(i * 13) % 60} ${minute} ${hour} * * 0,6`,
    ][i % 5];
    const prefix = `AUTODEPLOY_JOB_BENCH${String(i).padStart(3, '0')}`;
    lines.push(
      `${prefix}_SCHEDULE='${schedule}'`,
      `${prefix}_IMAGE='${image}'`,
      `${prefix}_COMMAND='sh -c "echo job ${i}; date"'`,
      `${prefix}_COMMENT='benchmark job ${i}'`,
    );
    if (i % 3 === 0) lines.push(`${prefix}_VOLUMES='${join(dataDir, `job${i}`)}:/data:ro'`);
    if (i % 4 === 0) lines.push(`${prefix}_ENV='JOB_INDEX=${i} MODE=bench'`);
    if (i % 2 === 0) lines.push(`${prefix}_TIMEOUT='10m'`);
  }
  return lines;
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'] };
  for (const name of ['TZ', 'DOCKER_HOST']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

/** A port free on 127.0.0.1 now, for the daemon's HTTP server. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Memory of a running child after it has been left alone for SETTLE_MS. */
async function settledMemory(child: ChildProcess): Promise<MemoryStatus> {
  await settle(SETTLE_MS);
  if (child.pid === undefined || child.exitCode !== null) throw new Error('the process exited before its memory could be read');
  return readMemoryStatus(child.pid);
}

interface DaemonMeasure {
  readonly memory: MemoryStatus;
  /** read again LATER_MS after `memory`, when asked */
  readonly later?: MemoryStatus;
  /** spawn to heartbeat file */
  readonly bootMs: number;
}

/**
 * Starts `autodeploy start` on `envFile`, waits for its heartbeat (checking it armed `jobs` timers
 * on a valid table), lets it settle, reads its memory, and stops it.
 */
async function measureDaemon(
  cli: string,
  envFile: string,
  stateDir: string,
  jobs: number,
  children: ChildProcess[],
  signal: AbortSignal,
  httpPort?: number,
  readAgain = false,
): Promise<DaemonMeasure> {
  signal.throwIfAborted();
  const spawnedAt = Date.now();
  // The daemon as the image runs it: bin/autodeploy-daemon carries its Node flags.
  const daemon = spawn(join(cli, '..', '..', '..', 'bin', 'autodeploy-daemon'), ['--env-file', envFile], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(daemon);
  const output = tailOutput(daemon);
  const died = new Promise<never>((_, reject) => {
    daemon.once('exit', (code, signal) => reject(new Error(`the daemon exited (${code ?? signal}) before it was measured; its last output:\n${output()}`)));
    daemon.once('error', reject);
  });
  died.catch(() => undefined);
  try {
    const heartbeatFile = join(stateDir, 'scheduler.json');
    const heartbeat = await Promise.race([
      died,
      pollUntil(
        `the daemon's heartbeat ${heartbeatFile}`,
        async () => {
          try {
            return JSON.parse(await readFile(heartbeatFile, 'utf8')) as { jobs: number; configValid: boolean; configProblems: string[] };
          } catch {
            return undefined;
          }
        },
        BOOT_TIMEOUT_MS,
      ),
    ]);
    const bootMs = Date.now() - spawnedAt;
    if (!heartbeat.configValid) throw new Error(`the daemon found the bench's env.local invalid: ${heartbeat.configProblems.join('; ')}`);
    if (heartbeat.jobs !== jobs) throw new Error(`the daemon armed ${heartbeat.jobs} timers, not ${jobs}; its last output:\n${output()}`);
    if (httpPort !== undefined) {
      // The server answers (its code is loaded and a request went through) before memory is read.
      await pollUntil('the daemon\'s HTTP server', async () => {
        const answer = await fetch(`http://127.0.0.1:${httpPort}/api/v1/status`).catch(() => undefined);
        return answer?.status === 401 ? true : undefined;
      }, BOOT_TIMEOUT_MS);
    }
    const memory = await Promise.race([died, settledMemory(daemon)]);
    if (!readAgain) return { memory, bootMs };
    await Promise.race([died, settle(LATER_MS)]);
    if (daemon.pid === undefined || daemon.exitCode !== null) throw new Error('the daemon exited before its memory could be read again');
    return { memory, later: await readMemoryStatus(daemon.pid), bootMs };
  } finally {
    await stopChild(daemon);
  }
}

/** The daemon re-attaches to every labelled job container on the engine: let other runs (a test suite, say) end first. */
async function foreignRunsGone(docker: BenchContext['docker']): Promise<number> {
  const count = async (): Promise<number> => (await docker.listContainers({ all: true, filters: { label: [LABEL_JOB] } })).length;
  return pollUntil('job containers of others to end', async () => ((await count()) === 0 ? 0 : undefined), 60_000, 500).catch(count);
}

export const memorySection: Section = {
  name: `Resident memory of the daemon with ${JOBS} jobs`,
  async run(context: BenchContext): Promise<SectionResult> {
    const { repoRoot, docker, testImage } = context;
    const notes: string[] = [];
    const built = await ensureBuilt(repoRoot, (line) => process.stdout.write(`  ${line}\n`));
    if (built) notes.push('dist/ was rebuilt with npm run build before measuring.');
    const cli = join(repoRoot, 'dist', 'cli', 'main.js');

    const scratch = await makeScratchDir('autodeploy-bench-memory-');
    const children: ChildProcess[] = [];
    const cleanup = context.cleanups.add(async () => {
      for (const child of children) await stopChild(child).catch(() => undefined);
      await scratch.remove();
    });
    try {
      const loaded = await writeEnvLocal(join(scratch.dir, 'hundred'), hundredJobs(new Date(), testImage, join(scratch.dir, 'data')));
      const empty = await writeEnvLocal(join(scratch.dir, 'empty'), []);

      // Reference: a node process that does nothing, measured the same way.
      context.signal.throwIfAborted();
      const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', env: childEnv() });
      children.push(idle);
      const idleMemory = await settledMemory(idle);
      await stopChild(idle);

      const foreign = await foreignRunsGone(docker);
      if (foreign > 0) notes.push(`warning: ${foreign} job container(s) of others were on the engine; the daemons re-attached to them.`);
      const none = await measureDaemon(cli, empty.envFile, empty.stateDir, 0, children, context.signal);
      const hundred = await measureDaemon(cli, loaded.envFile, loaded.stateDir, JOBS, children, context.signal);
      const port = await freePort();
      const served = await writeEnvLocal(join(scratch.dir, 'http'), [
        ...hundredJobs(new Date(), testImage, join(scratch.dir, 'data')),
        `export AUTODEPLOY_HTTP_PORT="${port}"`,
        'export AUTODEPLOY_HTTP_HOST="127.0.0.1"',
        'export AUTODEPLOY_WEBHOOK_SECRET="bench-webhook-secret-0123456789"',
      ]);
      const withHttp = await measureDaemon(cli, served.envFile, served.stateDir, JOBS, children, context.signal, port, true);

      context.signal.throwIfAborted();
      const listing = await runCommand(process.execPath, [cli, 'jobs', '--env-file', loaded.envFile], { env: childEnv() });
      if (listing.code !== 0) throw new CommandFailed(['autodeploy', 'jobs', '--env-file', loaded.envFile], listing);
      const listed = listing.stdout.split('\n').filter((l) => /^bench\d{3}\s/.test(l)).length;
      if (listed !== JOBS) throw new Error(`autodeploy jobs listed ${listed} of the ${JOBS} jobs`);
      const version = await runCommand(process.execPath, [cli, '--version'], { env: childEnv() });
      if (version.code !== 0) throw new CommandFailed(['autodeploy', '--version'], version);

      return {
        rows: rows({ hundred, withHttp, none, idle: idleMemory, jobsMs: listing.exitedAt - listing.spawnedAt, versionMs: version.exitedAt - version.spawnedAt }),
        notes: [
          ...notes,
          `daemon: bin/autodeploy-daemon --env-file <tmp env.local> (the image's command, with its Node flags), with ${JOBS} extra jobs (cron not due, @every 1h) and with none;`,
          `  built-in jobs off; /proc/<pid>/status read ${SETTLE_MS / 1000} s after the heartbeat file appeared.`,
          '  "HTTP server on": the same 100 jobs with AUTODEPLOY_HTTP_PORT set (127.0.0.1), read after one API request was answered;',
          '  without the port the server\'s code is never loaded.',
          `  "${LATER_MS / 1000} s on": the same daemon read again ${LATER_MS / 1000} s later, once V8's memory reducer has shrunk its idle heap (information only).`,
          "  reference: node -e 'setInterval(()=>{},1000)', read the same way.",
          `"jobs" is \`autodeploy jobs --env-file <same env.local>\` (${JOBS} jobs, three next runs each), run once.`,
        ],
      };
    } finally {
      await cleanup();
    }
  },
};

interface Measured {
  readonly hundred: DaemonMeasure;
  readonly withHttp: DaemonMeasure;
  readonly none: DaemonMeasure;
  readonly idle: MemoryStatus;
  readonly jobsMs: number;
  readonly versionMs: number;
}

function rows(m: Measured): ResultRow[] {
  const rss = m.hundred.memory.rssKb;
  return [
    {
      metric: `daemon VmRSS, ${JOBS} jobs`,
      measured: mb(rss),
      baseline: `${mb(m.idle.rssKb)} idle node`,
      target: `< ${mb(TARGET_KB)}`,
      verdict: rss < TARGET_KB ? 'PASS' : 'MISS',
    },
    {
      metric: `daemon VmRSS, ${JOBS} jobs, HTTP server on`,
      measured: mb(m.withHttp.memory.rssKb),
      baseline: `${mb(rss)} server off`,
      target: `< ${mb(TARGET_KB)}`,
      verdict: m.withHttp.memory.rssKb < TARGET_KB ? 'PASS' : 'MISS',
    },
    {
      metric: `daemon VmRSS, ${JOBS} jobs, HTTP server on, ${LATER_MS / 1000} s on`,
      measured: m.withHttp.later === undefined ? '-' : mb(m.withHttp.later.rssKb),
      baseline: '',
      target: '',
      verdict: 'info',
    },
    { metric: 'daemon VmRSS, no jobs', measured: mb(m.none.memory.rssKb), baseline: '', target: '', verdict: 'info' },
    { metric: `daemon VmHWM (peak), ${JOBS} jobs`, measured: mb(m.hundred.memory.hwmKb), baseline: `${mb(m.idle.hwmKb)} idle node`, target: '', verdict: 'info' },
    { metric: 'RSS of the code (no jobs - idle node)', measured: mb(m.none.memory.rssKb - m.idle.rssKb), baseline: '', target: '', verdict: 'info' },
    {
      metric: `RSS of the jobs (${JOBS} jobs - no jobs)`,
      measured: mb(rss - m.none.memory.rssKb),
      baseline: '',
      target: '',
      verdict: 'info',
    },
    { metric: `daemon spawn -> heartbeat, ${JOBS} jobs`, measured: ms(m.hundred.bootMs), baseline: `${ms(m.none.bootMs)} no jobs`, target: '', verdict: 'info' },
    {
      metric: `autodeploy jobs wall time, ${JOBS} jobs`,
      measured: ms(m.jobsMs),
      baseline: `${ms(m.versionMs)} autodeploy --version`,
      target: '',
      verdict: 'info',
    },
  ];
}
