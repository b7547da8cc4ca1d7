// The scheduler at start, after a deploy died midway (the host rebooted): it runs the
// autodeploy job at once, whose container finishes or undoes the deploy, rather than waiting
// for the job's next slot. The engine is a recording stand-in: what is checked is only that
// the daemon starts that run, and only when an intent is there.
import { mkdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../../src/core/job.js';
import type { JobContainers } from '../../src/core/ports.js';
import type { OutputLine, RunContainer, RunMeta } from '../../src/core/run.js';
import { Daemon } from '../../src/scheduler/daemon.js';
import { DeployState } from '../../src/state/deploy-state.js';
import { daemonBase, eventually, makeScratch } from '../helpers/scheduler-env.js';
import { removeTempDir } from '../fixtures/git-repos.js';

/** Containers that exit 0 as soon as they start; it keeps the name of every one created. */
class RecordingContainers implements JobContainers {
  readonly created: string[] = [];
  private readonly all = new Map<string, RunContainer>();

  async create(spec: ContainerSpec, meta: RunMeta): Promise<string> {
    const id = String(this.created.push(spec.containerName)).padStart(64, '0');
    this.all.set(id, { ...meta, id, name: spec.containerName, running: false, exitCode: 0, startedAt: new Date() });
    return id;
  }
  async start(): Promise<void> {}
  async inspect(idOrName: string): Promise<RunContainer | undefined> {
    return this.all.get(idOrName) ?? [...this.all.values()].find((c) => c.name === idOrName);
  }
  async list(): Promise<RunContainer[]> {
    return [...this.all.values()];
  }
  async *output(): AsyncIterable<OutputLine> {}
  async wait(): Promise<number> {
    return 0;
  }
  async stop(): Promise<void> {}
  async remove(id: string): Promise<void> {
    this.all.delete(id);
  }
  async self(): Promise<undefined> {
    return undefined;
  }
}

const daemons: Daemon[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const daemon of daemons.splice(0)) await daemon.stop();
  for (const dir of dirs.splice(0)) await removeTempDir(dir);
});

async function startWith(intent: boolean): Promise<RecordingContainers> {
  const scratch = await makeScratch();
  dirs.push(scratch.dir);
  const composeDir = `${scratch.dir}/platform`;
  await mkdir(composeDir);
  // PAVICS: the autodeploy job is on, at 05:07 every day: not now.
  await scratch.writeEnv([`export COMPOSE_DIR="${composeDir}"`, 'export AUTODEPLOY_IMAGE="autodeploy-scheduler:test"', 'export AUTODEPLOY_NOTEBOOK_FREQUENCY=""']);
  if (intent) {
    await new DeployState(scratch.stateDir).begin({ heads: { [composeDir]: 'a'.repeat(40) }, targets: { [composeDir]: 'b'.repeat(40) }, startedAt: new Date().toISOString(), step: 'starting' });
  }
  const containers = new RecordingContainers();
  daemons.push(
    await Daemon.start({ ...daemonBase(scratch), containers, heartbeatMs: 60_000 }),
  );
  return containers;
}

describe('the scheduler at start', () => {
  it('runs the autodeploy job at once when a deploy left its intent', async () => {
    const containers = await startWith(true);
    await eventually('the autodeploy run', () => (containers.created.includes('autodeploy') ? true : undefined), 10_000);
    expect(containers.created).toEqual(['autodeploy']);
  });

  it('leaves the autodeploy job to its schedule when none did', async () => {
    const containers = await startWith(false);
    // Boot is over when start resolves; a run it started would have created its container by now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(containers.created).toEqual([]);
  });
});
