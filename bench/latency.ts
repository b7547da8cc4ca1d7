// Due-to-running latency: from a job's due moment to its container running,
// through the scheduler's own path (JobTimers -> runJob -> dockerode), against
// `docker run` of the same image and command from the CLI.

import { join } from 'node:path';
import type Docker from 'dockerode';
import { readConfig } from '../src/config/read.js';
import type { JobContainers } from '../src/core/ports.js';
import { dockerJobContainers } from '../src/docker/job-containers.js';
import { runsInContainer, type Job } from '../src/core/job.js';
import { runJob, type RunDeps } from '../src/scheduler/run-job.js';
import { openLogFiles } from '../src/logging/log-files.js';
import { JobTimers } from '../src/scheduler/timers.js';
import { RunHistory } from '../src/state/run-history.js';
import { nativeJob } from '../test/helpers/scheduler-env.js';
import { parseDockerTime } from './docker-time.js';
import { writeEnvLocal } from './env-local.js';
import { CommandFailed, runCommand } from './processes.js';
import { makeScratchDir, runSuffix } from './scratch.js';
import type { BenchContext, ResultRow, Section, SectionResult } from './section.js';
import { median, ms, percentile } from './stats.js';
import { BUILTIN_JOB_KINDS } from '../src/cli/job-kinds.js';

const WARM_UPS = 2;
const SAMPLES = 15;
const SAMPLE_TIMEOUT_MS = 30_000;

/** Moments of one scheduled run, Date.now() clock (the one Docker's StartedAt is on, too). */
interface SchedulerSample {
  readonly dueAt: number;
  readonly firedAt: number;
  readonly createCalled: number;
  readonly createReturned: number;
  readonly startCalled: number;
  readonly startReturned: number;
  readonly startedAt: number;
  readonly reportedAt: number;
}

interface CliSample {
  readonly spawnedAt: number;
  readonly startedAt: number;
  readonly exitedAt: number;
}

/** Moments the adapter saw during the run in progress; one run at a time. */
interface Probe {
  createCalled: number;
  createReturned: number;
  startCalled: number;
  startReturned: number;
  startedAt: number;
}

function emptyProbe(): Probe {
  return { createCalled: NaN, createReturned: NaN, startCalled: NaN, startReturned: NaN, startedAt: NaN };
}

async function startedAtOf(docker: Docker, idOrName: string): Promise<number> {
  const info = await docker.getContainer(idOrName).inspect();
  return parseDockerTime(info.State.StartedAt);
}

/**
 * The real dockerode adapter with timestamps around create and start. StartedAt is read
 * just before removal, after the run, so reading it costs the measured interval nothing.
 */
function observedContainers(inner: JobContainers, docker: Docker, probe: () => Probe): JobContainers {
  return {
    ...inner,
    async create(spec, meta) {
      probe().createCalled = Date.now();
      const id = await inner.create(spec, meta);
      probe().createReturned = Date.now();
      return id;
    },
    async start(id) {
      probe().startCalled = Date.now();
      await inner.start(id);
      probe().startReturned = Date.now();
    },
    async remove(id) {
      probe().startedAt = await startedAtOf(docker, id).catch(() => NaN);
      await inner.remove(id);
    },
  };
}

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${SAMPLE_TIMEOUT_MS} ms`)), SAMPLE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function loadBenchJob(repoRoot: string, jobName: string, image: string, dir: string) {
  const { envFile } = await writeEnvLocal(dir, nativeJob(jobName, { SCHEDULE: '@every 1s', IMAGE: image, COMMAND: 'true' }));
  const result = await readConfig({ builtins: BUILTIN_JOB_KINDS, 
    envFile,
    defaultsFile: join(repoRoot, 'config', 'default.env'),
    processEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
  });
  if (!result.ok) throw new Error(`the bench's env.local is invalid: ${result.issues.map((i) => i.message).join('; ')}`);
  const job = result.config.jobs.find((j) => j.name === jobName);
  if (job === undefined) throw new Error(`job ${jobName} is not in the job table built from ${envFile}`);
  return { config: result.config, job };
}

export const latencySection: Section = {
  name: 'Due-to-running latency (job due -> container StartedAt)',
  async run(context: BenchContext): Promise<SectionResult> {
    const { docker, dockerCli, testImage, repoRoot } = context;
    const scratch = await makeScratchDir('autodeploy-bench-latency-');
    const suffix = runSuffix();
    const jobName = `benchlat${suffix}`;
    const cliNames = new Set<string>();
    let probe = emptyProbe();
    let timers: JobTimers | undefined;
    let closeLogs: (() => Promise<void>) | undefined;
    let job: Job | undefined;
    let inFlight: Promise<unknown> | undefined;
    const cleanup = context.cleanups.add(async () => {
      timers?.stop();
      // Let the sample in progress end (a `true` container, within a second) before removing
      // its container: `docker run` might create it only after a removal, and removing it under
      // runJob would race runJob's log stream.
      await Promise.race([inFlight?.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, SAMPLE_TIMEOUT_MS).unref())]);
      await closeLogs?.().catch(() => undefined);
      const leftovers = [...cliNames, ...(job !== undefined && runsInContainer(job) ? [job.container.containerName] : [])];
      await Promise.all(leftovers.map((name) => docker.getContainer(name).remove({ force: true }).catch(() => undefined)));
      await scratch.remove();
    });
    try {
      const loaded = await loadBenchJob(repoRoot, jobName, testImage, scratch.dir);
      job = loaded.job;
      const settings = loaded.config.settings;
      const logs = openLogFiles({
        dir: settings.logDir,
        format: settings.logFormat,
        maxSize: settings.logMaxSize,
        keep: settings.logKeep,
        secrets: loaded.config.secrets,
      });
      closeLogs = () => logs.close();
      const deps: RunDeps = {
        containers: observedContainers(dockerJobContainers(docker), docker, () => probe),
        logs,
        history: new RunHistory(settings.stateDir),
        instance: 'bench',
      };

      let pending: { resolve: (s: SchedulerSample) => void; reject: (e: unknown) => void } | undefined;
      const benchJob = job;
      const armedTimers = new JobTimers({
        onDue: (name, dueAt) => {
          const firedAt = Date.now();
          const waiting = pending;
          pending = undefined;
          if (name !== benchJob.name || waiting === undefined) return;
          probe = emptyProbe();
          // As the daemon does: runJob is called synchronously from the timer callback.
          const report = runJob(benchJob, deps, { origin: 'schedule' });
          inFlight = report;
          // One run per sample: disarm before the next 1 s slot.
          armedTimers.apply([]);
          report.then(
            (r) => {
              if (r.outcome !== 'succeeded') {
                waiting.reject(new Error(`the scheduled run of ${r.job} ended ${r.outcome}${r.message ? `: ${r.message}` : ''}`));
                return;
              }
              waiting.resolve({ dueAt: dueAt.getTime(), firedAt, ...probe, reportedAt: Date.now() });
            },
            (error: unknown) => waiting.reject(error),
          );
        },
      });
      timers = armedTimers;

      const scheduled = (): Promise<SchedulerSample> => {
        context.signal.throwIfAborted();
        const sample = new Promise<SchedulerSample>((resolve, reject) => {
          pending = { resolve, reject };
          armedTimers.apply([benchJob]);
        });
        return withTimeout('a scheduled run', sample);
      };

      let counter = 0;
      const viaCli = async (): Promise<CliSample> => {
        context.signal.throwIfAborted();
        const name = `autodeploy-bench-cli-${suffix}-${counter++}`;
        cliNames.add(name);
        const running = runCommand(dockerCli, ['run', '--name', name, testImage, 'true']);
        inFlight = running;
        const result = await withTimeout('docker run', running);
        if (result.code !== 0) throw new CommandFailed([dockerCli, 'run', '--name', name, testImage, 'true'], result);
        const startedAt = await startedAtOf(docker, name);
        await docker.getContainer(name).remove({ force: true });
        cliNames.delete(name);
        return { spawnedAt: result.spawnedAt, startedAt, exitedAt: result.exitedAt };
      };

      for (let i = 0; i < WARM_UPS; i++) {
        await scheduled();
        await viaCli();
      }
      const schedulerSamples: SchedulerSample[] = [];
      const cliSamples: CliSample[] = [];
      // Interleaved, so that whatever else the machine does falls on both.
      for (let i = 0; i < SAMPLES; i++) {
        schedulerSamples.push(await scheduled());
        cliSamples.push(await viaCli());
      }
      for (const s of schedulerSamples) {
        if (!Number.isFinite(s.startedAt)) throw new Error('could not read StartedAt of a scheduled run before it was removed');
      }
      return summarize(schedulerSamples, cliSamples, dockerCli);
    } finally {
      await cleanup();
    }
  },
};

function summarize(scheduler: readonly SchedulerSample[], cli: readonly CliSample[], dockerCli: string): SectionResult {
  const ours = scheduler.map((s) => s.startedAt - s.dueAt);
  const theirs = cli.map((s) => s.startedAt - s.spawnedAt);
  const oursMedian = median(ours);
  const theirsMedian = median(theirs);
  const oursP90 = percentile(ours, 90);
  const theirsP90 = percentile(theirs, 90);
  const ratio = oursMedian / theirsMedian;
  const part = (label: string, f: (s: SchedulerSample) => number): ResultRow => ({
    metric: `  ${label}`,
    measured: ms(median(scheduler.map(f))),
    baseline: '',
    target: '',
    verdict: 'info',
  });
  const rows: ResultRow[] = [
    {
      metric: 'due -> running, median',
      measured: ms(oursMedian),
      baseline: ms(theirsMedian),
      target: '<= baseline',
      verdict: oursMedian <= theirsMedian ? 'PASS' : 'MISS',
    },
    {
      metric: 'due -> running, p90',
      measured: ms(oursP90),
      baseline: ms(theirsP90),
      target: '<= baseline',
      verdict: oursP90 <= theirsP90 ? 'PASS' : 'MISS',
    },
    {
      metric: 'ratio of medians (scheduler / docker run)',
      measured: `${ratio.toFixed(2)}x`,
      baseline: '1.00x',
      target: '<= 1.00x',
      verdict: ratio <= 1 ? 'PASS' : 'MISS',
    },
    { metric: 'scheduler path, medians:', measured: '', baseline: '', target: '', verdict: 'info' },
    part('due -> timer callback', (s) => s.firedAt - s.dueAt),
    part('timer callback -> create request', (s) => s.createCalled - s.firedAt),
    part('create round-trip', (s) => s.createReturned - s.createCalled),
    part('create returned -> start request', (s) => s.startCalled - s.createReturned),
    part('start request -> StartedAt', (s) => s.startedAt - s.startCalled),
    part('StartedAt -> start returned', (s) => s.startReturned - s.startedAt),
    {
      metric: 'whole run: due -> run recorded / docker run exit',
      measured: ms(median(scheduler.map((s) => s.reportedAt - s.dueAt))),
      baseline: ms(median(cli.map((s) => s.exitedAt - s.spawnedAt))),
      target: '',
      verdict: 'info',
    },
  ];
  return {
    rows,
    notes: [
      `${SAMPLES} samples each after ${WARM_UPS} warm-ups, interleaved; p90 is nearest-rank (the ${Math.ceil(0.9 * SAMPLES)}th of ${SAMPLES}).`,
      'scheduler: JobTimers arms `@every 1s`, its callback calls runJob with the dockerode adapter, RunHistory and log files;',
      '  latency = container State.StartedAt - the due moment JobTimers reports.',
      `baseline: \`${dockerCli} run --name N <image> true\` (then inspect, rm); latency = StartedAt - the moment before spawn.`,
      '"whole run" is not like for like: the scheduler also follows output, removes the container and writes history.',
      `all samples (ms), scheduler: ${ours.map((v) => v.toFixed(0)).join(' ')}`,
      `all samples (ms), docker run: ${theirs.map((v) => v.toFixed(0)).join(' ')}`,
    ],
  };
}
