// Throughput at saturation: forty jobs due at the same moments, every second, so that the
// engine is always busy, through the scheduler's own path (JobTimers -> runJob, one run per
// job at a time, a due moment that finds its job's run under way skipped as the daemon
// does), against forty `docker run` loops of the same image and command. Both run for the
// same time, one after the other, twice, alternating, so that whatever else the machine
// does falls on both.

import { join } from 'node:path';
import type Docker from 'dockerode';
import { BUILTIN_JOB_KINDS } from '../src/cli/job-kinds.js';
import { readConfig } from '../src/config/read.js';
import type { Job } from '../src/core/job.js';
import type { JobContainers } from '../src/core/ports.js';
import { dockerJobContainers } from '../src/docker/job-containers.js';
import { openLogFiles } from '../src/logging/log-files.js';
import { runJob, type RunDeps, type RunReport } from '../src/scheduler/run-job.js';
import { JobTimers } from '../src/scheduler/timers.js';
import { RunHistory } from '../src/state/run-history.js';
import { nativeJob } from '../test/helpers/scheduler-env.js';
import { parseDockerTime } from './docker-time.js';
import { writeEnvLocal } from './env-local.js';
import { runCommand } from './processes.js';
import { makeScratchDir, runSuffix } from './scratch.js';
import type { BenchContext, ResultRow, Section, SectionResult } from './section.js';
import { percentile, ms } from './stats.js';

const JOBS = 40;
const ROUND_MS = 15_000;
const ROUNDS = 2;

interface Round {
  /** runs (or `docker run`s) that ended within the round */
  readonly completed: number;
  /** due -> StartedAt, or spawn -> StartedAt, per run */
  readonly latencies: number[];
  readonly failed: number;
  readonly skipped: number;
  readonly elapsedMs: number;
}

/** Records each run container's StartedAt before it is removed (inspecting it costs the run, as it costs the loop below). */
function startedAtRecorder(inner: JobContainers, docker: Docker, startedAt: Map<string, number>): JobContainers {
  return {
    ...inner,
    async remove(id) {
      const info = await docker.getContainer(id).inspect().catch(() => undefined);
      if (info !== undefined) startedAt.set(info.Config.Labels?.['io.autodeploy.run'] ?? id, parseDockerTime(info.State.StartedAt));
      await inner.remove(id);
    },
  };
}

async function loadJobs(repoRoot: string, dir: string, suffix: string, image: string): Promise<{ jobs: Job[]; deps: Omit<RunDeps, 'containers'>; close: () => Promise<void> }> {
  const names = Array.from({ length: JOBS }, (_, i) => `benchsat${i}x${suffix}`);
  const { envFile } = await writeEnvLocal(dir, names.flatMap((name) => nativeJob(name, { SCHEDULE: '@every 1s', IMAGE: image, COMMAND: 'true' })));
  const result = await readConfig({
    builtins: BUILTIN_JOB_KINDS,
    envFile,
    defaultsFile: join(repoRoot, 'config', 'default.env'),
    processEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
  });
  if (!result.ok) throw new Error(`the bench's env.local is invalid: ${result.issues.map((i) => i.message).join('; ')}`);
  const settings = result.config.settings;
  const logs = openLogFiles({ dir: settings.logDir, format: settings.logFormat, maxSize: settings.logMaxSize, keep: settings.logKeep, secrets: [] });
  return {
    jobs: result.config.jobs.filter((job) => names.includes(job.name)),
    deps: { logs, history: new RunHistory(settings.stateDir), instance: 'bench' },
    close: () => logs.close(),
  };
}

async function schedulerRound(jobs: readonly Job[], deps: RunDeps, startedAt: Map<string, number>, signal: AbortSignal): Promise<Round> {
  const inFlight = new Map<string, Promise<RunReport>>();
  const reports: { report: RunReport; dueAt: number; endedAt: number }[] = [];
  let skipped = 0;
  const begin = Date.now();
  const end = begin + ROUND_MS;
  const timers = new JobTimers({
    onDue: (name, dueAt) => {
      const job = jobs.find((j) => j.name === name);
      if (job === undefined || Date.now() >= end) return;
      if (inFlight.has(name)) {
        skipped += 1;
        return;
      }
      const run = runJob(job, deps, { origin: 'schedule' });
      inFlight.set(name, run);
      void run.then((report) => reports.push({ report, dueAt: dueAt.getTime(), endedAt: Date.now() })).finally(() => inFlight.delete(name));
    },
  });
  timers.apply(jobs);
  await new Promise((resolve) => setTimeout(resolve, ROUND_MS));
  timers.stop();
  signal.throwIfAborted();
  // Runs under way at the end are let finish (not counted) so the next round starts clean.
  await Promise.allSettled(inFlight.values());
  const within = reports.filter((r) => r.endedAt <= end);
  return {
    completed: within.filter((r) => r.report.outcome === 'succeeded').length,
    failed: within.filter((r) => r.report.outcome !== 'succeeded').length,
    latencies: within.flatMap((r) => {
      const started = startedAt.get(r.report.run);
      return started === undefined ? [] : [started - r.dueAt];
    }),
    skipped,
    elapsedMs: ROUND_MS,
  };
}

async function dockerRunRound(context: BenchContext, suffix: string, round: number): Promise<Round> {
  const { docker, dockerCli, testImage } = context;
  const end = Date.now() + ROUND_MS;
  let completed = 0;
  let failed = 0;
  const latencies: number[] = [];
  const loop = async (index: number): Promise<void> => {
    for (let n = 0; Date.now() < end; n++) {
      context.signal.throwIfAborted();
      const name = `autodeploy-bench-sat-${suffix}-${round}-${index}-${n}`;
      const result = await runCommand(dockerCli, ['run', '--name', name, testImage, 'true']);
      const info = await docker.getContainer(name).inspect().catch(() => undefined);
      await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
      if (Date.now() > end) return;
      if (result.code !== 0 || info === undefined) {
        failed += 1;
        continue;
      }
      completed += 1;
      latencies.push(parseDockerTime(info.State.StartedAt) - result.spawnedAt);
    }
  };
  await Promise.all(Array.from({ length: JOBS }, (_, i) => loop(i)));
  return { completed, failed, latencies, skipped: 0, elapsedMs: ROUND_MS };
}

export const saturationSection: Section = {
  name: `Throughput at saturation (${JOBS} jobs due at once, every second)`,
  async run(context: BenchContext): Promise<SectionResult> {
    const { docker, repoRoot, testImage } = context;
    const scratch = await makeScratchDir('autodeploy-bench-saturation-');
    const suffix = runSuffix();
    let close: (() => Promise<void>) | undefined;
    const cleanup = context.cleanups.add(async () => {
      await close?.().catch(() => undefined);
      const left = await docker.listContainers({ all: true }).catch(() => []);
      const ours = left.filter((c) => c.Names.some((n) => n.includes(suffix)));
      await Promise.all(ours.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
      await scratch.remove();
    });
    try {
      const loaded = await loadJobs(repoRoot, scratch.dir, suffix, testImage);
      close = loaded.close;
      const startedAt = new Map<string, number>();
      const deps: RunDeps = { ...loaded.deps, containers: startedAtRecorder(dockerJobContainers(docker), docker, startedAt) };
      const ours: Round[] = [];
      const theirs: Round[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ours.push(await schedulerRound(loaded.jobs, deps, startedAt, context.signal));
        theirs.push(await dockerRunRound(context, suffix, round));
      }
      return summarize(ours, theirs, context.dockerCli);
    } finally {
      await cleanup();
    }
  },
};

function summarize(ours: readonly Round[], theirs: readonly Round[], dockerCli: string): SectionResult {
  const rate = (rounds: readonly Round[]) => rounds.reduce((n, r) => n + r.completed, 0) / (rounds.reduce((t, r) => t + r.elapsedMs, 0) / 1000);
  const oursRate = rate(ours);
  const theirsRate = rate(theirs);
  const ratio = oursRate / theirsRate;
  const oursP90 = percentile(ours.flatMap((r) => r.latencies), 90);
  const theirsP90 = percentile(theirs.flatMap((r) => r.latencies), 90);
  const p90Ratio = oursP90 / theirsP90;
  const rows: ResultRow[] = [
    { metric: 'runs per second', measured: oursRate.toFixed(2), baseline: theirsRate.toFixed(2), target: '>= 0.9x baseline', verdict: ratio >= 0.9 ? 'PASS' : 'MISS' },
    { metric: '  ratio (scheduler / docker run)', measured: `${ratio.toFixed(2)}x`, baseline: '1.00x', target: '>= 0.90x', verdict: 'info' },
    { metric: 'due -> running, p90', measured: ms(oursP90), baseline: ms(theirsP90), target: '<= 1.0x baseline', verdict: p90Ratio <= 1 ? 'PASS' : 'MISS' },
    { metric: '  ratio (scheduler / docker run)', measured: `${p90Ratio.toFixed(2)}x`, baseline: '1.00x', target: '<= 1.00x', verdict: 'info' },
    {
      metric: 'due moments skipped (run still going)',
      measured: String(ours.reduce((n, r) => n + r.skipped, 0)),
      baseline: '',
      target: '',
      verdict: 'info',
    },
    {
      metric: 'runs failed',
      measured: String(ours.reduce((n, r) => n + r.failed, 0)),
      baseline: String(theirs.reduce((n, r) => n + r.failed, 0)),
      target: '',
      verdict: 'info',
    },
  ];
  return {
    rows,
    notes: [
      `${ROUNDS} rounds of ${ROUND_MS / 1000} s each way, alternating; a run counts when it ends within its round.`,
      `scheduler: ${JOBS} jobs \`@every 1s\` (\`true\` in the test image) armed on JobTimers; each due moment calls runJob (create, start,`,
      '  follow output, wait, remove, history, log) unless that job\'s run is still going, which skips it as the daemon does;',
      '  latency = container State.StartedAt - the due moment.',
      `baseline: ${JOBS} loops of \`${dockerCli} run --name N <image> true\`, then inspect and rm; latency = StartedAt - the moment before spawn.`,
      `rounds, scheduler runs: ${ours.map((r) => r.completed).join(', ')}; docker run: ${theirs.map((r) => r.completed).join(', ')}`,
    ],
  };
}
