import { access, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeHeartbeat } from '../../src/state/heartbeat.js';
import { makeTempDir, removeTempDir } from '../fixtures/git-repos.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULTS_FILE } from '../helpers/scheduler-env.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir('autodeploy-health');
});

afterEach(async () => {
  await removeTempDir(dir);
});

async function health(env: Record<string, string>): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await runCli(['health'], { PATH: process.env.PATH, AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE, ...env });
  return { code, output: stdout + stderr };
}

function beat(stateDir: string): Promise<void> {
  const now = new Date().toISOString();
  return writeHeartbeat(stateDir, { pid: 1, version: 'test', time: now, startedAt: now, configValid: true, configProblems: [], jobs: 2, running: [] });
}

describe('autodeploy health', () => {
  it('answers from the usual state directory without reading env.local, which may run commands', async () => {
    const usual = join(dir, 'usual');
    const marker = join(dir, 'env.local-was-run');
    const envFile = join(dir, 'env.local');
    await writeFile(envFile, `# autodeploy: eval=sh\ntouch '${marker}'\nexport AUTODEPLOY_STATE_DIR='${usual}'\n`);
    const env = { AUTODEPLOY_ENV_FILE: envFile, AUTODEPLOY_STATE_DIR: usual };

    // No beat yet: env.local is read (run by the shell) to look for another state directory.
    expect(await health(env)).toMatchObject({ code: 1 });
    await access(marker);

    await rm(marker);
    await beat(usual);
    expect(await health(env)).toEqual({ code: 0, output: expect.stringMatching(/^ok: 2 jobs scheduled/) });
    await expect(access(marker)).rejects.toThrow();
  });

  it('follows AUTODEPLOY_STATE_DIR set in env.local when the usual directory has no beat', async () => {
    const named = join(dir, 'named-in-env-local');
    const envFile = join(dir, 'env.local');
    await writeFile(envFile, `export AUTODEPLOY_STATE_DIR="${named}"\n`);
    const env = { AUTODEPLOY_ENV_FILE: envFile, AUTODEPLOY_STATE_DIR: join(dir, 'usual') };

    expect(await health(env)).toMatchObject({ code: 1, output: expect.stringMatching(/no heartbeat/) });
    await beat(named);
    expect(await health(env)).toMatchObject({ code: 0, output: expect.stringMatching(/^ok: 2 jobs scheduled/) });
  });
});
