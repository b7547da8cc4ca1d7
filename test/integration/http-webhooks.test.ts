// Webhooks over real HTTP on 127.0.0.1, matched against real git checkouts of bare upstreams;
// the scheduler behind the port is a stand-in whose runs the test ends at will.
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckoutStatus, DeployStatusSnapshot } from '../../src/core/deploy-snapshot.js';
import { EMPTY_DEPLOY_STATUS } from '../../src/core/deploy-snapshot.js';
import type { RunRequest, RunResult, SchedulerPort, StartAnswer } from '../../src/core/scheduler-port.js';
import { startHttpServer, type HttpServer } from '../../src/http/server.js';
import { cloneCheckout, createBareUpstream, git, makeTempDir, removeTempDir } from '../fixtures/git-repos.js';
import { SECRET, githubHeaders, githubPush, gitlabPush, hmac, memoryLogger, request } from '../helpers/http.js';

interface FakeRun {
  readonly request: RunRequest;
  end(): void;
}

/** A scheduler whose deploy runs last until the test ends them, one at a time like the real one. */
function fakeScheduler(status: () => DeployStatusSnapshot) {
  const runs: FakeRun[] = [];
  let current: Promise<RunResult> | undefined;
  const port: SchedulerPort = {
    deployJob: 'autodeploy',
    notebookJob: 'notebookdeploy',
    jobs: async () => [],
    runs: async () => [],
    runOutput: async () => [],
    start(job, req): StartAnswer {
      if (job !== 'autodeploy') return { kind: 'unknown' };
      if (current !== undefined) return { kind: 'busy', current };
      let end!: () => void;
      const result = new Promise<RunResult>((resolve) => {
        end = () => resolve({ job, run: `r${runs.length}`, outcome: 'succeeded', exitCode: 0, durationMs: 1, message: undefined });
      });
      current = result;
      void result.then(() => {
        current = undefined;
      });
      runs.push({ request: req, end });
      return { kind: 'started', result };
    },
    rollbackNotebooks: () => ({ kind: 'unknown' }),
    deployStatus: status,
    deployHistory: () => [],
  };
  return { port, runs };
}

let dir: string;
let checkout: string;
let server: HttpServer;
let base: string;
let scheduler: ReturnType<typeof fakeScheduler>;
let cached: CheckoutStatus[] = [];
let secret: string | undefined = SECRET;
const logged = memoryLogger();

const ORG = { name: 'Org/Platform', clone: 'https://git.example.org/Org/Platform.git', ssh: 'git@git.example.org:Org/Platform.git' };

beforeAll(async () => {
  dir = await makeTempDir('http-webhooks');
  const bare = await createBareUpstream(dir, 'platform', { 'docker-compose.yml': 'services: {}\n' });
  checkout = await cloneCheckout(bare, path.join(dir, 'checkout'));
  // The checkout's remote in the scp form; the host announces https and ssh:// forms.
  await git(checkout, 'remote', 'set-url', 'origin', 'git@git.example.org:org/platform.git');
  scheduler = fakeScheduler(() => ({ ...EMPTY_DEPLOY_STATUS, checkouts: cached }));
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    scheduler: scheduler.port,
    webhookSecret: () => secret,
    checkouts: () => [checkout],
    tokens: () => undefined,
    mask: () => (text) => text,
    log: logged.log,
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterEach(async () => {
  // A queued run starts when the one before it ends: end runs until none is left going.
  for (let round = 0; round < 10; round += 1) {
    for (const run of scheduler.runs) run.end();
    const idle = await Promise.race([server.webhooks.idle().then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50))]);
    if (idle) break;
  }
  scheduler.runs.length = 0;
  cached = [];
  secret = SECRET;
});

afterAll(async () => {
  await server?.close();
  await removeTempDir(dir);
});

const push = (body: string, headers: Record<string, string>) => request(base, 'POST', '/hooks/github', { headers, body });

describe('signatures', () => {
  it('starts a deploy for a signed push to the tracked branch', async () => {
    const body = githubPush(ORG, 'refs/heads/main');
    const answer = await push(body, githubHeaders(body, { secret: SECRET }));
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: 'started', action: 'deploy', branch: 'main', checkouts: [checkout] });
    expect(scheduler.runs.map((r) => r.request)).toEqual([{ origin: 'webhook', by: 'github' }]);
  });

  it('refuses a wrong, a missing and a malformed signature with 401, and runs nothing', async () => {
    const body = githubPush(ORG, 'refs/heads/main');
    const wrong = await push(body, githubHeaders(body, { secret: 'another-secret-0123456789' }));
    const missing = await push(body, githubHeaders(body));
    const garbage = await push(body, { ...githubHeaders(body), 'x-hub-signature-256': 'sha256=zz' });
    const tampered = await push(body.replace('main', 'mainx'), githubHeaders(body, { secret: SECRET }));
    expect([wrong.status, missing.status, garbage.status, tampered.status]).toEqual([401, 401, 401, 401]);
    expect(missing.body['reason']).toMatch(/no X-Hub-Signature-256/);
    expect(scheduler.runs).toEqual([]);
    // Logged, without the body.
    const lines = logged.lines.join('\n');
    expect(lines).toMatch(/X-Hub-Signature-256 does not match/);
    expect(lines).not.toContain('"pusher"');
  });

  it('refuses every webhook while no secret is set', async () => {
    secret = undefined;
    const body = githubPush(ORG, 'refs/heads/main');
    const answer = await push(body, githubHeaders(body, { secret: SECRET }));
    expect(answer.status).toBe(401);
    expect(answer.body['reason']).toMatch(/AUTODEPLOY_WEBHOOK_SECRET is not set/);
    expect(scheduler.runs).toEqual([]);
  });

  it("checks Gitea's and Forgejo's signature and GitLab's token", async () => {
    const body = githubPush(ORG, 'refs/heads/main', 'c'.repeat(40));
    const gitea = (sig: string, route = 'gitea') => request(base, 'POST', `/hooks/${route}`, { body, headers: { 'content-type': 'application/json', 'x-gitea-event': 'push', 'x-gitea-delivery': `d-${sig.slice(0, 6)}-${route}`, 'x-gitea-signature': sig } });
    expect((await gitea(hmac('not-the-secret-000000', body))).status).toBe(401);
    expect((await gitea(hmac(SECRET, body))).body).toMatchObject({ status: 'started' });
    const forgejo = await request(base, 'POST', '/hooks/forgejo', { body: body.replace('cccc', 'dddd'), headers: { 'content-type': 'application/json', 'x-forgejo-event': 'push', 'x-forgejo-signature': hmac(SECRET, body.replace('cccc', 'dddd')) } });
    expect(forgejo.status).toBe(202);

    const lab = gitlabPush({ name: 'org/platform', http: 'https://git.example.org/org/platform.git', ssh: 'ssh://git@git.example.org:2222/org/platform.git' }, 'refs/heads/main');
    const gitlab = (token: string | undefined) =>
      request(base, 'POST', '/hooks/gitlab', { body: lab, headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', ...(token === undefined ? {} : { 'x-gitlab-token': token }) } });
    expect((await gitlab(undefined)).status).toBe(401);
    expect((await gitlab('wrong-token')).status).toBe(401);
    const ok = await gitlab(SECRET);
    expect(ok.status).toBe(202);
    expect(ok.body['action']).toBe('deploy');
  });

  it('answers a replayed delivery and ignores it, under its id or under a new one', async () => {
    const body = githubPush(ORG, 'refs/heads/main', 'e'.repeat(40));
    const headers = githubHeaders(body, { secret: SECRET, delivery: 'delivery-1' });
    expect((await push(body, headers)).status).toBe(202);
    scheduler.runs[0]?.end();
    await server.webhooks.idle();
    const again = await push(body, headers);
    expect(again.status).toBe(200);
    expect(again.body['status']).toBe('duplicate');
    const newId = await push(body, githubHeaders(body, { secret: SECRET, delivery: 'delivery-2' }));
    expect(newId.body['status']).toBe('duplicate');
    expect(scheduler.runs).toHaveLength(1);
  });

  it('refuses oversized and malformed bodies with 400', async () => {
    const big = JSON.stringify({ ref: 'refs/heads/main', padding: 'x'.repeat(3 * 1024 * 1024) });
    const oversized = await push(big, githubHeaders(big, { secret: SECRET }));
    expect(oversized.status).toBe(400);
    expect(oversized.body['error']).toBe('too-large');
    const notJson = 'payload=%7B%7D';
    const malformed = await push(notJson, githubHeaders(notJson, { secret: SECRET }));
    expect(malformed.status).toBe(400);
    const noRef = JSON.stringify({ repository: { clone_url: ORG.clone } });
    expect((await push(noRef, githubHeaders(noRef, { secret: SECRET }))).status).toBe(400);
    expect(scheduler.runs).toEqual([]);
  });

  it('answers a ping and runs nothing', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const answer = await push(body, githubHeaders(body, { secret: SECRET, event: 'ping' }));
    expect(answer.status).toBe(200);
    expect(answer.body['status']).toBe('ignored');
    expect(scheduler.runs).toEqual([]);
  });
});

describe('matching a push to the checkouts', () => {
  const send = async (repo: typeof ORG, ref: string, after: string) => {
    const body = githubPush(repo, ref, after);
    return push(body, githubHeaders(body, { secret: SECRET }));
  };

  it('takes the https, ssh and scp forms of one repository as one', async () => {
    const forms = [
      { ...ORG, clone: 'https://git.example.org/org/platform', ssh: 'ssh://git@git.example.org/org/platform.git' },
      { ...ORG, clone: 'https://user@git.example.org:443/ORG/platform.git/', ssh: 'git.example.org:org/platform' },
    ];
    for (const [i, form] of forms.entries()) {
      const answer = await send(form, 'refs/heads/main', String(i).repeat(40));
      expect(answer.body['action'], JSON.stringify(form)).toBe('deploy');
      scheduler.runs.at(-1)?.end();
      await server.webhooks.idle();
    }
  });

  it('answers 202 with the reason for another branch, a tag or another repository, and runs nothing', async () => {
    const branch = await send(ORG, 'refs/heads/feature', '1'.repeat(40));
    expect(branch.status).toBe(202);
    expect(branch.body).toMatchObject({ status: 'ignored', action: 'none' });
    expect(branch.body['reason']).toBe('a push to feature; checkouts of Org/Platform track main');
    const tag = await send(ORG, 'refs/tags/v1.0', '2'.repeat(40));
    expect(tag.body['reason']).toMatch(/refs\/tags\/v1.0 is not a branch/);
    const other = await send({ name: 'Org/Other', clone: 'https://git.example.org/org/other.git', ssh: 'git@git.example.org:org/other.git' }, 'refs/heads/main', '3'.repeat(40));
    expect(other.status).toBe(202);
    expect(other.body['reason']).toBe('no checkout tracks Org/Other');
    expect(scheduler.runs).toEqual([]);
  });

  it('matches checkouts it cannot read by what the last check said of them', async () => {
    cached = [{ path: '/srv/private-config', verdict: 'up-to-date', reason: '', branch: 'prod', upstream: 'origin/production', head: undefined, upstreamHead: undefined, ahead: 0, behind: 0, remoteUrl: 'ssh://git@git.example.org:2222/ops/private-config.git', remoteBranch: 'production' }];
    const repo = { name: 'ops/private-config', clone: 'https://git.example.org/ops/private-config.git', ssh: 'git@git.example.org:ops/private-config.git' };
    const answer = await send(repo, 'refs/heads/production', '4'.repeat(40));
    expect(answer.body).toMatchObject({ action: 'deploy', checkouts: ['/srv/private-config'] });
  });
});

describe('a burst of pushes', () => {
  it('gives one run now and at most one more after it', async () => {
    const bodies = Array.from({ length: 6 }, (_, i) => githubPush(ORG, 'refs/heads/main', String(i).padStart(40, 'a')));
    const burst = await Promise.all(bodies.map((body) => push(body, githubHeaders(body, { secret: SECRET }))));
    const statuses = burst.map((a) => a.body['status']).sort();
    expect(statuses).toEqual(['merged', 'merged', 'merged', 'merged', 'queued', 'started']);
    expect(scheduler.runs).toHaveLength(1);
    scheduler.runs[0]?.end();
    await expectEventually(() => scheduler.runs.length === 2);
    // A push during the follow-up run queues exactly one more.
    const late = githubPush(ORG, 'refs/heads/main', 'f'.repeat(40));
    expect((await push(late, githubHeaders(late, { secret: SECRET }))).body['status']).toBe('queued');
    scheduler.runs[1]?.end();
    await expectEventually(() => scheduler.runs.length === 3);
    scheduler.runs[2]?.end();
    await server.webhooks.idle();
    expect(scheduler.runs).toHaveLength(3);
  });
});

async function expectEventually(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
