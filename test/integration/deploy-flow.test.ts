import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutRootOf, readConfig } from '../../src/config/read.js';
import { runDeploy, type DeployInput, type DeployReport } from '../../src/autodeploy/deploy.js';
import type { Config } from '../../src/config/load.js';
import { settingsOf } from '../../src/config/builtin-job.js';
import { autodeployJobKind } from '../../src/autodeploy/job.js';
import { deployEventText } from '../../src/core/deploy-event-text.js';
import { acquireDeployLock } from '../../src/state/lock.js';
import { dockerComposeContainers } from '../../src/docker/compose-project.js';
import { connectDocker } from '../../src/docker/job-containers.js';
import { commitFiles, git } from '../fixtures/git-repos.js';
import { BROKEN_WEB, createGitPlatform, HEALTHY_WEB, run, webCompose, type GitPlatform } from '../fixtures/platform.js';
import { DEFAULTS_FILE } from '../helpers/scheduler-env.js';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';
import { parseEventLine } from '../../src/core/event-line.js';
import { runCli } from '../helpers/cli.js';

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
      settings: { ...result.config.settings, ...settingsOf(result.config, autodeployJobKind) },
      env: result.config.env,
      composeDir: platform.composeDir,
      checkouts: [checkoutRootOf(platform.composeDir)],
      dryRun: false,
      containers: dockerComposeContainers(connectDocker()),
      isLockHolderAlive: async () => true,
      onEvent: (event) => lines.push(deployEventText(event)),
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

  it('prints the same steps as event lines when `autodeploy deploy` runs as the autodeploy job', async () => {
    // As the job's container has it (src/autodeploy/job.ts).
    const env = { PATH: process.env['PATH'], HOME: process.env['HOME'], AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE, COMPOSE_DIR: platform.composeDir };
    const argv = ['deploy', '--dry-run', '--env-file', platform.envFile];
    const prose = await runCli(argv, env);
    const asJob = await runCli(argv, { ...env, AUTODEPLOY_JOB: 'autodeploy', AUTODEPLOY_RUN: 'r1' });
    expect(prose.code, prose.stderr).toBe(0);
    expect(asJob.code, asJob.stderr).toBe(0);

    const events = asJob.stdout.trimEnd().split('\n').map((line) => parseEventLine(line));
    expect(events.map((e) => e?.event)).toEqual(['deploy.started', 'deploy.checkout-judged', 'deploy.decision', 'deploy.finished']);
    expect(events[1]?.fields).toMatchObject({ path: checkoutRootOf(platform.composeDir), verdict: 'up-to-date', ahead: 0, behind: 0, head: await platform.head() });
    expect(events[3]?.fields).toMatchObject({ outcome: 'dry-run', exitCode: 0 });
    // The sentences are the lines a person gets, but for the times in the first and the last.
    const untimed = (line: string): string => line.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'T').replace(/\(\d+\.\ds\)/, '(Ns)');
    expect(events.map((e) => untimed(e?.msg ?? ''))).toEqual(prose.stdout.trimEnd().split('\n').map(untimed));
  });
});
