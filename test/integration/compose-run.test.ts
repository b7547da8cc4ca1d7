import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ComposeError,
  ComposeSettingError,
  composeConfig,
  composeContainerIds,
  composeProjectName,
  composeRestart,
  composeRun,
  composeStop,
  composeUp,
  normalizeProjectName,
  resolveComposeCommand,
  type ComposeCommand,
} from '../../src/docker/compose.js';
import { parseComposeConfig, servicesToRestart } from '../../src/core/compose-services.js';
import type { ServiceContainer } from '../../src/core/ports.js';
import { dockerComposeContainers } from '../../src/docker/compose-project.js';
import { connectDocker } from '../../src/docker/job-containers.js';
import { createPlatform, requireImages, run, type Platform } from '../fixtures/platform.js';
import { TEST_IMAGE } from '../helpers/scheduler-env.js';

const docker = connectDocker();
const containers = dockerComposeContainers(docker);

// A service that stops at once on SIGTERM (a shell as PID 1 ignores it otherwise).
const IDLE = `["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"]`;

/** Teardown actions of the current test, run even when it fails. */
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  await requireImages([TEST_IMAGE], 'run scripts/build-test-images.sh');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A platform with the fixture's compose wrapper and only the given services (no scheduler component). */
async function platformWith(services: string): Promise<Platform> {
  const platform = await createPlatform({ services, envLines: ['export EXTRA_CONF_DIRS=""'] });
  cleanups.push(() => rm(platform.root, { recursive: true, force: true }));
  cleanups.push(() => platform.compose('down', '--volumes', '--remove-orphans', '--timeout', '1'));
  return platform;
}

async function scratchDir(name: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'autodeploy-compose-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, name);
  await mkdir(dir);
  return dir;
}

function byService(list: readonly ServiceContainer[]): Map<string, ServiceContainer> {
  return new Map(list.map((c) => [c.service, c]));
}

describe('resolveComposeCommand', () => {
  it('picks the platform wrapper when COMPOSE_DIR has an executable pavics-compose.sh', async () => {
    const platform = await platformWith(`  web:\n    image: ${TEST_IMAGE}\n    command: ${IDLE}\n`);
    const cmd = await resolveComposeCommand({ setting: '', composeDir: platform.composeDir });
    expect(cmd).toEqual({ argv: [join(platform.composeDir, 'pavics-compose.sh')], source: 'pavics-compose.sh' });
  });

  it('prefers the setting, split into words as sh would', async () => {
    const dir = await scratchDir('platform');
    await writeFile(join(dir, 'pavics-compose.sh'), '#!/bin/sh\n', { mode: 0o755 });
    const cmd = await resolveComposeCommand({ setting: `docker compose --project-directory '${dir}'`, composeDir: dir });
    expect(cmd).toEqual({ argv: ['docker', 'compose', '--project-directory', dir], source: 'setting' });
    await expect(resolveComposeCommand({ setting: 'docker "compose', composeDir: dir })).rejects.toThrow(ComposeSettingError);
  });

  it('runs birdhouse-compose.sh with sh when it lost its executable bit, and skips a pavics-compose.sh that is not executable', async () => {
    const dir = await scratchDir('platform');
    await writeFile(join(dir, 'pavics-compose.sh'), '#!/bin/sh\n', { mode: 0o644 });
    await writeFile(join(dir, 'birdhouse-compose.sh'), '#!/bin/sh\necho "birdhouse $*"\n', { mode: 0o644 });
    const cmd = await resolveComposeCommand({ composeDir: dir });
    expect(cmd).toEqual({ argv: ['sh', join(dir, 'birdhouse-compose.sh')], source: 'birdhouse-compose.sh' });
    expect((await composeRun(cmd, ['ps'], { cwd: dir })).stdout).toBe('birdhouse ps\n');

    await chmod(join(dir, 'birdhouse-compose.sh'), 0o755);
    expect(await resolveComposeCommand({ composeDir: dir })).toEqual({ argv: [join(dir, 'birdhouse-compose.sh')], source: 'birdhouse-compose.sh' });
  });

  it('falls back to a compose that works on this host', async () => {
    const dir = await scratchDir('platform');
    const cmd = await resolveComposeCommand({ composeDir: dir });
    expect(['docker compose', 'docker-compose']).toContain(cmd.source);
    const version = await composeRun(cmd, ['version'], { cwd: dir });
    expect(version.stdout).toMatch(/version/i);
  });
});

describe('composeRun', () => {
  it('streams lines as they come, before the command ends', async () => {
    const dir = await scratchDir('platform');
    const seen: { line: string; stream: string; at: number }[] = [];
    const cmd: ComposeCommand = { argv: ['sh', '-c', 'echo first; sleep 1; echo second >&2; printf "no newline"', 'compose'], source: 'setting' };
    const result = await composeRun(cmd, [], { cwd: dir, onLine: (line, stream) => seen.push({ line, stream, at: Date.now() }) });
    const ended = Date.now();
    expect(seen.map(({ line, stream }) => [line, stream])).toEqual([
      ['first', 'stdout'],
      ['second', 'stderr'],
      ['no newline', 'stdout'],
    ]);
    expect(ended - seen[0]!.at).toBeGreaterThanOrEqual(700);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'first\nno newline', stderr: 'second\n' });
  });

  it('throws a ComposeError with the command, exit code and stderr tail on failure', async () => {
    const platform = await platformWith(`  web:\n    image: ${TEST_IMAGE}\n    command: ${IDLE}\n`);
    const cmd = await resolveComposeCommand({ composeDir: platform.composeDir });
    const error = await composeRun(cmd, ['no-such-subcommand'], { cwd: platform.composeDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComposeError);
    const composeError = error as ComposeError;
    expect(composeError.command).toEqual([...cmd.argv, 'no-such-subcommand']);
    expect(composeError.exitCode).not.toBe(0);
    expect(composeError.exitCode).toBeDefined();
    expect(composeError.stderrTail).not.toBe('');
    expect(composeError.message).toContain(`"${cmd.argv[0]} no-such-subcommand"`);
    expect(composeError.message).toMatch(/exited with code \d+: /);
  });

  it('says so when the command cannot be found', async () => {
    const dir = await scratchDir('platform');
    const error = await composeRun({ argv: ['/nonexistent/compose'], source: 'setting' }, ['up'], { cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as ComposeError).message).toMatch(/could not be run \(.*ENOENT/);
    expect((error as ComposeError).cause).toBeDefined();
  });

  it('stops the command and everything it started at the timeout', async () => {
    const dir = await scratchDir('platform');
    // The shell forks `sleep`, which holds the output pipes: only stopping the whole group ends it.
    const cmd: ComposeCommand = { argv: ['sh', '-c', 'echo started; sleep 30; echo never'], source: 'setting' };
    const started = Date.now();
    const error = await composeRun(cmd, [], { cwd: dir, timeoutMs: 500 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as ComposeError).timedOut).toBe(true);
    expect((error as ComposeError).message).toContain('did not finish within 0.5s and was stopped');
  });
});

describe('compose on a real project', () => {
  it('brings the project up, then restarts only the service that mounts a changed file', async () => {
    const platform = await platformWith(
      [
        `  mounts-file:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ${IDLE}`,
        `    volumes:`,
        `      - ./conf/app.conf:/etc/app.conf:ro`,
        `  mounts-dir:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ${IDLE}`,
        `    volumes:`,
        `      - type: bind`,
        `        source: ./conf/site`,
        `        target: /site`,
        `  untouched:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ${IDLE}`,
        ``,
      ].join('\n'),
    );
    const confDir = join(platform.composeDir, 'conf');
    await mkdir(join(confDir, 'site'), { recursive: true });
    await writeFile(join(confDir, 'app.conf'), 'version=1\n');
    await writeFile(join(confDir, 'site', 'index.html'), 'hello\n');

    const cmd = await resolveComposeCommand({ composeDir: platform.composeDir });
    const options = { cwd: platform.composeDir, timeoutMs: 120_000 };
    const lines: string[] = [];
    await composeUp(cmd, { ...options, onLine: (line) => lines.push(line) });
    expect(lines.join('\n')).toMatch(/mounts-file/);

    const before = byService(await containers.list(platform.project));
    expect([...before.keys()].sort()).toEqual(['mounts-dir', 'mounts-file', 'untouched']);
    expect([...before.values()].every((c) => c.status === 'running')).toBe(true);

    // A new file renamed over the old one, as git checks files out: a new inode.
    const changed = join(confDir, 'app.conf');
    await writeFile(`${changed}.new`, 'version=2\n');
    await rename(`${changed}.new`, changed);

    const config = parseComposeConfig(await composeConfig(cmd, options));
    const toRestart = servicesToRestart(config.services, [changed, join(platform.composeDir, 'README.md')]);
    expect(toRestart).toEqual([{ service: 'mounts-file', changed: [changed] }]);

    await composeRestart(
      cmd,
      toRestart.map((s) => s.service),
      { ...options, graceSeconds: 2 },
    );
    const after = byService(await containers.list(platform.project));
    expect(after.get('mounts-file')?.id).toBe(before.get('mounts-file')?.id);
    expect(after.get('mounts-file')?.startedAt).not.toBe(before.get('mounts-file')?.startedAt);
    expect(after.get('mounts-dir')?.startedAt).toBe(before.get('mounts-dir')?.startedAt);
    expect(after.get('untouched')?.startedAt).toBe(before.get('untouched')?.startedAt);

    const seen = await run('docker', ['exec', after.get('mounts-file')!.id, 'cat', '/etc/app.conf']);
    expect(seen.stdout).toBe('version=2\n');
  });

  it('restarts nothing when asked to restart no service', async () => {
    const platform = await platformWith(`  web:\n    image: ${TEST_IMAGE}\n    command: ${IDLE}\n`);
    const cmd = await resolveComposeCommand({ composeDir: platform.composeDir });
    const options = { cwd: platform.composeDir, timeoutMs: 120_000 };
    await composeUp(cmd, options);
    const before = byService(await containers.list(platform.project));
    expect(await composeRestart(cmd, [], options)).toBeUndefined();
    const after = byService(await containers.list(platform.project));
    expect(after.get('web')?.startedAt).toBe(before.get('web')?.startedAt);
  });

  it('stops every service, and up starts them again (AUTODEPLOY_RESTART=all)', async () => {
    const platform = await platformWith(`  a:\n    image: ${TEST_IMAGE}\n    command: ${IDLE}\n  b:\n    image: ${TEST_IMAGE}\n    command: ${IDLE}\n`);
    const cmd = await resolveComposeCommand({ composeDir: platform.composeDir });
    const options = { cwd: platform.composeDir, timeoutMs: 120_000 };
    await composeUp(cmd, options);
    await composeStop(cmd, { ...options, graceSeconds: 2 });
    const stopped = await containers.list(platform.project);
    expect(stopped.map((c) => [c.service, c.status])).toEqual([
      ['a', 'exited'],
      ['b', 'exited'],
    ]);
    await composeUp(cmd, options);
    const running = await containers.list(platform.project);
    expect(running.map((c) => [c.service, c.status])).toEqual([
      ['a', 'running'],
      ['b', 'running'],
    ]);
    expect(running.map((c) => c.id)).toEqual(stopped.map((c) => c.id));
  });
});

describe('composeProjectName', () => {
  it('finds the name a wrapper passes with -p: from the environment before up, from the containers after', async () => {
    const platform = await platformWith(`  web:\n    image: ${TEST_IMAGE}\n    command: ${IDLE}\n`);
    const cmd = await resolveComposeCommand({ composeDir: platform.composeDir });
    const options = { cwd: platform.composeDir, timeoutMs: 120_000 };

    const withEnv = await composeProjectName(cmd, { ...options, env: { ...process.env, COMPOSE_PROJECT_NAME: platform.project }, containers });
    expect(withEnv).toEqual({ name: platform.project, source: 'environment' });

    await composeUp(cmd, options);
    const env = { ...process.env };
    delete env['COMPOSE_PROJECT_NAME'];
    const fromContainers = await composeProjectName(cmd, { ...options, env, containers });
    expect(fromContainers).toEqual({ name: platform.project, source: 'containers' });
    expect(await composeContainerIds(cmd, { ...options, service: 'web' })).toHaveLength(1);
  });

  it('derives the name from the directory exactly as compose does', async () => {
    const dir = await scratchDir(`Platform.Dir_${Math.random().toString(36).slice(2, 7)}`);
    await writeFile(join(dir, 'docker-compose.yml'), `services:\n  web:\n    image: ${TEST_IMAGE}\n    command: ${IDLE}\n`);
    const env = { ...process.env };
    delete env['COMPOSE_PROJECT_NAME'];
    const cmd = await resolveComposeCommand({ composeDir: dir, env });
    const options = { cwd: dir, env, timeoutMs: 120_000 };
    cleanups.push(() => composeRun(cmd, ['down', '--volumes', '--timeout', '1'], options));

    const derived = await composeProjectName(cmd, options);
    await composeUp(cmd, options);
    const [id] = await composeContainerIds(cmd, options);
    const labelled = await containers.projectOf(id!);
    expect(labelled).toBeDefined();
    expect(derived.name).toBe(labelled);
    expect(derived.source).toBe(cmd.source === 'docker compose' ? 'config' : 'directory');
    expect(derived.name).toBe(normalizeProjectName(dir.split('/').at(-1)!));
  });

  it('reads COMPOSE_PROJECT_NAME from the project .env file', async () => {
    const dir = await scratchDir('platform');
    const project = `cptenv${Math.random().toString(36).slice(2, 7)}`;
    await writeFile(join(dir, 'docker-compose.yml'), `services:\n  web:\n    image: ${TEST_IMAGE}\n    command: ${IDLE}\n`);
    await writeFile(join(dir, '.env'), `# compose settings\nCOMPOSE_PROJECT_NAME="${project}"\n`);
    const env = { ...process.env };
    delete env['COMPOSE_PROJECT_NAME'];
    const cmd = await resolveComposeCommand({ composeDir: dir, env });
    const options = { cwd: dir, env, timeoutMs: 120_000 };
    cleanups.push(() => composeRun(cmd, ['down', '--volumes', '--timeout', '1'], options));

    const derived = await composeProjectName(cmd, options);
    expect(derived.name).toBe(project);
    await composeUp(cmd, options);
    const [id] = await composeContainerIds(cmd, options);
    expect(await containers.projectOf(id!)).toBe(project);
  });
});
