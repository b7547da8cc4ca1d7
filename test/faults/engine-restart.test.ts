// The Docker engine restarted under a running job. The engine is one this file starts for
// itself (restarting the host's engine would stop every other container on it), and the daemon
// under test reaches it through DOCKER_HOST.
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_RUN } from '../../src/core/job.js';
import { connectDocker, dockerJobContainers } from '../../src/docker/job-containers.js';
import { RunHistory } from '../../src/state/run-history.js';
import { outputLines } from '../helpers/job-log.js';
import { TEST_IMAGE, eventually, makeScratch, nativeJob, type Scratch } from '../helpers/scheduler-env.js';
import { FaultBench, faultJob } from './helpers/scheduler-faults.js';
import { SecondEngine } from './helpers/second-engine.js';

let engine: SecondEngine | undefined;
const bench = new FaultBench();
let scratch: Scratch | undefined;

beforeAll(async () => {
  engine = await SecondEngine.start([TEST_IMAGE]);
}, 180_000);

afterAll(async () => {
  await engine?.destroy();
}, 120_000);

afterEach(async () => {
  if (engine !== undefined && scratch !== undefined) await bench.cleanUp(connectDocker({}, { DOCKER_HOST: engine.host }), faultJob(scratch, ''));
  if (scratch !== undefined) await rm(scratch.dir, { recursive: true, force: true });
});

describe('the Docker engine restarted mid-run', () => {
  it('records the run as interrupted by the engine, keeps its lines once, and schedules again', async () => {
    if (engine === undefined) throw new Error('no second engine');
    scratch = await makeScratch('autodeploy-fault-');
    const docker = connectDocker({}, { DOCKER_HOST: engine.host });
    const long = faultJob(scratch, 'long');
    const tick = faultJob(scratch, 'tick');
    await scratch.writeEnv([
      ...nativeJob(long, {
        SCHEDULE: '@every 2s',
        IMAGE: TEST_IMAGE,
        COMMAND: 'i=1; while [ $i -le 600 ]; do echo line $i; i=$((i+1)); sleep 0.05; done',
      }),
      ...nativeJob(tick, { SCHEDULE: '@every 1s', IMAGE: TEST_IMAGE, COMMAND: 'echo tick' }),
    ]);
    await bench.start(scratch, dockerJobContainers(docker));
    const history = new RunHistory(scratch.stateDir);
    const running = await eventually('a run of the long job under way', async () => {
      const record = (await history.runs(long)).find((r) => r.outcome === 'running');
      return record !== undefined && (await outputLines(scratch!.logDir, long, record.run)).length >= 10 ? record : undefined;
    }, 60_000);

    await engine.restart();
    const restartedAt = Date.now();

    const ended = await eventually('the interrupted run to be recorded', async () => {
      const record = (await history.runs(long)).find((r) => r.run === running.run);
      return record?.outcome === 'running' ? undefined : record;
    }, 60_000);
    expect(ended.outcome).toBe('interrupted');
    expect(ended.message).toMatch(/the Docker engine stopped or restarted while the run was going .*exit 1(37|43).*not a failure of the job/);
    // Every line the run wrote is in its log once, in order.
    const lines = await outputLines(scratch.logDir, long, running.run);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines).toEqual(Array.from({ length: lines.length }, (_, i) => `line ${i + 1}`));

    // Scheduling resumed on the restarted engine: both jobs run again.
    await eventually('both jobs to run again after the restart', async () => {
      const ticked = bench.runsOf(tick).some((r) => r.startedAt.getTime() > restartedAt && r.outcome === 'succeeded');
      const started = (await history.runs(long)).some((r) => Date.parse(r.startedAt) > restartedAt && r.outcome === 'running');
      return ticked && started ? true : undefined;
    }, 60_000);
    // Nothing of the interrupted run is left to hold the job's name.
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${running.run}`] } });
    expect(left).toEqual([]);
  });

  it('a scheduler that went down with the engine records the run as interrupted when it comes back', async () => {
    if (engine === undefined) throw new Error('no second engine');
    scratch = await makeScratch('autodeploy-fault-');
    const docker = connectDocker({}, { DOCKER_HOST: engine.host });
    const long = faultJob(scratch, 'down');
    await scratch.writeEnv(nativeJob(long, {
      SCHEDULE: '@every 2s',
      IMAGE: TEST_IMAGE,
      COMMAND: 'i=1; while [ $i -le 600 ]; do echo line $i; i=$((i+1)); sleep 0.05; done',
    }));
    const first = await bench.start(scratch, dockerJobContainers(docker));
    const history = new RunHistory(scratch.stateDir);
    const running = await eventually('a run under way', async () => {
      const record = (await history.runs(long)).find((r) => r.outcome === 'running');
      return record !== undefined && (await outputLines(scratch!.logDir, long, record.run)).length >= 10 ? record : undefined;
    }, 60_000);

    // The host going down: the scheduler stops, and the engine kills the run's container.
    bench.daemons.splice(bench.daemons.indexOf(first), 1);
    await first.stop();
    await engine.restart();

    await bench.start(scratch, dockerJobContainers(docker));
    const ended = await eventually('the run to be recorded', async () => {
      const record = (await history.runs(long)).find((r) => r.run === running.run);
      return record?.outcome === 'running' ? undefined : record;
    }, 60_000);
    expect(ended.outcome).toBe('interrupted');
    expect(ended.message).toMatch(/stopped together with the scheduler .*exit 1(37|43).*not a failure of the job/);
    const lines = await outputLines(scratch.logDir, long, running.run);
    expect(lines).toEqual(Array.from({ length: lines.length }, (_, i) => `line ${i + 1}`));
  });
});
