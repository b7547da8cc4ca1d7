// The status page of a real scheduler in a real headless Chromium (Debian's, driven by
// puppeteer-core, which never downloads a browser): the jobs, a failed run, a rollback and a
// live run's output, with no console error, masked and escaped. Screenshots at desktop and
// phone widths go to test-results/.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/scheduler/run-job.js';
import { READ_TOKEN, startObservedScheduler, type ObservedScheduler } from '../helpers/observed-scheduler.js';
import { REPO_ROOT, eventually, nextRun } from '../helpers/scheduler-env.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, 'test-results');
const SECRET = 'hunter2-secret-value-of-the-test';
const COMMIT_A = '9bc0ce3e0b8f64a0c1d2e3f4a5b6c7d8e9f0a1b2';
const COMMIT_B = '4632f0a6aa11bb22cc33dd44ee55ff6677889900';

let s: ObservedScheduler;
let browser: Browser | undefined;
const problems: string[] = [];

async function runOnce(job: string): Promise<RunReport> {
  const end = nextRun(s.daemon, job);
  s.daemon.trigger(job);
  const report = await end;
  await eventually(`${job} to be let go`, () => (s.daemon.running(job) ? undefined : true));
  return report;
}

async function newPage(width: number, height: number, mobile = false): Promise<Page> {
  if (browser === undefined) throw new Error('no browser');
  const page = await browser.newPage();
  await page.setViewport({ width, height, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: 1 });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  return page;
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  s = await startObservedScheduler({
    jobs:
      `- name: backup\n  comment: nightly database dump\n  schedule: "17 3 * * *"\n  command: sh -c 'echo dumped 42 tables'\n` +
      `- name: heartbeat\n  schedule: "@every 1h"\n  command: sh -c 'echo platform alive'\n` +
      `- name: cleanup\n  comment: prune old thumbnails\n  schedule: "@daily"\n  command: sh -c 'echo "<script>alert(1)</script> password ${SECRET}"; echo disk full >&2; exit 2'\n` +
      `- name: reindex\n  schedule: "@yearly"\n  command: sh -c 'echo first line; sleep 4; echo second line'\n`,
    env: [`export DATABASE_PASSWORD='${SECRET}'`],
  });
  for (let i = 0; i < 3; i++) await runOnce('heartbeat');
  await runOnce('backup');
  await runOnce('cleanup');
  await runOnce('heartbeat');
  await runOnce('cleanup');
  const now = Date.now();
  s.deployEvents('mwr9deploy01', [
    { type: 'started', dryRun: false, at: new Date(now - 3_600_000).toISOString(), checkouts: ['/srv/birdhouse-deploy'] },
    { type: 'checkout-judged', path: '/srv/birdhouse-deploy', verdict: 'behind', reason: '1 commit behind origin/master', branch: 'master', upstream: 'origin/master', head: COMMIT_A, upstreamHead: COMMIT_B, ahead: 0, behind: 1 },
    { type: 'decision', action: 'deploy', reason: '/srv/birdhouse-deploy is behind', deploy: ['/srv/birdhouse-deploy'], pullOnly: [] },
    { type: 'pulled', path: '/srv/birdhouse-deploy', from: COMMIT_A, to: COMMIT_B, deployed: true, commits: [{ commit: COMMIT_B, subject: 'Raise <b>proxy</b> workers' }] },
    { type: 'restarted', services: ['proxy'] },
    { type: 'verified', ok: false, outcome: 'unhealthy', waitedMs: 61_000, services: [] },
    { type: 'rolled-back', ok: true, reason: 'proxy is unhealthy after 61 s', checkouts: [], problems: [] },
    { type: 'finished', outcome: 'rolled-back', message: 'deploy rolled back: proxy is unhealthy', endedAt: new Date(now - 3_500_000).toISOString(), durationMs: 95_000, exitCode: 1 },
  ]);
  s.deployEvents('mwr9deploy02', [
    { type: 'started', dryRun: false, at: new Date(now).toISOString(), checkouts: ['/srv/birdhouse-deploy', '/srv/private-config'] },
    { type: 'checkout-judged', path: '/srv/birdhouse-deploy', verdict: 'behind', reason: '1 commit behind origin/master (held: its deploy was rolled back)', branch: 'master', upstream: 'origin/master', head: COMMIT_A, upstreamHead: COMMIT_B, ahead: 0, behind: 1 },
    { type: 'checkout-judged', path: '/srv/private-config', verdict: 'error', reason: 'authentication refused by git.example.org', branch: 'main', upstream: 'origin/main', head: COMMIT_A, upstreamHead: undefined, ahead: 0, behind: 0 },
    { type: 'decision', action: 'hold', reason: 'the commits were rolled back before; waiting for a newer one', deploy: [], pullOnly: [] },
    { type: 'finished', outcome: 'held', message: 'held: waiting for a commit newer than the rolled-back one', endedAt: new Date(now).toISOString(), durationMs: 2_400, exitCode: 0 },
  ]);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container: Chromium's sandbox needs user namespaces this machine may not give.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}, 120_000);

afterAll(async () => {
  if (browser !== undefined) {
    const child = browser.process();
    await browser.close().catch(() => undefined);
    if (child !== null && child.exitCode === null) child.kill('SIGKILL');
  }
  await s?.stop();
});

describe('the status page in a real browser', () => {
  it('asks for a read token, takes it once, and shows jobs, a failed run and a rollback', async () => {
    const page = await newPage(1280, 900);
    const refused = await page.goto(`${s.base}/`);
    expect(refused?.status()).toBe(401);
    // Chromium reports the 401 of the page that asks for the token as a console error: expected.
    expect(problems.splice(0)).toEqual(['error: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    await page.type('#token', READ_TOKEN);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(page.url()).toBe(`${s.base}/`);
    const cookies = await page.browserContext().cookies();
    expect(cookies.find((c) => c.name === 'autodeploy_read')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    const jobs = await page.$$eval('#jobs tbody tr', (rows) => rows.map((r) => r.getAttribute('data-job')));
    expect(jobs.sort()).toEqual(['backup', 'cleanup', 'heartbeat', 'reindex']);
    const cleanupMarks = await page.$$eval('tr[data-job="cleanup"] .mark', (marks) => marks.map((m) => m.className));
    expect(cleanupMarks).toEqual(['mark o-failed', 'mark o-failed']);
    expect(await page.$$eval('tr[data-job="heartbeat"] .mark.o-succeeded', (m) => m.length)).toBe(4);
    expect(await page.$eval('tr[data-checkout="/srv/private-config"] .badge', (b) => b.textContent)).toBe('error');
    const deploys = await page.$$eval('li.deploy', (items) => items.map((i) => i.getAttribute('data-outcome')));
    expect(deploys).toEqual(['held', 'rolled-back']);
    const rollback = await page.$eval('li.deploy[data-outcome="rolled-back"]', (i) => i.textContent ?? '');
    expect(rollback).toContain('Raise <b>proxy</b> workers'); // shown as text, not markup
    expect(rollback).toContain('restarted: proxy');
    expect(rollback).toContain('rollback: every checkout back');
    expect(await page.$$eval('li.deploy b', (b) => b.length)).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'status-desktop.png'), fullPage: true });

    const phone = await newPage(390, 844, true);
    await phone.goto(`${s.base}/`);
    expect(await phone.$$eval('#jobs tbody tr', (rows) => rows.length)).toBe(4);
    await phone.screenshot({ path: join(SHOTS, 'status-phone.png'), fullPage: true });
    await phone.close();

    // A failed run's page: its output, escaped and masked.
    await page.click('tr[data-job="cleanup"] .mark:last-child');
    await page.waitForSelector('#output');
    const output = await page.$eval('#output', (o) => o.textContent ?? '');
    expect(output).toContain('<script>alert(1)</script> password ***');
    expect(output).toContain('disk full');
    expect(await page.$$eval('#output script', (x) => x.length)).toBe(0);
    const html = await page.content();
    expect(html).not.toContain(SECRET);
    await page.close();
    expect(problems).toEqual([]);
  });

  it('shows a run\'s output live while it runs, and its end', async () => {
    const page = await newPage(390, 844, true);
    await page.goto(`${s.base}/?token=${READ_TOKEN}`);
    expect(page.url()).toBe(`${s.base}/`);
    const end = nextRun(s.daemon, 'reindex');
    s.daemon.trigger('reindex');
    const run = await eventually('the live run to be recorded', async () => {
      const last = await s.daemon.runHistory.last('reindex');
      return last?.outcome === 'running' ? last.run : undefined;
    });
    await page.goto(`${s.base}/runs/reindex/${run}`);
    await page.waitForSelector('#output ::-p-text(first line)', { timeout: 10_000 });
    expect(await page.$eval('body', (b) => b.getAttribute('data-refresh'))).toBe('2');
    expect(await page.$eval('main .badge', (b) => b.textContent)).toContain('running');
    await page.screenshot({ path: join(SHOTS, 'status-run-phone.png'), fullPage: true });
    // The page updates itself: no navigation from here on.
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    await page.waitForSelector('#output ::-p-text(second line)', { timeout: 20_000 });
    await end;
    await page.waitForSelector('main .badge.o-succeeded', { timeout: 20_000 });
    expect(await page.$eval('body', (b) => b.getAttribute('data-refresh'))).toBe('0');
    expect(navigations).toEqual([]);
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);

  it('works without JavaScript: the page reloads itself by a meta refresh', async () => {
    const page = await newPage(1280, 900);
    await page.setJavaScriptEnabled(false);
    await page.goto(`${s.base}/?token=${READ_TOKEN}`);
    expect(await page.$$eval('#jobs tbody tr', (rows) => rows.length)).toBe(4);
    expect(await page.content()).toContain('<noscript><meta http-equiv="refresh" content="10"></noscript>');
    await page.close();
  });
});
