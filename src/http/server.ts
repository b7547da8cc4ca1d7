// The scheduler's HTTP server: webhooks under /hooks/, the API under /api/v1, /healthz, the
// metrics at /metrics and the status page at /.
// Loaded by the CLI only when AUTODEPLOY_HTTP_PORT is set, so that a scheduler without it
// does not carry the server's code in memory.
//
// Hono on @hono/node-server: a router and middleware over the standard Request and Response,
// with no dependencies of its own and a small footprint (the daemon must stay under 80 MB);
// node's own http server underneath gives the timeouts.

import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { ApiToken } from '../core/api-tokens.js';
import { maskJsonLine, type Masker } from '../core/mask.js';
import type { SchedulerPort } from '../core/scheduler-port.js';
import { apiRoutes } from './api.js';
import type { SchedulerMetrics } from './metrics.js';
import { Webhooks } from './webhooks.js';

export interface HttpServerOptions {
  readonly host: string;
  /** 0: any free port (tests) */
  readonly port: number;
  readonly scheduler: SchedulerPort;
  readonly webhookSecret: () => string | undefined;
  readonly checkouts: () => readonly string[];
  readonly tokens: () => readonly ApiToken[] | undefined;
  /** masks secrets in every answer, as in the logs */
  readonly mask: () => Masker;
  readonly log: Logger;
  readonly now?: () => Date;
}

export interface HttpServer {
  readonly port: number;
  readonly webhooks: Webhooks;
  close(): Promise<void>;
}

/** A slow client holds a socket for no longer than this. */
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_MS = 5_000;
/** The API takes no bodies; this only bounds what is read before a 400. */
const API_BODY_LIMIT = 64 * 1024;

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const log = options.log;
  const webhooks = new Webhooks({ scheduler: options.scheduler, secret: options.webhookSecret, checkouts: options.checkouts, log });
  const app = new Hono();
  const now = options.now ?? (() => new Date());
  // prom-client and the status page are loaded when first asked for: a platform that neither
  // scrapes nor looks keeps the daemon's memory for its jobs. Metrics begin with the first
  // scrape, as a counter that Prometheus has not yet seen would anyway; the last success and
  // failure of each job come from the run history.
  let metrics: Promise<SchedulerMetrics> | undefined;
  const loadMetrics = (): Promise<SchedulerMetrics> => {
    metrics ??= import('./metrics.js').then((m) => new m.SchedulerMetrics({ scheduler: options.scheduler, now }));
    return metrics;
  };
  let statusPage: Promise<Hono> | undefined;
  const loadStatusPage = (): Promise<Hono> => {
    statusPage ??= import('./status-page.js').then((m) => m.statusRoutes({ scheduler: options.scheduler, tokens: options.tokens, mask: options.mask, log, now }));
    return statusPage;
  };

  // Every JSON answer is masked as a log line is: a verdict or a run's output may quote a secret.
  app.use('*', async (c, next) => {
    await next();
    if (c.res.headers.get('content-type')?.startsWith('application/json') !== true) return;
    const text = await c.res.clone().text();
    const masked = maskJsonLine(text, options.mask());
    if (masked !== text) c.res = new Response(masked, { status: c.res.status, headers: c.res.headers });
  });
  app.use('/api/*', async (c, next) => {
    const length = Number(c.req.header('content-length') ?? '0');
    if (Number.isFinite(length) && length > API_BODY_LIMIT) return c.json({ error: 'too-large', reason: `the API takes no body larger than ${API_BODY_LIMIT} bytes` }, 400);
    await next();
  });
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.post('/hooks/:provider', (c) => webhooks.handle(c));
  app.route('/api/v1', apiRoutes({ scheduler: options.scheduler, tokens: options.tokens, log, now: options.now ?? (() => new Date()) }));
  // No token: Prometheus scrapes it on the platform's network; it names jobs and checkouts only.
  app.get('/metrics', async (c) => {
    const m = await loadMetrics();
    return c.body(await m.render(), 200, { 'content-type': m.contentType });
  });
  for (const path of ['/', '/runs/:job/:run', '/login', '/assets/:file']) app.on(['GET', 'POST'], path, async (c) => (await loadStatusPage()).fetch(c.req.raw));
  app.notFound((c) => c.json({ error: 'not-found', reason: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    log.error({ err: error, method: c.req.method, path: c.req.path }, 'HTTP request failed inside the scheduler');
    return c.json({ error: 'internal', reason: 'the scheduler failed to answer; see scheduler.log' }, 500);
  });

  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({
      fetch: app.fetch,
      port: options.port,
      hostname: options.host,
      serverOptions: { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_MS },
    }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  log.info({ host: options.host, port }, `HTTP server listening on ${options.host}:${port} (webhooks /hooks/, API /api/v1, metrics /metrics, status page /)`);
  return {
    port,
    webhooks,
    close: () =>
      new Promise<void>((resolve) => {
        void metrics?.then((m) => m.close());
        server.close(() => resolve());
        // Keep-alive sockets of idle clients would hold the close for their timeout.
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
