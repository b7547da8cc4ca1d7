// The log directory failing under a running scheduler: full, read-only, deleted. Each
// case checks that runs go on and end in the history, and that the lines that could not
// be written are counted and said once the directory takes lines again.
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { healthCommand } from '../../src/cli/health.js';
import { connectDocker, dockerJobContainers } from '../../src/docker/job-containers.js';
import { RunHistory } from '../../src/state/run-history.js';
import { jobRecords } from '../helpers/job-log.js';
import { TEST_IMAGE, eventually, makeScratch, nativeJob, type Scratch } from '../helpers/scheduler-env.js';
import { FaultBench, faultJob } from './helpers/scheduler-faults.js';

const docker = connectDocker();
const containers = dockerJobContainers(docker);
const bench = new FaultBench();
let scratch: Scratch;

beforeAll(async () => {
  await docker.getImage(TEST_IMAGE).inspect();
});

afterEach(async () => {
  await bench.cleanUp(docker, faultJob(scratch, ''));
  await rm(scratch.dir, { recursive: true, force: true });
});

/** Lines of `job`'s log saying how many lines it lost. */
async function lostNotices(logDir: string, job: string): Promise<number[]> {
  const records = await jobRecords(logDir, job).catch(() => []);
  return records.flatMap((r) => (typeof r['linesLost'] === 'number' ? [r['linesLost']] : []));
}

async function health(stateDir: string): Promise<{ code: number; text: string }> {
  let text = '';
  const sink = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
  const code = await healthCommand.run({ argv: ['--state-dir', stateDir], env: {}, stdout: sink, stderr: sink });
  return { code, text };
}

describe('a log directory that fails under the scheduler', () => {
  it('full: the flooding run ends, other jobs go on, and every job runs again once space is freed', async () => {
    scratch = await makeScratch('autodeploy-fault-');
    await bench.tmpfs(scratch.logDir, '2m');
    const flood = faultJob(scratch, 'flood');
    const small = faultJob(scratch, 'small');
    await scratch.writeEnv([
      ...nativeJob(flood, {
        SCHEDULE: '@every 2s',
        IMAGE: TEST_IMAGE,
        COMMAND: 'i=0; while [ $i -lt 30000 ]; do echo "line $i of a job that fills the disk with its output"; i=$((i+1)); done',
      }),
      // Fifty lines a run: enough to need a new page of the full tmpfs within a run or two.
      ...nativeJob(small, { SCHEDULE: '@every 1s', IMAGE: TEST_IMAGE, COMMAND: 'i=0; while [ $i -lt 50 ]; do echo small line $i; i=$((i+1)); done' }),
    ]);
    await bench.start(scratch, containers);
    const history = new RunHistory(scratch.stateDir);

    const fullRun = await eventually('a run of the flooding job to end', () => bench.runsOf(flood)[0], 60_000);
    expect(fullRun.outcome).toBe('succeeded');
    expect((await history.runs(flood)).find((r) => r.run === fullRun.run)?.outcome).toBe('succeeded');
    // While the disk is full, the small job keeps its pace and the flooding job keeps running.
    const before = bench.runsOf(small).length;
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    // About one a second, less what the flooding job's output costs the two cores.
    expect(bench.runsOf(small).length - before).toBeGreaterThanOrEqual(3);
    await eventually('the flooding job to run again on a full disk', () => (bench.runsOf(flood).length >= 2 ? true : undefined), 30_000);
    expect(bench.runsOf(small).every((r) => r.outcome === 'succeeded')).toBe(true);

    // Free the space: the flooding job's files go (its open file was let go at the first failed write).
    await rm(join(scratch.logDir, `${flood}.log.d`), { recursive: true, force: true });
    const freedAt = Date.now();
    // Which logs lost lines depends on which found a full page first: each that did says so.
    const notice = await eventually('a log to say how many lines it lost', async () => {
      const counts = [...(await lostNotices(scratch.logDir, small)), ...(await lostNotices(scratch.logDir, flood))];
      return counts.length > 0 ? counts : undefined;
    }, 30_000);
    expect(notice[0]).toBeGreaterThan(0);
    const fresh = await eventually('both jobs to run again after the space is freed', () => {
      const after = (job: string) => bench.runsOf(job).filter((r) => r.startedAt.getTime() > freedAt && r.outcome === 'succeeded');
      return after(small).length > 0 && after(flood).length > 0 ? true : undefined;
    }, 30_000);
    expect(fresh).toBe(true);
    for (const job of [flood, small]) {
      const stuck = (await history.runs(job)).filter((r) => r.outcome === 'running' && Date.parse(r.startedAt) < freedAt);
      expect(stuck).toEqual([]);
    }
  });

  it('read-only: runs keep their pace, and the lost lines are counted once it is writable again', async () => {
    // Linux refuses to make a mount read-only while files on it are open for writing (EBUSY),
    // which the scheduler's logs always are: the directory is read-only from the start here, as
    // after a filesystem the kernel remounted read-only on an error and the scheduler restarted.
    scratch = await makeScratch('autodeploy-fault-');
    await bench.tmpfs(scratch.logDir, '4m', ['ro']);
    const job = faultJob(scratch, 'ro');
    await scratch.writeEnv(nativeJob(job, { SCHEDULE: '@every 1s', IMAGE: TEST_IMAGE, COMMAND: 'echo a line; echo another' }));
    await bench.start(scratch, containers);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const during = [...bench.runsOf(job)];
    // About one run a second; the engine on a busy machine may take some of that.
    expect(during.length).toBeGreaterThanOrEqual(5);
    expect(during.every((r) => r.outcome === 'succeeded')).toBe(true);

    await bench.remount(scratch.logDir, 'rw');
    const counts = await eventually('the count of lost lines in the log', async () => {
      const found = await lostNotices(scratch.logDir, job);
      return found.length > 0 ? found : undefined;
    }, 30_000);
    // Two output lines, a start and an end per run at least.
    expect(counts[0]).toBeGreaterThanOrEqual(during.length * 4);
  });

  it('deleted: noticed, health fails until it is back, then logs are written there again', async () => {
    scratch = await makeScratch('autodeploy-fault-');
    const job = faultJob(scratch, 'gone');
    await scratch.writeEnv(nativeJob(job, { SCHEDULE: '@every 1s', IMAGE: TEST_IMAGE, COMMAND: 'echo still here' }));
    await bench.start(scratch, containers);
    await eventually('a first run', () => bench.runsOf(job)[0], 30_000);
    await eventually('a healthy scheduler', async () => ((await health(scratch.stateDir)).code === 0 ? true : undefined));

    await rm(scratch.logDir, { recursive: true, force: true });
    const sick = await eventually('health to fail', async () => {
      const verdict = await health(scratch.stateDir);
      return verdict.code !== 0 ? verdict : undefined;
    });
    expect(sick.text).toMatch(/log directory .* was deleted/);
    const from = bench.runsOf(job).length;
    await eventually('runs to go on without the directory', () => (bench.runsOf(job).length >= from + 2 ? true : undefined), 30_000);

    await mkdir(scratch.logDir);
    await eventually('health to pass again', async () => ((await health(scratch.stateDir)).code === 0 ? true : undefined));
    const counts = await eventually('the count of lost lines in the new log', async () => {
      const found = await lostNotices(scratch.logDir, job);
      return found.length > 0 ? found : undefined;
    }, 30_000);
    expect(counts[0]).toBeGreaterThan(0);
    expect(await readdir(scratch.logDir)).toContain(`${job}.log`);
    await chmod(scratch.logDir, 0o755);
  });
});
