// The status page's HTML and sign-in, and the metrics' pure pieces, without a server: the
// routes answer Hono's app.request over a stand-in scheduler.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EMPTY_DEPLOY_STATUS } from '../../src/core/deploy-snapshot.js';
import { createMasker } from '../../src/core/mask.js';
import type { RunRecord } from '../../src/core/run.js';
import type { SchedulerPort } from '../../src/core/scheduler-port.js';
import { notebookSetTime } from '../../src/http/metrics.js';
import { escapeHtml, formatDuration, renderIndex, renderRun } from '../../src/http/status-html.js';
import { statusRoutes, TOKEN_COOKIE } from '../../src/http/status-page.js';

const SECRET = 'a-secret-value-0123456789';
const TOKEN = 'read-token-of-the-unit-tests-0123';
const NOW = new Date('2026-12-01T12:00:00Z');
const ctx = { mask: createMasker([SECRET]), now: NOW, root: '' };

const run: RunRecord = { job: 'evil<job>', run: 'r1', origin: 'schedule', outcome: 'failed', startedAt: '2026-12-01T11:59:00.000Z', endedAt: '2026-12-01T11:59:30.000Z', durationMs: 30_000, exitCode: 2, message: `failed with ${SECRET}` };

const scheduler: SchedulerPort = {
  deployJob: 'autodeploy',
  notebookJob: 'notebookdeploy',
  jobs: async () => [{ name: 'evil<job>', kind: 'local', schedule: '@daily', enabled: true, comment: '"quoted" & <b>bold</b>', nextRun: '2026-12-02T00:00:00.000Z', nextRuns: ['2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z', '2026-12-04T00:00:00.000Z'], running: false, lastRun: run }],
  runs: async (job) => (job === 'evil<job>' ? [run] : undefined),
  runOutput: async () => [{ time: '2026-12-01T11:59:01.000Z', stream: 'stdout', text: `<img src=x onerror=alert(1)> ${SECRET}` }],
  start: () => ({ kind: 'unknown' }),
  rollbackNotebooks: () => ({ kind: 'unknown' }),
  deployStatus: () => EMPTY_DEPLOY_STATUS,
  deployHistory: () => [],
};

function app() {
  return statusRoutes({ scheduler, tokens: () => [{ name: 'viewer', scope: 'read', token: TOKEN }], mask: () => createMasker([SECRET]), log: pino({ level: 'silent' }), now: () => NOW });
}

describe('the status page HTML', () => {
  it('escapes and masks every text from the platform', async () => {
    const page = renderIndex(ctx, { jobs: await scheduler.jobs(), runs: new Map([['evil<job>', [run]]]), intervals: new Map(), status: EMPTY_DEPLOY_STATUS, health: { valid: false, problems: 2, refused: 1 }, deployJob: 'autodeploy' });
    expect(page.body).toContain('evil&#60;job&#62;');
    expect(page.body).toContain('&#34;quoted&#34; &#38; &#60;b&#62;bold&#60;/b&#62;');
    expect(page.body).not.toContain('<b>bold');
    expect(page.body).not.toContain(SECRET);
    expect(page.body).toContain('failed with ***');
    expect(page.body).toContain('runs/evil%3Cjob%3E/r1');
    expect(page.body).toContain('The configuration was refused (2 problems)');
    // the job table shows the next three runs
    for (const at of ['2026-12-02 00:00:00', '2026-12-03 00:00:00', '2026-12-04 00:00:00']) expect(page.body).toContain(`title="${at} UTC"`);
    const output = renderRun(ctx, { job: 'evil<job>', record: run, output: await scheduler.runOutput('evil<job>', 'r1') });
    expect(output.body).toContain('&#60;img src=x onerror=alert(1)&#62; ***');
    expect(output.refresh).toBe(0);
    expect(renderRun(ctx, { job: 'x', record: { ...run, outcome: 'running' }, output: [] }).refresh).toBe(2);
  });

  it('says durations as a person would', () => {
    expect(formatDuration(420)).toBe('420 ms');
    expect(formatDuration(2_400)).toBe('2.4 s');
    expect(formatDuration(95_000)).toBe('1 min 35 s');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatDuration(366 * 86_400_000)).toBe('366 d');
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  });
});

describe('the status page sign-in', () => {
  it('asks for a token, takes it once from the address, and keeps it in an HttpOnly cookie', async () => {
    const refused = await app().request('/');
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('<form class="token" method="post" action="login">');
    expect(refused.headers.get('content-security-policy')).toContain("script-src 'self'");

    const wrong = await app().request('/?token=not-the-token-at-all-0000');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const taken = await app().request(`/runs/evil%3Cjob%3E/r1?token=${TOKEN}`);
    expect(taken.status).toBe(303);
    expect(taken.headers.get('location')).toBe('r1');
    const cookie = taken.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${TOKEN_COOKIE}=${TOKEN}; Path=/; Max-Age=\\d+; HttpOnly; SameSite=Strict$`));

    const page = await app().request('/runs/evil%3Cjob%3E/r1', { headers: { cookie: `${TOKEN_COOKIE}=${TOKEN}` } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain(TOKEN);
    expect(html).not.toContain(SECRET);
    expect(html).toContain('href="../../assets/status.css"');
  });

  it('signs in by a form and goes back only to a page of its own', async () => {
    const post = (back: string) => app().request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: TOKEN, back }).toString() });
    expect((await post('/runs/a/b')).headers.get('location')).toBe('./runs/a/b');
    expect((await post('/')).headers.get('location')).toBe('./');
    expect((await post('https://elsewhere.example/')).headers.get('location')).toBe('./');
    expect((await post('//elsewhere.example/x')).headers.get('location')).toBe('./');
    const secure = await app().request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' }, body: `token=${TOKEN}` });
    expect(secure.headers.get('set-cookie')).toContain('; Secure');
  });
});

describe('notebookSetTime', () => {
  it('reads the time a notebook set was made from its version id', () => {
    expect(notebookSetTime('20240131-140502-3f2a9c1b')?.toISOString()).toBe('2024-01-31T14:05:02.000Z');
    expect(notebookSetTime('20240131-140502-3f2a9c1b-2')?.toISOString()).toBe('2024-01-31T14:05:02.000Z');
    expect(notebookSetTime('legacy-20240131-140502')?.toISOString()).toBe('2024-01-31T14:05:02.000Z');
    expect(notebookSetTime('something-else')).toBeUndefined();
  });
});
