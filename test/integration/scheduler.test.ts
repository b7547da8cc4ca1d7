import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/scheduler/daemon.js';
import { connectDocker, dockerJobContainers } from '../../src/docker/job-containers.js';
import type { RunReport } from '../../src/scheduler/run-job.js';
import { LABEL_JOB } from '../../src/core/job.js';
import { RunHistory } from '../../src/state/run-history.js';
import { jobRecords, outputLines } from '../helpers/job-log.js';
import { DEFAULTS_FILE, REPO_ROOT, TEST_IMAGE, eventually, makeScratch, nativeJob, nextRun, daemonBase, type Scratch } from '../helpers/scheduler-env.js';

const docker = connectDocker();
const containers = dockerJobContainers(docker);
const daemons: Daemon[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  await docker.getImage(TEST_IMAGE).inspect().catch(() => {
    throw new Error(`test image ${TEST_IMAGE} is missing: run scripts/build-test-images.sh (make test does)`);
  });
});

afterEach(async () => {
  for (const daemon of daemons.splice(0)) await daemon.stop();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  // Containers of this file's jobs, whatever state a failed test left them in.
  const left = await docker.listContainers({ all: true, filters: { label: [LABEL_JOB] } });
  await Promise.all(left.filter((c) => c.Names.some((n) => n.includes('_t'))).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
});

async function startDaemon(scratch: Scratch, extra: { stopGraceSeconds?: number } = {}): Promise<Daemon> {
  const daemon = await Daemon.start({
    ...daemonBase(scratch),
    containers,
    heartbeatMs: 500,
    ...extra,
  });
  daemons.push(daemon);
  return daemon;
}

describe('the scheduler daemon against a real Docker engine', () => {
  it('runs an @every job on its schedule, each run in its own container, output in its log file', async () => {
    const scratch = await makeScratch();
    const job = scratch.name('hello_t');
    await scratch.writeEnv(nativeJob(job, { SCHEDULE: '@every 2s', IMAGE: TEST_IMAGE, COMMAND: 'sh -c "echo hello from $HOSTNAME; echo to stderr >&2"' }));
    const daemon = await startDaemon(scratch);

    const first = await nextRun(daemon, job);
    const second = await nextRun(daemon, job);
    expect(first.outcome).toBe('succeeded');
    expect(second.outcome).toBe('succeeded');
    expect(second.run).not.toBe(first.run);
    // A true 2 s interval between due moments (starts are due-time plus engine latency).
    expect(second.startedAt.getTime() - first.startedAt.getTime()).toBeGreaterThan(1500);

    const records = await jobRecords(scratch.logDir, job);
    const firstOut = records.filter((r) => r.run === first.run && r.out !== undefined);
    // Docker reads stdout and stderr through separate pipes: the order between the two is not kept.
    expect(firstOut.map((r) => [r.out, r.msg.replace(/[0-9a-f]{12}$/, 'ID')]).sort()).toEqual([
      ['stderr', 'to stderr'],
      ['stdout', 'hello from ID'],
    ]);
    // Every run logs its start and its end with exit code and duration.
    const events = records.filter((r) => r.run === first.run && r.out === undefined).map((r) => r.msg);
    expect(events).toContain('run started');
    expect(records.find((r) => r.run === first.run && r.msg === 'run finished')).toMatchObject({ exitCode: 0 });
    // The container is removed once its output is written.
    expect(await containers.inspect(job)).toBeUndefined();
    // History survives in the state dir.
    const history = await new RunHistory(scratch.stateDir).runs(job);
    expect(history.map((r) => r.run)).toEqual(expect.arrayContaining([first.run, second.run]));
  });

  it('skips a run whose previous run is still going, rather than overlapping it', async () => {
    const scratch = await makeScratch();
    const job = scratch.name('slow_t');
    await scratch.writeEnv(nativeJob(job, { SCHEDULE: '@every 1s', IMAGE: TEST_IMAGE, COMMAND: 'sleep 3' }));
    const daemon = await startDaemon(scratch);

    const reports: RunReport[] = [];
    daemon.on('run', (r) => reports.push(r));
    await eventually('a finished run of the slow job', () => reports.find((r) => r.outcome === 'succeeded'), 20_000);

    const records = await jobRecords(scratch.logDir, job);
    expect(records.some((r) => r.level === 'warn' && /run skipped/.test(r.msg))).toBe(true);
    // Never two containers of the job at once: every start is after the previous run's end.
    const runs = await new RunHistory(scratch.stateDir).runs(job);
    const finished = runs.filter((r) => r.outcome === 'succeeded').reverse();
    for (let i = 1; i < finished.length; i++) {
      expect(new Date(finished[i]!.startedAt).getTime()).toBeGreaterThanOrEqual(new Date(finished[i - 1]!.endedAt!).getTime());
    }
  });

  it('stops a run that outlives its timeout and records it as timed out', async () => {
    const scratch = await makeScratch();
    const job = scratch.name('stuck_t');
    await scratch.writeEnv(nativeJob(job, { SCHEDULE: '@every 1h', IMAGE: TEST_IMAGE, COMMAND: 'sh -c "echo started; sleep 600"', TIMEOUT: '2s' }));
    const daemon = await startDaemon(scratch, { stopGraceSeconds: 1 });

    const started = Date.now();
    const report = await daemon.trigger(job);
    expect(report).toBeDefined();
    expect(report!.outcome).toBe('timed-out');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await outputLines(scratch.logDir, job, report!.run)).toEqual(['started']);
    expect(await containers.inspect(job)).toBeUndefined();
    const last = await new RunHistory(scratch.stateDir).last(job);
    expect(last).toMatchObject({ run: report!.run, outcome: 'timed-out' });
  });

  it('keeps the last valid job table when env.local is edited into something invalid, and takes a valid edit', async () => {
    const scratch = await makeScratch();
    const job = scratch.name('keep_t');
    const good = nativeJob(job, { SCHEDULE: '@every 1h', IMAGE: TEST_IMAGE, COMMAND: 'true' });
    await scratch.writeEnv(good);
    const daemon = await startDaemon(scratch);
    expect(daemon.jobs.map((j) => j.name)).toEqual([job]);

    // A line env.local cannot be read by refuses the whole file (a bad job alone would be
    // refused on its own: see scheduler-job-files.test.ts).
    const failed = new Promise((resolve) => daemon.once('reload-failed', resolve));
    await scratch.writeEnv([...good, 'BROKEN_SETTING=$(date)']);
    const issues = (await failed) as { message: string; line?: number }[];
    expect(issues.map((i) => [i.line, i.message])).toEqual([[good.length + 3, expect.stringMatching(/^command substitution is not supported/)]]);
    expect(daemon.jobs.map((j) => j.name)).toEqual([job]);
    expect(daemon.nextRun(job)).toBeDefined();

    const other = scratch.name('added_t');
    const reloaded = new Promise((resolve) => daemon.once('reload', resolve));
    await scratch.writeEnv([...good, ...nativeJob(other, { SCHEDULE: '@every 1h', IMAGE: TEST_IMAGE, COMMAND: 'true' })]);
    await reloaded;
    expect(daemon.jobs.map((j) => j.name).sort()).toEqual([job, other].sort());
  });

  it('re-attaches after being killed mid-run: no output line lost, none written twice', async () => {
    const scratch = await makeScratch();
    const job = scratch.name('long_t');
    await scratch.writeEnv(nativeJob(job, {
      SCHEDULE: '@every 1s',
      IMAGE: TEST_IMAGE,
      COMMAND: 'i=1; while [ $i -le 40 ]; do echo line $i; i=$((i+1)); sleep 0.1; done',
    }));
    const cli = (args: string[]): ChildProcess => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: REPO_ROOT,
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'], AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE },
        stdio: 'ignore',
      });
      children.push(child);
      return child;
    };

    const first = cli(['start', '--env-file', scratch.envFile]);
    const run = await eventually('five output lines of a run in the log', async () => {
      const out = (await jobRecords(scratch.logDir, job)).filter((r) => r.out !== undefined);
      return out.length >= 5 ? out[0]!.run : undefined;
    }, 30_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect((await containers.inspect(job))?.running).toBe(true);

    cli(['start', '--env-file', scratch.envFile]);
    const history = new RunHistory(scratch.stateDir);
    const done = await eventually('the re-attached run to finish', async () => {
      const record = (await history.runs(job)).find((r) => r.run === run);
      return record && record.outcome !== 'running' ? record : undefined;
    }, 30_000);
    expect(done.outcome).toBe('succeeded');
    expect(await outputLines(scratch.logDir, job, run)).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 1}`));
  });
});
