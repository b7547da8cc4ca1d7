import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitPlatform, HEALTHY_WEB, webCompose, type GitPlatform } from '../fixtures/platform.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULTS_FILE } from '../helpers/scheduler-env.js';

let platform: GitPlatform;

beforeAll(async () => {
  platform = await createGitPlatform({ files: { 'docker-compose.yml': webCompose(HEALTHY_WEB) }, envLines: [] });
});

afterAll(async () => {
  await platform.destroy();
});

const cli = (argv: string[]): ReturnType<typeof runCli> =>
  runCli(argv, { PATH: process.env.PATH, HOME: process.env.HOME, AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE, COMPOSE_DIR: platform.composeDir });

describe('autodeploy status, outside the scheduler container', () => {
  it('reports the platform checkout up to date, then behind once its upstream moves', async () => {
    const before = await cli(['status', '--json', '--env-file', platform.envFile]);
    expect(before.stderr).toBe('');
    const first = JSON.parse(before.stdout) as { checkouts: Array<{ path: string; verdict: string }>; decision: { action: string } };
    expect(first.checkouts).toEqual([expect.objectContaining({ path: platform.composeDir, verdict: 'up-to-date' })]);
    expect(first.decision.action).toBe('nothing');

    await platform.push({ 'README.md': 'moved\n' }, 'Move the upstream');
    const after = await cli(['status', '--env-file', platform.envFile]);
    expect(after.stdout).toMatch(new RegExp(`^behind\\s+${platform.composeDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(main -> origin/main\\) ahead 0 behind 1$`, 'm'));
  });

  it('names the file and line of a bad env.local and exits 2', async () => {
    await platform.writeEnv(['AUTODEPLOY_RESTART=sometimes']);
    const result = await cli(['status', '--env-file', platform.envFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^${platform.envFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: AUTODEPLOY_RESTART="sometimes" must be changed or all$`, 'm'));
    await platform.writeEnv([]);
  });
});
