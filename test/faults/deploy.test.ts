// Deploys under faults, against the real thing: git checkouts of bare upstreams, a real Docker
// engine and docker-compose v1. A deploy killed after its pull, a compose that hangs, a git
// remote that never answers, a checkout that cannot be judged. Each leaves the platform
// matching its checkouts, the lock free, and a history that tells what happened.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkoutRootOf } from '../../src/config/read.js';
import { DeployState } from '../../src/state/deploy-state.js';
import { RunHistory } from '../../src/state/run-history.js';
import { acquireDeployLock } from '../../src/state/lock.js';
import { parseEventLine } from '../../src/core/event-line.js';
import { git } from '../fixtures/git-repos.js';
import { createGitPlatform, HEALTHY_WEB, run, webCompose, type GitPlatform } from '../fixtures/platform.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULTS_FILE, REPO_ROOT, eventually } from '../helpers/scheduler-env.js';

/** The web service of the platform, labelled with the version of its definition. */
const webOf = (version: string): string => webCompose(HEALTHY_WEB).replace('    restart:', `    labels:\n      test.version: "${version}"\n    restart:`);

let platform: GitPlatform;
let stateDir: string;
/** env.local: the state directory, the hanging compose command, and `extra`. */
async function setEnv(extra: readonly string[]): Promise<void> {
  await platform.writeEnv([
    // No scheduler service: this process plays the deploy container.
    'export EXTRA_CONF_DIRS=""',
    `export AUTODEPLOY_STATE_DIR="${stateDir}"`,
    `export AUTODEPLOY_COMPOSE="${join(platform.root, 'compose.sh')}"`,
    'export AUTODEPLOY_VERIFY_TIMEOUT="30s"',
    ...extra,
  ]);
}

/** Processes a test leaves behind on purpose (a deploy it killed, a compose it hung): killed after each test. */
const leftovers: number[] = [];

/**
 * The compose command of these deploys: the platform's wrapper, except that `up` hangs
 * (recording its pid, with a child of its own) while the checkout holds `hang-on-up`, or while
 * the platform's root holds `hang-up`.
 */
const hangingCompose = (root: string, composeDir: string): string => `#!/bin/sh
if [ "$1" = up ] && { [ -e "${composeDir}/hang-on-up" ] || [ -e "${root}/hang-up" ]; }; then
  echo $$ > "${root}/hung.pid"
  sleep 600 &
  echo $! > "${root}/hung-child.pid"
  wait
fi
exec "${composeDir}/pavics-compose.sh" "$@"
`;

beforeAll(async () => {
  platform = await createGitPlatform({ files: { 'docker-compose.yml': webOf('1'), 'www/index.html': 'v1\n' }, envLines: [] });
  stateDir = join(platform.root, 'state');
  await mkdir(stateDir);
  const composeScript = join(platform.root, 'compose.sh');
  await writeFile(composeScript, hangingCompose(platform.root, platform.composeDir));
  await chmod(composeScript, 0o755);
  await setEnv([]);
  const up = await platform.compose('up', '-d');
  if (up.code !== 0) throw new Error(up.stderr);
});

afterEach(async () => {
  for (const file of ['hung.pid', 'hung-child.pid']) {
    const pid = await readPid(join(platform.root, file));
    if (pid !== undefined) leftovers.push(pid);
    await rm(join(platform.root, file), { force: true });
  }
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await rm(join(platform.root, 'hang-up'), { force: true });
});

afterAll(async () => {
  await platform?.destroy();
});

const cliEnv = (): Record<string, string | undefined> => ({ PATH: process.env['PATH'], HOME: process.env['HOME'], AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE, COMPOSE_DIR: platform.composeDir });
const deploy = (): ReturnType<typeof runCli> => runCli(['deploy', '--env-file', platform.envFile], cliEnv());

const webLabel = async (): Promise<string> =>
  (await run('docker', ['inspect', '-f', '{{index .Config.Labels "test.version"}}', `${platform.project}_web_1`])).stdout.trim();

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const readPid = async (file: string): Promise<number | undefined> => {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
};

/** `autodeploy deploy` as a process of its own, as the deploy container runs it. */
function deployProcess(env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'deploy', '--env-file', platform.envFile], {
    cwd: REPO_ROOT,
    env: { ...cliEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.resume();
  child.stderr?.resume();
  if (child.pid !== undefined) leftovers.push(child.pid);
  return child;
}

/**
 * Starts a deploy that hangs in compose up (the `hang-up` marker is there) and kills it there
 * as a container dies: at once, with no chance to clean up. Its hung compose goes too.
 */
async function killDeployInComposeUp(env: Record<string, string> = {}): Promise<void> {
  const child = deployProcess(env);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const hung = await eventually('the deploy to reach compose up', () => readPid(join(platform.root, 'hung.pid')), 60_000);
  leftovers.push(hung);
  child.kill('SIGKILL');
  await exited;
  process.kill(hung, 'SIGKILL');
  await rm(join(platform.root, 'hung.pid'), { force: true });
}

describe('a deploy killed after its pull', () => {
  it('is finished by the next run: the containers are recreated from the checkouts, and the history says interrupted', async () => {
    const before = await platform.head();
    await writeFile(join(platform.root, 'hang-up'), '');
    const pushed = await platform.push({ 'docker-compose.yml': webOf('2') }, 'Web v2');

    // As the scheduler runs it: its run, once the container is killed, is recorded as failed.
    await killDeployInComposeUp({ AUTODEPLOY_JOB: 'autodeploy', AUTODEPLOY_RUN: 'killed-run' });
    const jobRuns = new RunHistory(stateDir);
    await jobRuns.record({ job: 'autodeploy', run: 'killed-run', origin: 'schedule', outcome: 'failed', startedAt: new Date().toISOString(), exitCode: 137 });

    // Pulled, but the old containers run: the state a dead deploy used to leave for good.
    expect(await platform.head()).toBe(pushed);
    expect(await webLabel()).toBe('1');
    const intent = await new DeployState(stateDir).inProgress();
    expect(intent).toMatchObject({ heads: { [checkoutRootOf(platform.composeDir)]: before }, targets: { [checkoutRootOf(platform.composeDir)]: pushed }, step: 'starting' });

    const status = await runCli(['status', '--json', '--env-file', platform.envFile], cliEnv());
    const seen = JSON.parse(status.stdout) as { deploy: { state: string; message: string } };
    expect(seen.deploy.state).toBe('stuck');
    expect(seen.deploy.message).toMatch(/its holder is gone, with a deploy unfinished \(starting\): the next deploy run takes the lock over; the next deploy run brings the platform up/);

    const dry = await runCli(['deploy', '--dry-run', '--env-file', platform.envFile], cliEnv());
    expect(dry.stdout).toMatch(/dry-run: would first finish or undo the interrupted deploy; then would do nothing/);
    expect(await new DeployState(stateDir).inProgress()).toEqual(intent);

    await rm(join(platform.root, 'hang-up'));
    const next = await deploy();
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toMatch(/finishing the interrupted deploy \(it died while starting\)/);
    expect(next.stdout).toMatch(/interrupted deploy finished/);
    expect(await webLabel()).toBe('2');
    expect(await platform.head()).toBe(pushed);
    expect(await new DeployState(stateDir).inProgress()).toBeUndefined();

    const history = await new DeployState(stateDir).history();
    expect(history.find((r) => r.id === intent?.id)).toMatchObject({ outcome: 'interrupted', ok: false, message: expect.stringMatching(/^died while starting; .* it is finished now/) });
    expect(history[0]).toMatchObject({ outcome: 'recovered', ok: true, exitCode: 0 });
    expect(await jobRuns.runs('autodeploy')).toEqual([expect.objectContaining({ run: 'killed-run', outcome: 'interrupted', exitCode: 137, message: expect.stringMatching(/^died while starting/) })]);

    // And then the platform is simply up to date.
    const after = await deploy();
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/nothing: nothing to deploy \(1 up-to-date\)/);
  });

  it('is undone by the next run when the commits it was deploying do not come up', async () => {
    const good = await platform.head();
    await writeFile(join(platform.root, 'hang-up'), '');
    const broken = await platform.push({ 'docker-compose.yml': webCompose('["sh", "-c", "exit 3"]', 'always') }, 'Break web');
    await killDeployInComposeUp();
    expect(await platform.head()).toBe(broken);

    await rm(join(platform.root, 'hang-up'));
    const next = await deploy();
    expect(next.code, next.stdout).toBe(1);
    expect(next.stdout).toMatch(/interrupted deploy rolled back/);
    expect(await platform.head()).toBe(good);
    expect(await webLabel()).toBe('2');
    expect(await new DeployState(stateDir).inProgress()).toBeUndefined();
    // The commits that failed are held, as after any rollback, until a newer one arrives.
    const held = await deploy();
    expect(held.stdout).toMatch(/held: these commits failed to deploy/);
    await platform.push({ 'docker-compose.yml': webOf('2') }, 'Fix web');
    expect((await deploy()).code).toBe(0);
  });
});

describe('checkouts that cannot be judged', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let dead: string;
  let notACheckout: string;

  beforeAll(async () => {
    // A git server that accepts the connection and never says a word.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    dead = join(platform.root, 'unreachable');
    await git(platform.root, 'clone', '--quiet', platform.upstream, dead);
    await git(dead, 'remote', 'set-url', 'origin', `http://127.0.0.1:${port}/repo.git`);
    notACheckout = join(platform.root, 'plain-directory');
    await mkdir(notACheckout);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
  });

  async function withExtraRepos(repos: string[], lines: string[], body: () => Promise<void>): Promise<void> {
    await setEnv([`export AUTODEPLOY_EXTRA_REPOS="${repos.join(' ')}"`, ...lines]);
    try {
      await body();
    } finally {
      await setEnv([]);
    }
  }

  it('ends the check of a hanging remote by its deadline, with an error verdict and an exit code of its own', async () => {
    await withExtraRepos([dead], ['export AUTODEPLOY_GIT_TIMEOUT="3s"'], async () => {
      const started = Date.now();
      const result = await runCli(['deploy', '--env-file', platform.envFile], { ...cliEnv(), AUTODEPLOY_JOB: 'autodeploy', AUTODEPLOY_RUN: 'fault-run' });
      const took = Date.now() - started;
      expect(result.code, result.stdout).toBe(3);
      const events = result.stdout.trimEnd().split('\n').map((line) => parseEventLine(line));
      const judged = events.find((e) => e?.event === 'deploy.checkout-judged' && e.fields['path'] === dead);
      expect(judged?.fields).toMatchObject({ verdict: 'error' });
      expect(String(judged?.fields['reason'])).toMatch(/stopped after 3 ?s/);
      expect(events.find((e) => e?.event === 'deploy.unjudged')?.msg).toMatch(/^not a success: 1 checkout could not be judged/);
      expect(events.at(-1)?.fields).toMatchObject({ exitCode: 3 });
      // The first look and one retry of the fetch, each by its deadline.
      expect(took).toBeLessThan(20_000);
      const last = (await new DeployState(stateDir).history())[0];
      expect(last).toMatchObject({ run: 'fault-run', ok: false, exitCode: 3 });
    });
  });

  it('records a run with a checkout that is not one as failed, with the same exit code', async () => {
    await withExtraRepos([notACheckout, join(platform.root, 'missing')], [], async () => {
      const result = await deploy();
      expect(result.code, result.stdout).toBe(3);
      expect(result.stdout).toMatch(/not a success: 2 checkouts could not be judged/);
      expect(result.stdout).toMatch(/; not judged: .*plain-directory, .*missing$/m);
      const last = (await new DeployState(stateDir).history())[0];
      expect(last).toMatchObject({ outcome: 'nothing', ok: false, exitCode: 3 });

      const status = await runCli(['status', '--env-file', platform.envFile], cliEnv());
      expect(status.stdout).toMatch(/^last deploy run: nothing \(not a success, exit code 3\) at /m);
    });
  });
});

describe('a compose command that hangs', () => {
  it('is stopped with its whole process group at its deadline; the deploy rolls back and frees the lock', async () => {
    const good = await platform.head();
    await setEnv(['export AUTODEPLOY_COMPOSE_TIMEOUT="6s"']);
    // Last in this file: the commit stays upstream, held as a failed deploy.
    await platform.push({ 'hang-on-up': 'compose up hangs in this commit\n' }, 'Hang compose');
    const started = Date.now();
    const result = await deploy();
    const took = Date.now() - started;
    const child = await readPid(join(platform.root, 'hung-child.pid'));
    if (child !== undefined) leftovers.push(child);

    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toMatch(/deploy failed: compose command .* did not finish within 6(\.0)?s and was stopped, with everything it started/);
    expect(result.stdout).toMatch(/rolled back: the platform runs the previous commits again/);
    expect(await platform.head()).toBe(good);
    // The deadline, one verification and a rollback: nowhere near compose's 600 s sleep.
    expect(took).toBeLessThan(60_000);
    expect(child).toBeDefined();
    await eventually('the hung compose child to be gone', () => (isRunning(child!) ? undefined : true), 5_000);
    const lock = await acquireDeployLock({ stateDir, purpose: 'test', isAlive: async () => true });
    expect(lock.acquired).toBe(true);
    if (lock.acquired) await lock.lock.release();
    expect(await new DeployState(stateDir).inProgress()).toBeUndefined();
  });
});
