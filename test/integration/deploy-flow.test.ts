import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutRootOf, readConfig } from '../../src/config/read.js';
import { runDeploy, type DeployInput, type DeployReport } from '../../src/autodeploy/deploy.js';
import type { Config } from '../../src/config/load.js';
import { acquireDeployLock } from '../../src/state/lock.js';
import { dockerComposeContainers } from '../../src/docker/compose-project.js';
import { connectDocker } from '../../src/docker/job-containers.js';
import { commitFiles, git } from '../fixtures/git-repos.js';
import { BROKEN_WEB, createGitPlatform, HEALTHY_WEB, run, webCompose, type GitPlatform } from '../fixtures/platform.js';
import { DEFAULTS_FILE } from '../helpers/scheduler-env.js';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';

// The deploy flow in this process against a real compose project and real git checkouts:
// the decisions that must hold before anything is changed, and the no-retry rule.


describe('the deploy flow', () => {
  let platform: GitPlatform;
  let stateDir: string;
  const lines: string[] = [];

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'autodeploy-state-'));
    platform = await createGitPlatform({
      files: { 'docker-compose.yml': webCompose(HEALTHY_WEB), 'www/index.html': 'v1\n' },
      // No scheduler service here: this process plays the deploy container.
      envLines: ['export EXTRA_CONF_DIRS=""', `export AUTODEPLOY_STATE_DIR="${stateDir}"`, 'export AUTODEPLOY_VERIFY_TIMEOUT="30s"'],
    });
    const up = await platform.compose('up', '-d');
    if (up.code !== 0) throw new Error(up.stderr);
  });

  afterAll(async () => {
    await platform?.destroy();
  });

  async function deploy(adjust: (config: Config) => Partial<DeployInput> = () => ({})): Promise<DeployReport> {
    const result = await readConfig({ builtins: BUILTIN_JOB_KINDS,  envFile: platform.envFile, defaultsFile: DEFAULTS_FILE, processEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'] } });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    lines.length = 0;
    return runDeploy({
      settings: result.config.settings,
      env: result.config.env,
      composeDir: platform.composeDir,
      checkouts: [checkoutRootOf(platform.composeDir)],
      dryRun: false,
      containers: dockerComposeContainers(connectDocker()),
      isLockHolderAlive: async () => true,
      say: (line) => lines.push(line),
      ...adjust(result.config),
    });
  }

  const webId = async (): Promise<string> => (await run('docker', ['inspect', '-f', '{{.Id}} {{.State.StartedAt}}', `${platform.project}_web_1`])).stdout.trim();

  it('does nothing when nothing is behind', async () => {
    const report = await deploy();
    expect(report.outcome).toBe('nothing');
    expect(report.check?.verdicts.map((v) => v.verdict)).toEqual(['up-to-date']);
  });

  it('aborts before anything changes when the checkout has local changes, and keeps them', async () => {
    const head = await platform.head();
    const web = await webId();
    await platform.push({ 'www/index.html': 'v2\n' }, 'v2');
    await writeFile(join(platform.composeDir, 'www', 'local-note.txt'), 'an operator was here\n');

    const report = await deploy();
    expect(report.outcome).toBe('aborted');
    expect(report.message).toMatch(/local changes/);
    expect(await platform.head()).toBe(head);
    expect(await readFile(join(platform.composeDir, 'www', 'local-note.txt'), 'utf8')).toBe('an operator was here\n');
    expect(await webId()).toBe(web);
    await run('rm', [join(platform.composeDir, 'www', 'local-note.txt')]);
  });

  it('fast-forwards without deploying when the conditional trigger says no', async () => {
    const web = await webId();
    // The trigger is read from the upstream tree: only changes under www/ need a deploy.
    const pushed = await platform.push(
      { 'autodeploy/conditional-trigger': 'echo "$GIT_CHANGED_FILES" | grep -q "www/" || exit 1\n', 'README': 'docs only\n' },
      'Docs, and a trigger',
    );
    // v2 of www/index.html is still among the changes: first deploy that, then test the trigger alone.
    expect((await deploy()).outcome).toBe('deployed');
    expect(await platform.head()).toBe(pushed);

    const docs = await platform.push({ README: 'more docs\n' }, 'More docs');
    const before = await webId();
    const report = await deploy();
    expect(report.outcome).toBe('pulled');
    expect(report.check?.triggers.get(checkoutRootOf(platform.composeDir))).toMatchObject({ present: true, trigger: false });
    expect(await platform.head()).toBe(docs);
    expect(await webId()).toBe(before);
    expect(web).not.toBe(before); // the earlier deploy did restart web for www/index.html
  });

  it('rolls back a breaking change, holds it on the next run, and deploys a newer fix', async () => {
    const good = await platform.head();
    const broken = await platform.push({ 'docker-compose.yml': webCompose(BROKEN_WEB, 'always'), 'www/index.html': 'v3\n' }, 'Break web');

    const failed = await deploy();
    expect(failed.outcome).toBe('rolled-back');
    expect(failed.message).toMatch(/web/);
    expect(failed.rollback?.verify?.ok).toBe(true);
    expect(await platform.head()).toBe(good);

    const held = await deploy();
    expect(held.outcome).toBe('held');
    expect(held.message).toMatch(/waiting for a newer commit/);
    expect(await platform.head()).toBe(good);
    expect(broken).not.toBe(good);

    const fixed = await platform.push({ 'docker-compose.yml': webCompose(HEALTHY_WEB) }, 'Fix web');
    const report = await deploy();
    expect(report.outcome).toBe('deployed');
    expect(await platform.head()).toBe(fixed);
    expect(report.moves[0]?.commits.map((c) => c.subject)).toEqual(['Fix web', 'Break web']);
  });

  it('never touches a divergent checkout', async () => {
    const local = await commitFiles(platform.composeDir, { 'LOCAL': 'a development commit\n' }, 'Local work');
    await platform.push({ 'www/index.html': 'v4\n' }, 'v4');
    const report = await deploy();
    expect(report.outcome).toBe('nothing');
    expect(report.check?.verdicts[0]?.verdict).toBe('divergent');
    expect(await platform.head()).toBe(local);
    await git(platform.composeDir, 'reset', '--hard', 'HEAD~1');
  });

  it('does not deploy while another deploy holds the lock', async () => {
    const held = await acquireDeployLock({ stateDir, purpose: 'test', isAlive: async () => true });
    expect(held.acquired).toBe(true);
    try {
      const report = await deploy();
      expect(report.outcome).toBe('locked');
    } finally {
      if (held.acquired) await held.lock.release();
    }
    expect((await deploy()).outcome).toBe('deployed');
  });

  it('runs compose with composeEnv over its own environment when the configuration gives one, not with every value it read', async () => {
    // What birdhouse's compose wrapper would see: it reads env.local again after the pull, and
    // any variable handed to it would win over what the pull changed.
    const recorded = join(stateDir, 'compose-env');
    const recorder = join(stateDir, 'recording-compose.sh');
    await writeFile(recorder, `#!/bin/sh\nenv > '${recorded}'\nexec '${join(platform.composeDir, 'pavics-compose.sh')}' "$@"\n`, { mode: 0o755 });
    await platform.push({ 'www/index.html': 'v5\n' }, 'v5');
    const report = await deploy((config) => ({
      settings: { ...config.settings, compose: recorder },
      env: { ...config.env, READ_BEFORE_THE_PULL: 'stale' },
      // docker-compose 1.29's `config` does not print the project's name, which the deploy then
      // takes from this environment (compose v2, which birdhouse-deploy 2.x needs, prints it)
      composeEnv: { BIRDHOUSE_LOCAL_ENV: platform.envFile, COMPOSE_PROJECT_NAME: config.env['COMPOSE_PROJECT_NAME'] ?? '' },
    }));
    expect(report.outcome, lines.join('\n')).toBe('deployed');
    const env = await readFile(recorded, 'utf8');
    expect(env).toContain(`\nBIRDHOUSE_LOCAL_ENV=${platform.envFile}\n`);
    expect(env).not.toContain('READ_BEFORE_THE_PULL');
  });
});
