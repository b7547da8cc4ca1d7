// The API and notifications of a real daemon, over real HTTP on 127.0.0.1, its jobs run by a
// real Docker engine; notifications go to receivers the test runs on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonServices } from '../../src/cli/daemon-services.js';
import { LABEL_JOB } from '../../src/core/job.js';
import { connectDocker, dockerJobContainers } from '../../src/docker/job-containers.js';
import { Daemon } from '../../src/scheduler/daemon.js';
import { RunHistory } from '../../src/state/run-history.js';
import { request } from '../helpers/http.js';
import { TEST_IMAGE, eventually, makeScratch, nativeJob, nextRun, daemonBase, type Scratch } from '../helpers/scheduler-env.js';

const docker = connectDocker();
const containers = dockerJobContainers(docker);
const cleanups: (() => Promise<void>)[] = [];

const READ_TOKEN = 'read-token-0123456789abcdef';
const RUN_TOKEN = 'run-token-0123456789abcdef0';

beforeAll(async () => {
  await docker.getImage(TEST_IMAGE).inspect().catch(() => {
    throw new Error(`test image ${TEST_IMAGE} is missing: run scripts/build-test-images.sh`);
  });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  const left = await docker.listContainers({ all: true, filters: { label: [LABEL_JOB] } });
  await Promise.all(left.filter((c) => c.Names.some((n) => n.includes('_h'))).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
});

async function start(scratch: Scratch, options: { notify?: { attempts?: number; backoffMs?: number; timeoutMs?: number } } = {}) {
  const services = new DaemonServices({ http: { host: '127.0.0.1', port: 0 }, ...(options.notify === undefined ? {} : { notify: options.notify }) });
  const daemon = await Daemon.start({
    ...daemonBase(scratch),
    containers,
    heartbeatMs: 500,
    onOutput: (run, line) => services.onOutput(run, line),
  });
  await services.attach(daemon);
  cleanups.push(async () => {
    await services.stop();
    await daemon.stop();
  });
  return { daemon, services, base: `http://127.0.0.1:${services.port ?? 0}` };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('the API of a running scheduler', () => {
  it('lets a read token read and a run token run; refuses unknown tokens; runs carry the token name', async () => {
    const scratch = await makeScratch();
    const job = scratch.name('hello_h');
    const tokens = join(scratch.dir, 'tokens');
    await writeFile(tokens, `# name scope token\nviewer read ${READ_TOKEN}\nci run ${RUN_TOKEN}\n`);
    await scratch.writeEnv([`AUTODEPLOY_API_TOKENS_FILE=${tokens}`, 'AUTODEPLOY_PLATFORM_FREQUENCY=', ...nativeJob(job, { SCHEDULE: '@yearly', IMAGE: TEST_IMAGE, COMMAND: 'sh -c "echo hello from the api run"' })]);
    const { daemon, base } = await start(scratch);

    expect((await request(base, 'GET', '/api/v1/jobs')).status).toBe(401);
    expect((await request(base, 'GET', '/api/v1/jobs', { headers: bearer('not-a-token-of-this-file') })).status).toBe(401);
    const jobs = await request(base, 'GET', '/api/v1/jobs', { headers: bearer(READ_TOKEN) });
    expect(jobs.status).toBe(200);
    expect((jobs.body['jobs'] as { name: string; schedule: string }[]).find((j) => j.name === job)).toMatchObject({ schedule: '@yearly', enabled: true, running: false });

    const forbidden = await request(base, 'POST', `/api/v1/jobs/${job}/run`, { headers: bearer(READ_TOKEN) });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body['reason']).toBe('token viewer has scope read; this needs run');
    expect((await request(base, 'POST', '/api/v1/jobs/no-such-job/run', { headers: bearer(RUN_TOKEN) })).status).toBe(404);

    const ended = nextRun(daemon, job, 30_000);
    const started = await request(base, 'POST', `/api/v1/jobs/${job}/run`, { headers: bearer(RUN_TOKEN) });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'started', job, by: 'ci' });
    const report = await ended;
    expect(report.outcome).toBe('succeeded');

    const history = await new RunHistory(scratch.stateDir).runs(job);
    expect(history[0]).toMatchObject({ run: report.run, origin: 'api', by: 'ci', outcome: 'succeeded' });
    const runs = await request(base, 'GET', `/api/v1/jobs/${job}/runs`, { headers: bearer(READ_TOKEN) });
    expect((runs.body['runs'] as { run: string }[])[0]?.run).toBe(report.run);
    const one = await request(base, 'GET', `/api/v1/jobs/${job}/runs/${report.run}`, { headers: bearer(READ_TOKEN) });
    expect(one.status).toBe(200);
    expect((one.body['output'] as { text: string; stream?: string }[]).filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['hello from the api run']);

    // The token's name is logged, the token never.
    const logs = [await readFile(join(scratch.logDir, 'scheduler.log'), 'utf8'), await readFile(join(scratch.logDir, `${job}.log`), 'utf8')].join('\n');
    expect(logs).toMatch(/by=ci|"by":"ci"/);
    expect(logs).not.toContain(RUN_TOKEN);
    expect(logs).not.toContain(READ_TOKEN);
  });

  it('re-reads the token file when it changes, and keeps the last good tokens when it is invalid', async () => {
    const scratch = await makeScratch();
    const tokens = join(scratch.dir, 'tokens');
    await writeFile(tokens, `viewer read ${READ_TOKEN}\n`);
    await scratch.writeEnv([`AUTODEPLOY_API_TOKENS_FILE=${tokens}`, 'AUTODEPLOY_PLATFORM_FREQUENCY=']);
    const { base } = await start(scratch);
    const status = (token: string) => request(base, 'GET', '/api/v1/deploys', { headers: bearer(token) }).then((a) => a.status);
    expect(await status(READ_TOKEN)).toBe(200);
    expect(await status(RUN_TOKEN)).toBe(401);

    await writeFile(tokens, `ci run ${RUN_TOKEN}\n`);
    await eventually('the new token to be accepted', async () => ((await status(RUN_TOKEN)) === 200 ? true : undefined), 15_000);
    expect(await status(READ_TOKEN)).toBe(401);

    // A broken file changes nothing, and its problem is logged without the token.
    await writeFile(tokens, `ci run ${RUN_TOKEN}\nbroken write short\n`);
    await eventually('the problem to be logged', async () => ((await readFile(join(scratch.logDir, 'scheduler.log'), 'utf8')).includes('must be read or run; the API keeps the tokens it had') ? true : undefined), 15_000);
    expect(await status(RUN_TOKEN)).toBe(200);
    expect(await readFile(join(scratch.logDir, 'scheduler.log'), 'utf8')).not.toContain(RUN_TOKEN);
  });

  it('answers a status read of 20 checkouts from memory, p99 under 50 ms', async () => {
    const scratch = await makeScratch();
    const tokens = join(scratch.dir, 'tokens');
    await writeFile(tokens, `viewer read ${READ_TOKEN}\n`);
    await scratch.writeEnv([`AUTODEPLOY_API_TOKENS_FILE=${tokens}`, 'AUTODEPLOY_PLATFORM_FREQUENCY=']);
    const { services, base } = await start(scratch);
    feedCheck(services, 'run1', 20);

    const times: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      const answer = await request(base, 'GET', '/api/v1/status', { headers: bearer(READ_TOKEN) });
      expect(answer.status).toBe(200);
      times.push(answer.ms);
    }
    const answer = await request(base, 'GET', '/api/v1/status', { headers: bearer(READ_TOKEN) });
    expect(answer.body['checkouts']).toHaveLength(20);
    expect(answer.body['decision']).toMatchObject({ action: 'deploy' });
    expect(answer.body['freshness']).toMatch(/as checked by autodeploy run run1 \d+ s ago/);
    times.sort((a, b) => a - b);
    expect(times[Math.ceil(times.length * 0.99) - 1]).toBeLessThan(50);
    // Known after a restart too.
    const saved = JSON.parse(await readFile(join(scratch.stateDir, 'deploy', 'status.json'), 'utf8')) as { checkouts: unknown[] };
    expect(saved.checkouts).toHaveLength(20);
  });
});

/** The event lines an autodeploy run writes for its check, fed as the daemon feeds its output. */
function feedCheck(services: DaemonServices, run: string, count: number): void {
  const line = (event: Record<string, unknown>) => services.onOutput({ job: 'autodeploy', run }, { stream: 'stdout', text: JSON.stringify({ ...event, eventVersion: 1 }) });
  line({ event: 'deploy.started', dryRun: false, at: new Date().toISOString(), checkouts: [], msg: 'deploy started' });
  for (let i = 0; i < count; i += 1) {
    line({ event: 'deploy.checkout-judged', path: `/srv/checkout-${i}`, verdict: i === 0 ? 'behind' : 'up-to-date', reason: 'r', branch: 'main', upstream: 'origin/main', ahead: 0, behind: i === 0 ? 1 : 0, key: { reason: 'none' }, remoteUrl: `git@git.example.org:org/repo-${i}.git`, remoteBranch: 'main', msg: `checkout ${i}` });
  }
  line({ event: 'deploy.decision', action: 'deploy', reason: '/srv/checkout-0 is behind', deploy: ['/srv/checkout-0'], pullOnly: [], msg: 'deploy' });
}

interface Receiver {
  readonly url: string;
  readonly bodies: string[];
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1: answers 503 to the first `failures` requests, then 200; or never, when hanging. */
async function receiver(options: { failures?: number; hang?: boolean }): Promise<Receiver> {
  const bodies: string[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      bodies.push(body);
      if (options.hang) return void hanging.push(res);
      res.statusCode = bodies.length <= (options.failures ?? 0) ? 503 : 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks/secret-path-of-the-receiver`,
    bodies,
    close: () => new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('notifications', () => {
  it('retries a failing receiver with backoff until it answers, masks secrets, never logs the URL', async () => {
    const target = await receiver({ failures: 2 });
    cleanups.push(() => target.close());
    const scratch = await makeScratch();
    const job = scratch.name('broken_h');
    await scratch.writeEnv([
      `AUTODEPLOY_NOTIFY_URLS=${target.url}`,
      'AUTODEPLOY_PLATFORM_FREQUENCY=',
      'DB_PASSWORD=hunter2-the-password',
      ...nativeJob(job, { SCHEDULE: '@yearly', IMAGE: TEST_IMAGE, COMMAND: 'sh -c "exit 3"' }),
    ]);
    const { daemon, services } = await start(scratch, { notify: { backoffMs: 100, attempts: 4 } });
    const report = await daemon.trigger(job);
    expect(report?.outcome).toBe('failed');
    services.onOutput({ job: 'autodeploy', run: 'd1' }, { stream: 'stdout', text: JSON.stringify({ event: 'deploy.finished', eventVersion: 1, outcome: 'rolled-back', message: 'rolled back: web is unhealthy (password hunter2-the-password)', endedAt: new Date().toISOString(), durationMs: 10, exitCode: 1, msg: 'deploy rolled back' }) });
    await services.notified();

    // Two notifications, each tried until the receiver answered: 2 failures, then 2 successes.
    expect(target.bodies).toHaveLength(4);
    const texts = target.bodies.map((b) => (JSON.parse(b) as { text: string }).text);
    expect(new Set(texts).size).toBe(2);
    expect(texts.some((t) => t.includes(`job ${job} failed: exit code 3`))).toBe(true);
    const rolledBack = texts.find((t) => t.includes('deploy failed and was rolled back'));
    expect(rolledBack).toContain('password ***');
    expect(target.bodies.join('\n')).not.toContain('hunter2');
    const log = await readFile(join(scratch.logDir, 'scheduler.log'), 'utf8');
    expect(log).toMatch(/failed: HTTP 503; retrying in 100 ms/);
    expect(log).not.toContain('secret-path-of-the-receiver');
  });

  it('never delays a deploy or a job while a receiver hangs', async () => {
    const target = await receiver({ hang: true });
    cleanups.push(() => target.close());
    const scratch = await makeScratch();
    const job = scratch.name('quick_h');
    await scratch.writeEnv([`AUTODEPLOY_NOTIFY_URLS=${target.url}`, 'AUTODEPLOY_PLATFORM_FREQUENCY=', ...nativeJob(job, { SCHEDULE: '@yearly', IMAGE: TEST_IMAGE, COMMAND: 'sh -c "exit 1"' })]);
    const { daemon, services } = await start(scratch, { notify: { timeoutMs: 60_000, attempts: 1 } });

    const first = await daemon.trigger(job);
    expect(first?.outcome).toBe('failed');
    await eventually('the receiver to hold a request', () => (target.bodies.length > 0 ? true : undefined));
    // The deploy's end is read while the receiver holds the first notification.
    const before = performance.now();
    services.onOutput({ job: 'autodeploy', run: 'd2' }, { stream: 'stdout', text: JSON.stringify({ event: 'deploy.finished', eventVersion: 1, outcome: 'failed', message: 'failed', endedAt: new Date().toISOString(), durationMs: 10, exitCode: 1, msg: 'deploy failed' }) });
    expect(performance.now() - before).toBeLessThan(20);
    // The next run is not held up either.
    const second = await daemon.trigger(job);
    expect(second?.outcome).toBe('failed');
    expect(second?.durationMs ?? Infinity).toBeLessThan(first!.durationMs + 5_000);
  });
});
