// The scheduler killed (SIGKILL, no chance to flush) while a run writes fast, twice over:
// each scheduler that comes back re-attaches, and the run's log ends with every line once.
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/docker/job-containers.js';
import { RunHistory } from '../../src/state/run-history.js';
import { jobRecords, outputLines } from '../helpers/job-log.js';
import { DEFAULTS_FILE, REPO_ROOT, TEST_IMAGE, eventually, makeScratch, nativeJob, type Scratch } from '../helpers/scheduler-env.js';
import { FaultBench, faultJob } from './helpers/scheduler-faults.js';

const docker = connectDocker();
const bench = new FaultBench();
const children: ChildProcess[] = [];
let scratch: Scratch;

afterEach(async () => {
  for (const child of children.splice(0)) await kill(child);
  await bench.cleanUp(docker, faultJob(scratch, ''));
  await rm(scratch.dir, { recursive: true, force: true });
});

function startScheduler(envFile: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--', 'start', '--env-file', envFile], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('the scheduler killed mid-run', () => {
  it('loses no line and writes none twice, across two kills while the run writes in bursts', async () => {
    scratch = await makeScratch('autodeploy-fault-');
    const job = faultJob(scratch, 'burst');
    const total = 3000;
    // Bursts of 300 lines as fast as the shell writes them, a pause between: kills land mid-burst.
    await scratch.writeEnv(nativeJob(job, {
      SCHEDULE: '@every 2s',
      IMAGE: TEST_IMAGE,
      COMMAND: `i=1; while [ $i -le ${total} ]; do echo line $i; if [ $((i % 300)) -eq 0 ]; then sleep 0.7; fi; i=$((i+1)); done`,
    }));

    let scheduler = startScheduler(scratch.envFile);
    const run = await eventually('the run under way', async () => {
      const out = (await jobRecords(scratch.logDir, job)).filter((r) => r.out !== undefined);
      return out.length >= 200 ? out[0]!.run : undefined;
    }, 60_000);
    for (const atLeast of [900, 1800]) {
      await kill(scheduler);
      scheduler = startScheduler(scratch.envFile);
      await eventually(`${atLeast} lines in the log`, async () => ((await outputLines(scratch.logDir, job, run)).length >= atLeast ? true : undefined), 60_000);
    }

    const history = new RunHistory(scratch.stateDir);
    const done = await eventually('the run to end', async () => {
      const record = (await history.runs(job)).find((r) => r.run === run);
      return record && record.outcome !== 'running' ? record : undefined;
    }, 60_000);
    expect(done.outcome, JSON.stringify(done)).toBe('succeeded');
    const lines = await outputLines(scratch.logDir, job, run);
    expect(lines.length).toBe(total);
    expect(lines).toEqual(Array.from({ length: total }, (_, i) => `line ${i + 1}`));
  });
});
