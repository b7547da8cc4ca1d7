// The status page: `/` (the jobs, the checkouts, the deploys) and `/runs/<job>/<run>` (one run's
// output, live while it runs), for holders of a `read` API token. A browser cannot send a bearer
// header, so the token is taken once, from the form on the page that asks for it (a POST: the
// token never lands in an access log) or from `?token=` in a link, and kept in an HttpOnly,
// SameSite=Strict cookie; the address is then reloaded without it. The token is never logged or
// shown.

import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { scopeAllows, type ApiToken } from '../core/api-tokens.js';
import type { Masker } from '../core/mask.js';
import type { RunRecord } from '../core/run.js';
import type { SchedulerPort } from '../core/scheduler-port.js';
import { findToken } from './api.js';
import { STATUS_CSS, STATUS_JS } from './status-assets.js';
import { escapeHtml, renderDocument, renderIndex, renderMessage, renderRun, type PageContext, type PageParts } from './status-html.js';

export const TOKEN_COOKIE = 'autodeploy_read';
/** A week: a browser left open on the page keeps working; a lost laptop's cookie expires. */
const COOKIE_MAX_AGE_SECONDS = 7 * 24 * 3600;
const FORM_LIMIT = 4096;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface StatusPageOptions {
  readonly scheduler: SchedulerPort;
  readonly tokens: () => readonly ApiToken[] | undefined;
  readonly mask: () => Masker;
  readonly log: Logger;
  readonly now: () => Date;
}

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** The page's own address, relative and without its query: `./` at the top, else its last segment. */
function selfWithoutQuery(path: string): string {
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last === '' ? './' : last;
}

export function statusRoutes(options: StatusPageOptions): Hono {
  const app = new Hono();
  const { scheduler, log } = options;

  const html = (c: Context, root: string, page: PageParts, status: 200 | 401 | 404 = 200): Response => {
    const ctx: PageContext = { mask: options.mask(), now: options.now(), root };
    return c.html(renderDocument(ctx, page), status, SECURITY_HEADERS);
  };

  const askForToken = (c: Context, root: string, why: string): Response => html(c, root, renderMessage('Sign in', `<p>${escapeHtml(why)}</p>
<form class="token" method="post" action="${root}login"><input type="hidden" name="back" value="${escapeHtml(c.req.path)}">
<label for="token">Read token</label> <input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Open</button></form>
<p><small>A token of scope <code>read</code> from <code>AUTODEPLOY_API_TOKENS_FILE</code>. It is kept in a cookie of this browser for a week.</small></p>`), 401);

  const setCookie = (c: Context, token: string): void => {
    const secure = c.req.header('x-forwarded-proto') === 'https' || new URL(c.req.url).protocol === 'https:';
    c.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; Max-Age=${COOKIE_MAX_AGE_SECONDS}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`);
  };

  /** The read token the request carries, or the answer that asks for one. */
  const reader = (c: Context, root: string): ApiToken | Response => {
    const tokens = options.tokens();
    if (tokens === undefined) return html(c, root, renderMessage('Status page off', '<p>The status page needs API tokens: set <code>AUTODEPLOY_API_TOKENS_FILE</code> in env.local.</p>'), 401);
    const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const presented = bearer ?? cookieToken(c.req.header('cookie'));
    if (presented === undefined) return askForToken(c, root, 'This page needs a read token.');
    const token = findToken(tokens, presented);
    if (token === undefined || !scopeAllows(token.scope, 'read')) {
      log.warn({ path: c.req.path }, 'status page refused: unknown token');
      return askForToken(c, root, 'That token is not known (any more).');
    }
    return token;
  };

  // A token in the address is taken once: kept in the cookie, then the address reloaded without it.
  const tokenInAddress = async (c: Context, next: () => Promise<void>): Promise<Response | void> => {
    const query = c.req.query('token');
    if (query === undefined || c.req.method !== 'GET') return next();
    const tokens = options.tokens() ?? [];
    const token = findToken(tokens, query);
    if (token === undefined || !scopeAllows(token.scope, 'read')) {
      log.warn({ path: c.req.path }, 'status page refused: unknown token in the address');
      return askForToken(c, c.req.path.startsWith('/runs/') ? '../../' : '', 'That token is not known (any more).');
    }
    setCookie(c, token.token);
    return c.redirect(selfWithoutQuery(c.req.path), 303);
  };
  app.use('/', tokenInAddress);
  app.use('/runs/*', tokenInAddress);

  app.get('/assets/status.css', (c) => c.body(STATUS_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }));
  app.get('/assets/status.js', (c) => c.body(STATUS_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=300' }));

  app.post('/login', async (c) => {
    const length = Number(c.req.header('content-length') ?? '0');
    if (!Number.isFinite(length) || length > FORM_LIMIT) return askForToken(c, '', 'That form was too large.');
    const form = new URLSearchParams(await c.req.text());
    const back = form.get('back') ?? '/';
    // Only a path of these pages: never an address elsewhere.
    const target = /^\/(?:runs\/[^/?#]+\/[^/?#]+)?$/.test(back) ? back : '/';
    const token = findToken(options.tokens() ?? [], form.get('token') ?? '');
    if (token === undefined || !scopeAllows(token.scope, 'read')) {
      log.warn({ path: c.req.path }, 'status page sign-in refused: unknown token');
      return askForToken(c, '', 'That token is not known (any more).');
    }
    setCookie(c, token.token);
    // Relative to /login, so that it stays under a proxy's prefix.
    return c.redirect(target === '/' ? './' : `.${target}`, 303);
  });

  app.get('/', async (c) => {
    const who = reader(c, '');
    if (who instanceof Response) return who;
    const jobs = await scheduler.jobs();
    const runs = new Map<string, readonly RunRecord[]>();
    for (const job of jobs) runs.set(job.name, (await scheduler.runs(job.name)) ?? []);
    const intervals = new Map((scheduler.jobTimings?.() ?? []).map((t) => [t.name, t.intervalSeconds] as const));
    return html(c, '', renderIndex({ mask: options.mask(), now: options.now(), root: '' }, {
      jobs, runs, intervals, status: scheduler.deployStatus(), health: scheduler.configHealth?.(), deployJob: scheduler.deployJob,
    }));
  });

  app.get('/runs/:job/:run', async (c) => {
    const root = '../../';
    const who = reader(c, root);
    if (who instanceof Response) return who;
    const job = c.req.param('job');
    const record = (await scheduler.runs(job))?.find((r) => r.run === c.req.param('run'));
    if (record === undefined) return html(c, root, renderMessage('No such run', `<p>No run ${escapeHtml(c.req.param('run'))} of job ${escapeHtml(job)} is kept.</p>`), 404);
    const output = await scheduler.runOutput(job, record.run);
    return html(c, root, renderRun({ mask: options.mask(), now: options.now(), root }, { job, record, output }));
  });

  return app;
}
