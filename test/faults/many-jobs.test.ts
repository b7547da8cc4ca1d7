// Forty jobs due every five seconds, for FAULT_SOAK_SECONDS (20 in `make test`, 120 in
// `make faults`): every due moment is accounted for, as a run or as a skip with its reason,
// and no run is counted, logged or recorded twice.
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDocker, dockerJobContainers } from '../../src/docker/job-containers.js';
import { RunHistory } from '../../src/state/run-history.js';
import { jobRecords } from '../helpers/job-log.js';
import { TEST_IMAGE, eventually, makeScratch, nativeJob, type Scratch } from '../helpers/scheduler-env.js';
import { FaultBench, faultJob } from './helpers/scheduler-faults.js';

const JOBS = 40;
const EVERY_S = 5;
const SOAK_S = Number(process.env['FAULT_SOAK_SECONDS'] ?? 20);

const docker = connectDocker();
const bench = new FaultBench();
let scratch: Scratch;

afterEach(async () => {
  await bench.cleanUp(docker, faultJob(scratch, ''));
  await rm(scratch.dir, { recursive: true, force: true });
});

describe(`${JOBS} jobs @every ${EVERY_S}s for ${SOAK_S}s`, () => {
  it('accounts for every due moment as one run or one skip with a reason, none doubled', async () => {
    scratch = await makeScratch('autodeploy-fault-');
    const names = Array.from({ length: JOBS }, (_, i) => faultJob(scratch, `many${i}`));
    const lines = (enabled: boolean) =>
      names.flatMap((name) =>
        nativeJob(name, {
          SCHEDULE: `@every ${EVERY_S}s`,
          IMAGE: TEST_IMAGE,
          COMMAND: 'sh -c "echo run $AUTODEPLOY_RUN"',
          ENABLED: String(enabled),
        }),
      );
    await scratch.writeEnv(lines(true));
    const daemon = await bench.start(scratch, dockerJobContainers(docker), 1_000);
    const startedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, SOAK_S * 1000));
    // Disabled rather than stopped: stopping would leave the runs under way unfollowed.
    await scratch.writeEnv(lines(false));
    await new Promise<void>((resolve) => daemon.once('reload', () => resolve()));
    const soakedMs = Date.now() - startedAt;
    await eventually('every run under way to end', async () => {
      const left = await docker.listContainers({ all: true, filters: { name: [faultJob(scratch, '')] } });
      return left.length === 0 ? true : undefined;
    }, 120_000);

    const history = new RunHistory(scratch.stateDir);
    const due = Math.floor(soakedMs / (EVERY_S * 1000));
    let runs = 0;
    let skips = 0;
    let errors = 0;
    for (const name of names) {
      const records = await jobRecords(scratch.logDir, name);
      const started = records.filter((r) => r.msg === 'run started').map((r) => r.run);
      const skipped = records.filter((r) => r['outcome'] === 'skipped');
      const notStarted = records.filter((r) => r.msg.startsWith('run could not start'));
      const output = records.filter((r) => r.out !== undefined).map((r) => r.msg);
      expect(new Set(started).size, `${name}: a run started twice`).toBe(started.length);
      const missing = started.filter((run) => output.filter((line) => line === `run ${run}`).length !== 1);
      const story = missing.map((run) => records.filter((r) => r.run === run).map((r) => `${r.level} ${r.msg} ${JSON.stringify(r)}`).join('\n'));
      expect(story, `${name}: output lost or doubled`).toEqual([]);
      expect(output.length, `${name}: output of no run`).toBe(started.length);
      for (const skip of skipped) expect(skip.msg).toMatch(/^run skipped: .+/);
      const accounted = started.length + skipped.length + notStarted.length;
      expect(accounted, `${name}: due moments in ${soakedMs} ms`).toBeGreaterThanOrEqual(due - 1);
      expect(accounted, `${name}: due moments in ${soakedMs} ms`).toBeLessThanOrEqual(due + 1);

      const recorded = await history.runs(name);
      expect(new Set(recorded.map((r) => r.run)).size).toBe(recorded.length);
      expect(recorded.filter((r) => r.outcome === 'running')).toEqual([]);
      const reported = bench.runsOf(name).filter((r) => r.outcome !== 'skipped' && r.outcome !== 'error');
      expect(reported.map((r) => r.run).sort()).toEqual([...started].sort());
      runs += started.length;
      skips += skipped.length;
      errors += notStarted.length;
    }
    console.log(`${JOBS} jobs @every ${EVERY_S}s for ${Math.round(soakedMs / 1000)}s: ${runs} runs, ${skips} skipped, ${errors} could not start`);
  }, (SOAK_S + 300) * 1000);
});
