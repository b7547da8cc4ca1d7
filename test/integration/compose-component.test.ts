// The component on a real birdhouse-deploy checkout: birdhouse's own reader (read_configs)
// reads the component's default.env and env.local, and docker-compose 1.29 reads the fragment
// with the variables it leaves, as birdhouse-compose.sh would have it do.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEnvFile } from '../../src/cli/common.js';
import { COMPONENT_DIR, copyBirdhouse, sh, type BirdhouseCopy } from '../fixtures/birdhouse-copy.js';

/** `docker-compose config` of the fragment, with env.local (written from `lines`) read by birdhouse. */
async function composeConfig(copy: BirdhouseCopy, lines: readonly string[], env: Record<string, string> = {}): Promise<{ text: string; envFile: string }> {
  const envFile = await copy.writeEnvLocal([`export BIRDHOUSE_EXTRA_CONF_DIRS="${COMPONENT_DIR}"`, ...lines]);
  const script = [
    `. "$COMPOSE_DIR/read-configs.include.sh" >&2`,
    'read_configs >&2',
    `exec docker-compose --project-name component -f ${join(COMPONENT_DIR, 'docker-compose-extra.yml')} config`,
  ].join('\n');
  const result = await sh(script, { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/root', COMPOSE_DIR: copy.composeDir, BIRDHOUSE_LOCAL_ENV: envFile, ...env });
  if (result.code !== 0) throw new Error(`compose config failed (${result.code}): ${result.stderr}`);
  return { text: result.stdout, envFile };
}

/** The scheduler's log volume as `docker-compose config` resolves it, with env.local read by birdhouse. */
async function logMount(copy: BirdhouseCopy, lines: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const { text } = await composeConfig(copy, lines, env);
  // docker-compose 1.29 prints a bind mount as "- source:target:mode"
  const mounts = [...text.matchAll(/^\s*- (\/[^:\s]+):([^:\s]+):\w+$/gm)].map((m) => [m[1], m[2]]);
  const log = mounts.find(([source]) => source !== copy.composeDir && !/docker\.sock|\.ssh|^\/dev\/null$/.test(source ?? ''));
  expect(log?.[0], text).toBe(log?.[1]);
  return log?.[0] ?? '';
}

/** The scheduler container's environment, as `docker-compose config` prints it. */
function containerEnv(text: string): Record<string, string> {
  const block = /^ {4}environment:\n((?: {6}\S.*\n)+)/m.exec(text)?.[1] ?? '';
  return Object.fromEntries(
    block
      .trimEnd()
      .split('\n')
      .map((line) => /^ {6}(\w+): (.*)$/.exec(line))
      .filter((m) => m !== null)
      .map((m) => [m[1], (m[2] ?? '').replace(/^'(.*)'$/, '$1')]),
  );
}

describe('the component, read by birdhouse-deploy and docker-compose 1.29', () => {
  let copy: BirdhouseCopy;
  beforeAll(async () => {
    copy = await copyBirdhouse();
  });
  afterAll(async () => {
    await copy.remove();
  });

  it("is the platform's log directory when env.local sets none", async () => {
    expect(await logMount(copy, [])).toBe('/var/log/birdhouse');
  });

  it('follows BIRDHOUSE_LOG_DIR, and the deprecated PAVICS_LOG_DIR that birdhouse maps onto it', async () => {
    expect(await logMount(copy, ['export BIRDHOUSE_LOG_DIR=/srv/logs'])).toBe('/srv/logs');
    expect(await logMount(copy, ['export PAVICS_LOG_DIR=/srv/pavics-logs'])).toBe('/srv/pavics-logs');
  });

  it('is AUTODEPLOY_LOG_DIR, under either spelling, when env.local or the environment sets it', async () => {
    expect(await logMount(copy, ['export BIRDHOUSE_LOG_DIR=/srv/logs', 'export AUTODEPLOY_LOG_DIR=/srv/scheduler'])).toBe('/srv/scheduler');
    expect(await logMount(copy, ['export BIRDHOUSE_AUTODEPLOY_LOG_DIR=/srv/scheduler'])).toBe('/srv/scheduler');
    expect(await logMount(copy, [], { AUTODEPLOY_LOG_DIR: '/from/env' })).toBe('/from/env');
  });

  it("hands the scheduler birdhouse's BIRDHOUSE_LOCAL_ENV, which the scheduler then reads", async () => {
    const { text, envFile } = await composeConfig(copy, []);
    const env = containerEnv(text);
    expect(env).toMatchObject({ COMPOSE_DIR: copy.composeDir, BIRDHOUSE_LOCAL_ENV: envFile, AUTODEPLOY_ENV_FILE: '' });
    // the env.local birdhouse read, not $COMPOSE_DIR/env.local
    expect(resolveEnvFile(undefined, env)).toBe(envFile);
  });
});
