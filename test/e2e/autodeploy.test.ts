import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKEN_WEB, createGitPlatform, HEALTHY_WEB, requireImages, run, SCHEDULER_IMAGE, webCompose, type GitPlatform } from '../fixtures/platform.js';
import { TEST_IMAGE, eventually } from '../helpers/scheduler-env.js';

// The real image, in a real compose project whose COMPOSE_DIR is a git checkout: the scheduler's
// autodeploy job deploys what is pushed upstream, updates the scheduler itself, and rolls back
// a change that breaks a service.

const NEXT_IMAGE = 'autodeploy-scheduler:e2e-next';



async function inspect(name: string): Promise<{ Id: string; Config: { Image: string; Env: string[] }; State: { StartedAt: string; Status: string; Health?: { Status: string } } }> {
  const result = await run('docker', ['inspect', name]);
  if (result.code !== 0) throw new Error(`docker inspect ${name}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as [never])[0];
}

async function autodeployLog(platform: GitPlatform): Promise<string> {
  return platform.readLog('autodeploy');
}

describe('autodeploy, end to end', () => {
  let platform: GitPlatform;
  let web: string;

  beforeAll(async () => {
    await requireImages([SCHEDULER_IMAGE, TEST_IMAGE], 'run `make image test-images` (make test does)');
    // The "new version" a self-update brings: the same build under another tag.
    await run('docker', ['tag', SCHEDULER_IMAGE, NEXT_IMAGE]);
    platform = await createGitPlatform({
      files: { 'docker-compose.yml': webCompose(HEALTHY_WEB), 'www/index.html': 'v1\n' },
      envLines: [
        'export AUTODEPLOY_PLATFORM_FREQUENCY="@every 4s"',
        'export AUTODEPLOY_NOTEBOOK_FREQUENCY=""',
        'export AUTODEPLOY_VERIFY_TIMEOUT="60s"',
      ],
    });
    web = `${platform.project}_web_1`;
    const up = await platform.compose('up', '-d');
    if (up.code !== 0) throw new Error(`compose up failed: ${up.stderr}`);
    await eventually('web healthy', async () => ((await inspect(web)).State.Health?.Status === 'healthy' ? true : undefined), 60_000);
  });

  afterAll(async () => {
    await platform?.destroy();
    await run('docker', ['rmi', NEXT_IMAGE]);
  });

  it('deploys a pushed change, restarting the service that mounts the changed file', async () => {
    const webBefore = await inspect(web);
    const pushed = await platform.push({ 'www/index.html': 'v2\n' }, 'Publish v2 of the page');

    await eventually('the checkout to reach the pushed commit', async () => ((await platform.head()) === pushed ? true : undefined), 120_000);
    const log = await eventually('the deploy to be logged as done', async () => {
      const text = await autodeployLog(platform);
      return /deploy succeeded/.test(text) ? text : undefined;
    }, 120_000);
    expect(log).toContain(pushed.slice(0, 8));
    expect(log).toContain('Publish v2 of the page');
    expect(log).toMatch(/behind/);

    const webAfter = await inspect(web);
    expect(webAfter.State.StartedAt).not.toBe(webBefore.State.StartedAt);
    expect((await run('docker', ['exec', web, 'cat', '/www/index.html'])).stdout).toBe('v2\n');
  });

  it('updates the scheduler itself when its definition changes, and the new one comes up healthy', async () => {
    const before = await inspect('scheduler');
    const component = await readFile(join(platform.composeDir, 'components/scheduler/docker-compose-extra.yml'), 'utf8');
    const next = component
      .replace(/image: .*/, `image: ${NEXT_IMAGE}`)
      .replace(/(environment:\n)/, '$1      AUTODEPLOY_E2E_REVISION: "2"\n');
    expect(next).not.toBe(component);
    const pushed = await platform.push({ 'components/scheduler/docker-compose-extra.yml': next }, 'Update the scheduler');

    await eventually('the checkout to reach the pushed commit', async () => ((await platform.head()) === pushed ? true : undefined), 120_000);
    const after = await eventually('a new scheduler container, healthy', async () => {
      const current = await inspect('scheduler').catch(() => undefined);
      return current && current.Id !== before.Id && current.State.Health?.Status === 'healthy' ? current : undefined;
    }, 120_000);
    expect(after.Config.Image).toBe(NEXT_IMAGE);
    expect(after.Config.Env).toContain('AUTODEPLOY_E2E_REVISION=2');
    await eventually('the self-update deploy logged as done', async () => {
      const text = await autodeployLog(platform);
      return text.includes(pushed.slice(0, 8)) && /deploy succeeded/.test(text.slice(text.indexOf(pushed.slice(0, 8)))) ? true : undefined;
    }, 120_000);
  });

  it('rolls back a change that breaks a service, leaves the platform as it was, and does not retry it', async () => {
    const good = await platform.head();
    const broken = await platform.push({ 'docker-compose.yml': webCompose(BROKEN_WEB, 'always') }, 'Break the web service');

    const log = await eventually('the rollback to be logged', async () => {
      const text = await autodeployLog(platform);
      return /rolled back/.test(text) ? text : undefined;
    }, 180_000);
    expect(log).toContain(broken.slice(0, 8));
    expect(log).toMatch(/web/);
    expect(await platform.head()).toBe(good);
    await eventually('web healthy again on the old definition', async () => ((await inspect(web)).State.Health?.Status === 'healthy' ? true : undefined), 60_000);

    // The next runs see the same broken commit upstream and hold instead of retrying it.
    await eventually('a later run to hold the failed commit', async () => {
      const text = await autodeployLog(platform);
      return /waiting for a newer commit/.test(text) ? true : undefined;
    }, 60_000);
    expect(await platform.head()).toBe(good);
  });
});
