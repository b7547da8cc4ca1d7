// Corrupt state files: each is moved aside and reported, never reset without a word, and
// the commit set a deploy must not retry survives any one corrupt copy.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDocker, dockerJobContainers } from '../../src/docker/job-containers.js';
import { DeployState } from '../../src/state/deploy-state.js';
import type { CorruptFile } from '../../src/state/json-file.js';
import { RunHistory } from '../../src/state/run-history.js';
import { TEST_IMAGE, eventually, makeScratch, nativeJob, type Scratch } from '../helpers/scheduler-env.js';
import { FaultBench, faultJob } from './helpers/scheduler-faults.js';

const docker = connectDocker();
const bench = new FaultBench();
let scratch: Scratch;

afterEach(async () => {
  await bench.cleanUp(docker, faultJob(scratch, ''));
  await rm(scratch.dir, { recursive: true, force: true });
});

const FAILURE = { commits: { '/srv/platform': 'a'.repeat(40) }, at: '2026-12-01T10:00:00.000Z', reason: 'verify failed: proxy unhealthy' };

describe('corrupt state files', () => {
  it("a job's run history: moved aside, said in the scheduler's log, and a new history started", async () => {
    scratch = await makeScratch('autodeploy-fault-');
    const job = faultJob(scratch, 'hist');
    await scratch.writeEnv(nativeJob(job, { SCHEDULE: '@every 1s', IMAGE: TEST_IMAGE, COMMAND: 'echo ok' }));
    await bench.start(scratch, dockerJobContainers(docker));
    await eventually('a first run', () => bench.runsOf(job)[0], 30_000);

    const file = join(scratch.stateDir, 'runs', `${job}.json`);
    await writeFile(file, '{"runs": [{"job": "half a reco');
    const after = bench.runsOf(job).length;
    await eventually('a run after the corruption', () => bench.runsOf(job)[after + 1], 30_000);

    const aside = (await readdir(join(scratch.stateDir, 'runs'))).filter((name) => name.startsWith(`${job}.json.corrupt-`));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(scratch.stateDir, 'runs', aside[0]!), 'utf8')).toBe('{"runs": [{"job": "half a reco');
    const history = await new RunHistory(scratch.stateDir).runs(job);
    expect(history.length).toBeGreaterThan(0);
    await eventually('the scheduler to say so', async () => {
      const text = await readFile(join(scratch.logDir, 'scheduler.log'), 'utf8');
      return text.includes(`state file ${file} is corrupt: it is not JSON`) ? true : undefined;
    });
  });

  it('failed.json: the commit set not to retry survives either copy garbled, and each garbled copy is kept aside', async () => {
    scratch = await makeScratch('autodeploy-fault-');
    const reported: CorruptFile[] = [];
    const state = new DeployState(scratch.stateDir, { onCorrupt: (c) => reported.push(c) });
    const dir = join(scratch.stateDir, 'deploy');
    await state.recordFailure(FAILURE);

    await writeFile(join(dir, 'failed.json'), '\0\0\0 garbled by a full disk');
    expect(await state.failed()).toEqual(FAILURE);
    expect(reported.map((c) => c.file)).toEqual([join(dir, 'failed.json')]);

    await state.recordFailure(FAILURE);
    await writeFile(join(dir, 'failed.copy.json'), '{"commits": 42}');
    // The first copy is good: the second is not read, so not moved aside yet.
    expect(await state.failed()).toEqual(FAILURE);
    // Both garbled: forgotten, but both are kept aside and reported.
    await writeFile(join(dir, 'failed.json'), '[]');
    expect(await state.failed()).toEqual(undefined);
    const aside = (await readdir(dir)).filter((name) => name.includes('.corrupt-')).sort();
    expect(aside.map((name) => name.replace(/\.corrupt-.*/, ''))).toEqual(['failed.copy.json', 'failed.json', 'failed.json']);

    // Cleared on purpose is not corrupt: nothing is moved aside, and nothing is returned.
    await state.clearFailure();
    const before = reported.length;
    expect(await state.failed()).toBeUndefined();
    expect(reported).toHaveLength(before);
  });

  it("a deploy's in-progress record: moved aside and reported rather than read as no deploy", async () => {
    scratch = await makeScratch('autodeploy-fault-');
    const reported: CorruptFile[] = [];
    const state = new DeployState(scratch.stateDir, { onCorrupt: (c) => reported.push(c) });
    await state.begin({ heads: { '/srv/platform': 'b'.repeat(40) }, targets: { '/srv/platform': 'c'.repeat(40) }, startedAt: '2026-12-01T10:00:00.000Z' });
    await writeFile(join(scratch.stateDir, 'deploy', 'in-progress.json'), '{"heads": {"/srv/platform": ');
    expect(await state.inProgress()).toBeUndefined();
    expect(reported).toHaveLength(1);
    expect(reported[0]?.movedTo).toMatch(/in-progress\.json\.corrupt-\d{4}-\d\d-\d\dT\d{6}/);
    expect(await readFile(reported[0]!.movedTo!, 'utf8')).toBe('{"heads": {"/srv/platform": ');
  });
});
