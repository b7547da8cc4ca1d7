// From a push to the start of the deploy that takes it: announced by a signed webhook, against
// found by the autodeploy job's own schedule (@every 1m), on one platform in one run; and how
// fast the API answers a status read of the 20 checkouts that platform tracks.

import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createGitPlatform, HEALTHY_WEB, requireImages, run, SCHEDULER_IMAGE, webCompose, type GitPlatform } from '../test/fixtures/platform.js';
import { cloneCheckout, createBareUpstream } from '../test/fixtures/git-repos.js';
import { githubHeaders, githubPush, request, SECRET } from '../test/helpers/http.js';
import { pollUntil, settle } from './processes.js';
import type { BenchContext, ResultRow, Section, SectionResult } from './section.js';
import { median, ms, percentile } from './stats.js';

const CHECKOUTS = 20;
const WEBHOOK_SAMPLES = 5;
/** Each polled sample waits up to a minute: fewer of them. */
const POLLING_SAMPLES = 2;
const STATUS_READS = 500;
const TARGET_MS = 2_000;
const TARGET_P99_MS = 50;
const TOKEN = 'bench-read-token-0123456789abcdef';

async function inspectRun(): Promise<{ startedAt: number; running: boolean } | undefined> {
  const result = await run('docker', ['inspect', '--format', '{{.State.StartedAt}} {{.State.Running}}', 'autodeploy']);
  if (result.code !== 0) return undefined;
  const [started, running] = result.stdout.trim().split(' ');
  const at = Date.parse(started ?? '');
  return Number.isFinite(at) && at > 0 ? { startedAt: at, running: running === 'true' } : undefined;
}

/** The StartedAt of the first autodeploy container started at or after `since`. */
function runStartedAfter(since: number, timeoutMs: number): Promise<number> {
  return pollUntil('an autodeploy run to start', async () => {
    const seen = await inspectRun();
    return seen !== undefined && seen.startedAt >= since - 5 ? seen.startedAt : undefined;
  }, timeoutMs, 20);
}

async function deployed(platform: GitPlatform, commit: string, timeoutMs: number): Promise<void> {
  try {
    await pollUntil(`the checkout to reach ${commit.slice(0, 8)}`, async () => ((await platform.head()) === commit ? true : undefined), timeoutMs, 100);
  } catch (error) {
    const tail = (await platform.readLog('autodeploy')).trim().split('\n').slice(-6).join('\n');
    throw new Error(`${(error as Error).message}; the end of autodeploy.log:\n${tail}`, { cause: error });
  }
  // The next sample starts once this run's container is gone.
  await pollUntil('the autodeploy run to end', async () => ((await inspectRun()) === undefined ? true : undefined), timeoutMs, 100);
}

async function schedulerBase(): Promise<string> {
  return pollUntil('the scheduler to answer on the project network', async () => {
    const result = await run('docker', ['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', 'scheduler']);
    const ip = result.stdout.trim().split(/\s+/)[0];
    if (ip === undefined || ip === '') return undefined;
    const base = `http://${ip}:8090`;
    return (await request(base, 'GET', '/healthz').catch(() => undefined))?.status === 200 ? base : undefined;
  }, 90_000, 200);
}

export const pushToDeploySection: Section = {
  name: 'Push to deploy started: webhook against polling',
  async run(context: BenchContext): Promise<SectionResult> {
    await requireImages([SCHEDULER_IMAGE, context.testImage], 'run `make image test-images`');
    const platform = await createGitPlatform({ files: { 'docker-compose.yml': webCompose(HEALTHY_WEB), 'www/index.html': 'v1\n' }, envLines: [] });
    const undo = context.cleanups.add(() => platform.destroy());
    try {
      // 19 more checkouts, each of its own upstream, beside the platform's: 20 verdicts per check.
      const upstreams = dirname(platform.upstream);
      const extras: string[] = [];
      for (let i = 1; i < CHECKOUTS; i += 1) {
        const bare = await createBareUpstream(upstreams, `extra${i}`, { README: `extra ${i}\n` });
        extras.push(await cloneCheckout(bare, join(platform.root, `extra${i}`)));
      }
      const tokens = join(platform.logDir, 'api-tokens');
      await writeFile(tokens, `bench read ${TOKEN}\n`);
      const env = (frequency: string): string[] => [
        `export AUTODEPLOY_PLATFORM_FREQUENCY="${frequency}"`,
        'export AUTODEPLOY_NOTEBOOK_FREQUENCY=""',
        'export AUTODEPLOY_VERIFY_TIMEOUT="60s"',
        `export AUTODEPLOY_EXTRA_REPOS="${extras.join(' ')}"`,
        `export AUTODEPLOY_WEBHOOK_SECRET="${SECRET}"`,
        `export AUTODEPLOY_API_TOKENS_FILE="${tokens}"`,
      ];
      await platform.writeEnv(env('@yearly'));
      const up = await platform.compose('up', '-d');
      if (up.code !== 0) throw new Error(`compose up failed: ${up.stderr}`);
      const base = await schedulerBase();
      const repo = { name: 'bench/platform', clone: `file://${platform.upstream}`, ssh: platform.upstream };

      const announce = async (commit: string): Promise<number> => {
        const body = githubPush(repo, 'refs/heads/main', commit);
        const sent = Date.now();
        const answer = await request(base, 'POST', '/hooks/github', { headers: githubHeaders(body, { secret: SECRET, delivery: randomUUID() }), body });
        if (answer.status !== 202 || answer.body['action'] !== 'deploy') throw new Error(`the webhook was answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        return sent;
      };

      // A first deploy warms the engine's caches and trusts the hosts; not counted.
      const warm = await platform.push({ 'notes/warm.txt': 'warm\n' }, 'Warm up');
      await announce(warm);
      await deployed(platform, warm, 180_000);

      const webhook: number[] = [];
      for (let i = 0; i < WEBHOOK_SAMPLES; i += 1) {
        context.signal.throwIfAborted();
        const commit = await platform.push({ [`notes/webhook-${i}.txt`]: `${i}\n` }, `Webhook sample ${i}`);
        const sent = await announce(commit);
        webhook.push((await runStartedAfter(sent, 30_000)) - sent);
        await deployed(platform, commit, 180_000);
      }

      const reads: number[] = [];
      for (let i = 0; i < STATUS_READS; i += 1) {
        const answer = await request(base, 'GET', '/api/v1/status', { headers: { authorization: `Bearer ${TOKEN}` } });
        if (answer.status !== 200) throw new Error(`status read answered ${answer.status}`);
        const held = (answer.body['checkouts'] as unknown[]).length;
        if (held !== CHECKOUTS) throw new Error(`the status holds ${held} checkouts, not ${CHECKOUTS}`);
        reads.push(answer.ms);
      }

      // The same change, found by the schedule alone: a merge lands at any moment of the minute.
      await platform.writeEnv(env('@every 1m'));
      const polling: number[] = [];
      for (let i = 0; i < POLLING_SAMPLES; i += 1) {
        context.signal.throwIfAborted();
        await settle(Math.floor(Math.random() * 60_000));
        const commit = await platform.push({ [`notes/polling-${i}.txt`]: `${i}\n` }, `Polling sample ${i}`);
        const pushed = Date.now();
        polling.push((await runStartedAfter(pushed, 90_000)) - pushed);
        await deployed(platform, commit, 180_000);
      }

      const webhookMedian = median(webhook);
      const p99 = percentile(reads, 99);
      const rows: ResultRow[] = [
        {
          metric: 'push to deploy started, webhook (median)',
          measured: ms(webhookMedian),
          baseline: `${ms(median(polling))} polling @every 1m`,
          target: `< ${TARGET_MS / 1000} s`,
          verdict: webhookMedian < TARGET_MS ? 'PASS' : 'MISS',
        },
        { metric: 'push to deploy started, webhook (max)', measured: ms(Math.max(...webhook)), baseline: `${ms(Math.max(...polling))} polling (max)`, target: '', verdict: 'info' },
        {
          metric: `API status read, ${CHECKOUTS} checkouts (p99)`,
          measured: ms(p99),
          baseline: `${ms(median(reads))} median`,
          target: `< ${TARGET_P99_MS} ms`,
          verdict: p99 < TARGET_P99_MS ? 'PASS' : 'MISS',
        },
      ];
      return {
        rows,
        notes: [
          `one platform (the real image in a compose project, ${CHECKOUTS} checkouts of bare upstreams); each sample pushes a commit to the platform's upstream.`,
          `webhook: ${WEBHOOK_SAMPLES} samples, from sending a signed GitHub push webhook to the autodeploy container's StartedAt (docker inspect); AUTODEPLOY_PLATFORM_FREQUENCY=@yearly.`,
          `polling: ${POLLING_SAMPLES} samples only (each waits up to a minute); AUTODEPLOY_PLATFORM_FREQUENCY=@every 1m, each push at a random moment of the minute; expected wait about 30 s.`,
          `status: ${STATUS_READS} sequential GET /api/v1/status with a read token, from the host to the scheduler's address on the project network.`,
        ],
      };
    } finally {
      await undo();
    }
  },
};
