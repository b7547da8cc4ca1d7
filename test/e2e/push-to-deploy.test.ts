import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitPlatform, HEALTHY_WEB, requireImages, run, SCHEDULER_IMAGE, webCompose, type GitPlatform } from '../fixtures/platform.js';
import { githubHeaders, githubPush, request, SECRET } from '../helpers/http.js';
import { TEST_IMAGE, eventually } from '../helpers/scheduler-env.js';

// The real image in a real compose project: a push to the platform's bare upstream, announced
// by a signed GitHub-style webhook to the scheduler's HTTP server on the project's network, is
// deployed and verified at once, with no schedule due.

const TOKEN = 'e2e-read-token-0123456789abcdef';

async function schedulerAddress(): Promise<string> {
  const result = await run('docker', ['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', 'scheduler']);
  const ip = result.stdout.trim().split(/\s+/)[0];
  if (result.code !== 0 || ip === undefined || ip === '') throw new Error(`no address of the scheduler container: ${result.stderr}`);
  return `http://${ip}:8090`;
}

describe('push to deploy, end to end', () => {
  let platform: GitPlatform;
  let base: string;

  beforeAll(async () => {
    await requireImages([SCHEDULER_IMAGE, TEST_IMAGE], 'run `make image test-images` (make test does)');
    platform = await createGitPlatform({
      files: { 'docker-compose.yml': webCompose(HEALTHY_WEB), 'www/index.html': 'v1\n' },
      envLines: [],
    });
    // The token file lives in the log directory: mounted into the scheduler, and outside the checkout.
    const tokens = join(platform.logDir, 'api-tokens');
    await writeFile(tokens, `e2e read ${TOKEN}\n`);
    await platform.writeEnv([
      // No schedule would deploy within the test: only the webhook can.
      'export AUTODEPLOY_PLATFORM_FREQUENCY="@yearly"',
      'export AUTODEPLOY_NOTEBOOK_FREQUENCY=""',
      'export AUTODEPLOY_VERIFY_TIMEOUT="60s"',
      `export AUTODEPLOY_WEBHOOK_SECRET="${SECRET}"`,
      `export AUTODEPLOY_API_TOKENS_FILE="${tokens}"`,
    ]);
    const up = await platform.compose('up', '-d');
    if (up.code !== 0) throw new Error(`compose up failed: ${up.stderr}`);
    base = await eventually('the scheduler to answer on the project network', async () => {
      const address = await schedulerAddress();
      return (await request(address, 'GET', '/healthz').catch(() => undefined))?.status === 200 ? address : undefined;
    }, 60_000);
  });

  afterAll(async () => {
    if (process.env['E2E_KEEP_LOGS'] !== undefined) for (const name of ['scheduler', 'autodeploy']) process.stdout.write(`--- ${name}.log\n${await platform.readLog(name)}\n`);
    await platform?.destroy();
  });

  it('deploys a push announced by a signed webhook, and tells it through the API', async () => {
    const pushed = await platform.push({ 'www/index.html': 'v2\n' }, 'Publish v2 by push');
    const repo = { name: 'org/platform', clone: `file://${platform.upstream}`, ssh: platform.upstream };
    const body = githubPush(repo, 'refs/heads/main', pushed);

    const unsigned = await request(base, 'POST', '/hooks/github', { headers: githubHeaders(body), body });
    expect(unsigned.status).toBe(401);
    const other = githubPush(repo, 'refs/heads/feature', pushed);
    const otherBranch = await request(base, 'POST', '/hooks/github', { headers: githubHeaders(other, { secret: SECRET }), body: other });
    expect(otherBranch.status).toBe(202);
    expect(otherBranch.body['action']).toBe('none');

    const answer = await request(base, 'POST', '/hooks/github', { headers: githubHeaders(body, { secret: SECRET }), body });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: 'started', action: 'deploy', checkouts: [platform.composeDir] });

    await eventually('the checkout to reach the pushed commit', async () => ((await platform.head()) === pushed ? true : undefined), 120_000);
    const log = await eventually('the deploy to be logged as done', async () => {
      const text = await platform.readLog('autodeploy');
      return /deploy succeeded/.test(text) ? text : undefined;
    }, 120_000);
    expect(log).toContain('origin=webhook');
    expect(log).toContain('by=github');
    expect(log).toContain('Publish v2 by push');
    expect((await run('docker', ['exec', `${platform.project}_web_1`, 'cat', '/www/index.html'])).stdout).toBe('v2\n');

    // The daemon read the run's events: verdicts and the deploy are in the API's answers.
    const deploys = await eventually('the deploy in the history', async () => {
      const a = await request(base, 'GET', '/api/v1/deploys', { headers: { authorization: `Bearer ${TOKEN}` } });
      const list = a.body['deploys'] as { outcome: string }[] | undefined;
      return list !== undefined && list.length > 0 ? list : undefined;
    }, 30_000);
    expect(deploys[0]).toMatchObject({ outcome: 'deployed' });
    const status = await request(base, 'GET', '/api/v1/status', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(status.body['checkouts']).toEqual([expect.objectContaining({ path: platform.composeDir, remoteBranch: 'main' })]);
  }, 300_000);
});
