// docker-crontab's job kinds against a real Docker engine: commands run in running containers
// (by name, and in every container of a compose service), in the scheduler itself, triggers
// after a success, onstart, and job files followed while the daemon runs.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dockerContainerExecs } from '../../src/docker/container-execs.js';
import { connectDocker, dockerJobContainers } from '../../src/docker/job-containers.js';
import { localCommands } from '../../src/process/local-commands.js';
import { Daemon } from '../../src/scheduler/daemon.js';
import { RunHistory } from '../../src/state/run-history.js';
import { jobRecords, outputLines } from '../helpers/job-log.js';
import { daemonBase, eventually, makeScratch, TEST_IMAGE, TEST_PROCESS_ENV, type Scratch } from '../helpers/scheduler-env.js';

const docker = connectDocker();
const suffix = Math.random().toString(36).slice(2, 7);
/** Long-running containers the jobs exec into: one by name, two of one compose service. */
const TARGET = `exec-target-${suffix}`;
const PROJECT = `jobfiles${suffix}`;
const SERVICE = 'worker';
const daemons: Daemon[] = [];

async function sleeper(name: string, labels: Record<string, string> = {}): Promise<void> {
  const container = await docker.createContainer({ name, Image: TEST_IMAGE, Cmd: ['sleep', '600'], Labels: labels, HostConfig: { AutoRemove: false } });
  await container.start();
}

beforeAll(async () => {
  await docker.getImage(TEST_IMAGE).inspect().catch(() => {
    throw new Error(`test image ${TEST_IMAGE} is missing: run scripts/build-test-images.sh (make test does)`);
  });
  await sleeper(TARGET);
  for (const n of [1, 2]) {
    await sleeper(`${PROJECT}-${SERVICE}-${n}`, { 'com.docker.compose.project': PROJECT, 'com.docker.compose.service': SERVICE });
  }
});

afterAll(async () => {
  for (const name of [TARGET, `${PROJECT}-${SERVICE}-1`, `${PROJECT}-${SERVICE}-2`]) {
    await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
  }
});

afterEach(async () => {
  for (const daemon of daemons.splice(0)) await daemon.stop();
});

async function startDaemon(scratch: Scratch): Promise<Daemon> {
  const daemon = await Daemon.start({
    ...daemonBase(scratch),
    containers: dockerJobContainers(docker),
    execs: dockerContainerExecs(docker),
    local: localCommands(TEST_PROCESS_ENV),
    heartbeatMs: 500,
  });
  daemons.push(daemon);
  return daemon;
}

async function scratchWithJobs(files: Record<string, string>): Promise<Scratch & { jobsDir: string }> {
  const scratch = await makeScratch();
  const jobsDir = join(scratch.dir, 'jobs');
  await mkdir(jobsDir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(jobsDir, name), text);
  await scratch.writeEnv([`AUTODEPLOY_JOBS_DIR=${jobsDir}`]);
  return { ...scratch, jobsDir };
}

describe('docker-crontab job kinds', () => {
  it('runs a command in a running container, and in every running container of a compose service', async () => {
    const scratch = await scratchWithJobs({
      'exec.yml': [
        `- name: in-target`,
        `  schedule: "@every 1h"`,
        `  container: ${TARGET}`,
        `  command: sh -c 'echo in $(hostname) as $(id -u) in $PWD with $GREETING'`,
        `  dockerargs: -e GREETING=hello -w /tmp`,
        `- name: in-service`,
        `  schedule: "@every 1h"`,
        `  project: ${PROJECT}`,
        `  container: ${SERVICE}`,
        `  command: sh -c 'echo from $(hostname)'`,
      ].join('\n'),
    });
    const daemon = await startDaemon(scratch);
    const one = await daemon.trigger('in-target');
    const each = await daemon.trigger('in-service');
    expect([one?.outcome, one?.exitCode]).toEqual(['succeeded', 0]);
    expect([each?.outcome, each?.exitCode]).toEqual(['succeeded', 0]);

    const targetId = (await docker.getContainer(TARGET).inspect()).Id.slice(0, 12);
    expect(await outputLines(scratch.logDir, 'in-target')).toEqual([`in ${targetId} as 0 in /tmp with hello`]);
    const workers = await Promise.all([1, 2].map(async (n) => (await docker.getContainer(`${PROJECT}-${SERVICE}-${n}`).inspect()).Id.slice(0, 12)));
    expect((await outputLines(scratch.logDir, 'in-service')).sort()).toEqual(workers.map((id) => `from ${id}`).sort());
    // Each line says which container of the service wrote it.
    const records = (await jobRecords(scratch.logDir, 'in-service')).filter((r) => r.out !== undefined);
    expect(records.map((r) => r.container).sort()).toEqual([`${PROJECT}-${SERVICE}-1`, `${PROJECT}-${SERVICE}-2`]);
  });

  it('a job whose container is not running is a failed run that says so', async () => {
    const scratch = await scratchWithJobs({ 'gone.yml': `- name: gone\n  schedule: "@every 1h"\n  container: no-such-${suffix}\n  command: echo never\n` });
    const daemon = await startDaemon(scratch);
    const report = await daemon.trigger('gone');
    expect([report?.outcome, report?.message]).toEqual(['failed', `container no-such-${suffix} is not running: nothing was run`]);
    const history = await new RunHistory(scratch.stateDir).runs('gone');
    expect(history.map((r) => [r.outcome, r.message])).toEqual([['failed', `container no-such-${suffix} is not running: nothing was run`]]);
  });

  it('runs a command in the scheduler itself, with its exit code', async () => {
    const scratch = await scratchWithJobs({ 'local.yml': `- name: here\n  schedule: "@every 1h"\n  command: sh -c 'echo run $AUTODEPLOY_RUN of $AUTODEPLOY_JOB; exit 3'\n` });
    const daemon = await startDaemon(scratch);
    const report = await daemon.trigger('here');
    expect([report?.outcome, report?.exitCode]).toEqual(['failed', 3]);
    expect(await outputLines(scratch.logDir, 'here')).toEqual([`run ${report?.run} of here`]);
  });

  it('runs triggers in order after a success; a trigger whose container is missing fails the trigger, not the job', async () => {
    const scratch = await scratchWithJobs({
      'trigger.yml': [
        `- name: chain`,
        `  schedule: "@every 1h"`,
        `  image: ${TEST_IMAGE}`,
        `  command: echo main`,
        `  trigger:`,
        `    - command: echo first trigger`,
        `      container: ${TARGET}`,
        `    - command: echo lost`,
        `      container: no-such-${suffix}`,
        `    - command: echo third in a new container`,
        `      image: ${TEST_IMAGE}`,
        `- name: no-chain`,
        `  schedule: "@every 1h"`,
        `  command: sh -c 'exit 1'`,
        `  trigger:`,
        `    - command: echo must not run`,
      ].join('\n'),
    });
    const daemon = await startDaemon(scratch);
    const report = await daemon.trigger('chain');
    expect(report?.outcome).toBe('succeeded');
    expect(report?.triggers?.map((t) => [t.outcome, t.message])).toEqual([
      ['succeeded', undefined],
      ['failed', `container no-such-${suffix} is not running: nothing was run`],
      ['succeeded', undefined],
    ]);
    const records = await jobRecords(scratch.logDir, 'chain');
    expect(records.filter((r) => r.out !== undefined).map((r) => [r.trigger, r.msg])).toEqual([
      [undefined, 'main'],
      [1, 'first trigger'],
      [3, 'third in a new container'],
    ]);
    expect(records.some((r) => r.trigger === 2 && /trigger #2 failed: container no-such-/.test(r.msg))).toBe(true);
    // The trigger's container is gone once it ran.
    const left = await docker.listContainers({ all: true, filters: { name: [`chain-trigger-3-`] } });
    expect(left).toEqual([]);

    const failed = await daemon.trigger('no-chain');
    expect([failed?.outcome, failed?.triggers]).toEqual(['failed', undefined]);
    expect(await outputLines(scratch.logDir, 'no-chain')).toEqual([]);
  });

  it('runs onstart jobs once when the scheduler starts', async () => {
    const scratch = await scratchWithJobs({ 'onstart.yml': `- name: boot\n  schedule: "@every 1h"\n  onstart: true\n  command: echo started\n` });
    await startDaemon(scratch);
    await eventually('the onstart run in the history', async () => ((await new RunHistory(scratch.stateDir).runs('boot')).some((r) => r.outcome === 'succeeded') ? true : undefined));
    expect(await outputLines(scratch.logDir, 'boot')).toEqual(['started']);
  });
});

describe('job files followed by the running daemon', () => {
  it('adds, refuses and keeps jobs as their files change, each job on its own', async () => {
    const every = (name: string, text: string): string => `- name: ${name}\n  schedule: "@every 1h"\n  command: echo ${text}\n`;
    const scratch = await scratchWithJobs({ 'a.yml': every('alpha', 'a1'), 'b.yml': every('beta', 'b1') });
    const daemon = await startDaemon(scratch);
    expect(daemon.jobs.map((j) => j.name).sort()).toEqual(['alpha', 'beta']);

    // A new file is picked up.
    const reloaded = new Promise((resolve) => daemon.once('reload', resolve));
    await writeFile(join(scratch.jobsDir, 'c.json'), JSON.stringify([{ name: 'gamma', schedule: '@every 1h', command: 'echo c1' }]));
    await reloaded;
    expect(daemon.jobs.map((j) => j.name).sort()).toEqual(['alpha', 'beta', 'gamma']);

    // b.yml breaks (not YAML) and alpha gets a bad schedule: beta keeps its last good
    // definition, alpha too, gamma runs on; the log names the files and lines.
    const broken = new Promise((resolve) => daemon.once('reload', resolve));
    await writeFile(join(scratch.jobsDir, 'a.yml'), every('alpha', 'a2').replace('@every 1h', 'whenever'));
    await writeFile(join(scratch.jobsDir, 'b.yml'), '- name: beta\n  schedule: "@every 1h\n');
    await broken;
    await eventually('both problems logged', async () => {
      const lines = (await jobRecords(scratch.logDir, 'scheduler')).map((r) => r.msg);
      const named = lines.some((m) => m.includes(`${join(scratch.jobsDir, 'a.yml')}:2: job "alpha": schedule "whenever" is not valid`)) &&
        lines.some((m) => m.includes(`${join(scratch.jobsDir, 'b.yml')}`) && m.includes('is not valid YAML'));
      return named ? true : undefined;
    });
    expect(daemon.jobs.map((j) => j.name).sort()).toEqual(['alpha', 'beta', 'gamma']);
    const alpha = await daemon.trigger('alpha');
    expect(alpha?.outcome).toBe('succeeded');
    expect(await outputLines(scratch.logDir, 'alpha')).toEqual(['a1']);

    // Fixed again: the new definitions run.
    const fixed = new Promise((resolve) => daemon.once('reload', resolve));
    await writeFile(join(scratch.jobsDir, 'a.yml'), every('alpha', 'a3'));
    await rm(join(scratch.jobsDir, 'b.yml'));
    await fixed;
    await eventually('beta gone', () => (daemon.jobs.some((j) => j.name === 'beta') ? undefined : true));
    await daemon.trigger('alpha');
    expect(await outputLines(scratch.logDir, 'alpha')).toEqual(['a1', 'a3']);
  });
});
