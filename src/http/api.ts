// /api/v1: the job table, runs and their output, the checkouts' verdicts and the deploy
// history for `read` tokens; running a job, deploying and rolling the notebooks back for `run`
// tokens. Runs started here carry the token's name as their origin; the token itself is never
// logged or echoed.

import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { scopeAllows, type ApiToken, type TokenScope } from '../core/api-tokens.js';
import type { RunRequest, SchedulerPort, StartAnswer } from '../core/scheduler-port.js';

export interface ApiOptions {
  readonly scheduler: SchedulerPort;
  /** the tokens in force; undefined: no token file is configured */
  readonly tokens: () => readonly ApiToken[] | undefined;
  readonly log: Logger;
  readonly now: () => Date;
}

type Env = { Variables: { token: ApiToken } };

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The token a bearer header names, comparing against every token in the same time. */
export function findToken(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const wanted = digest(presented);
  let found: ApiToken | undefined;
  for (const token of tokens) if (timingSafeEqual(digest(token.token), wanted) && found === undefined) found = token;
  return found;
}

function param(c: Context<Env>, name: string): string {
  return c.req.param(name) ?? '';
}

export function apiRoutes(options: ApiOptions): Hono<Env> {
  const api = new Hono<Env>();
  const { scheduler, log } = options;

  const need = (scope: TokenScope) => async (c: Context<Env>, next: () => Promise<void>): Promise<Response | void> => {
    const tokens = options.tokens();
    if (tokens === undefined) return c.json({ error: 'unauthorized', reason: 'the API is off: AUTODEPLOY_API_TOKENS_FILE is not set' }, 401);
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header('authorization') ?? '');
    const token = match === null ? undefined : findToken(tokens, match[1] ?? '');
    if (token === undefined) {
      log.warn({ method: c.req.method, path: c.req.path, bearer: match !== null }, 'API call refused: unknown or missing token');
      c.header('WWW-Authenticate', 'Bearer realm="autodeploy"');
      return c.json({ error: 'unauthorized', reason: match === null ? 'send Authorization: Bearer <token>' : 'unknown token' }, 401);
    }
    if (!scopeAllows(token.scope, scope)) {
      log.warn({ method: c.req.method, path: c.req.path, token: token.name }, `API call refused: token ${token.name} may only read`);
      return c.json({ error: 'forbidden', reason: `token ${token.name} has scope ${token.scope}; this needs ${scope}` }, 403);
    }
    c.set('token', token);
    await next();
  };

  const started = (c: Context<Env>, what: string, answer: StartAnswer, request: RunRequest): Response => {
    if (answer.kind === 'unknown') return c.json({ error: 'not-found', reason: `no job ${what}` }, 404);
    log.info({ job: what, origin: request.origin, by: request.by, started: answer.kind === 'started' }, `API: ${request.by} asked for a run of ${what}${answer.kind === 'busy' ? ' (a run was going: none started)' : ''}`);
    if (answer.kind === 'busy') return c.json({ status: 'busy', job: what, reason: 'a run of this job is going; no second one was started' }, 409);
    answer.result.catch(() => undefined);
    return c.json({ status: 'started', job: what, by: request.by, runs: `/api/v1/jobs/${encodeURIComponent(what)}/runs` }, 202);
  };

  api.get('/jobs', need('read'), async (c) => c.json({ jobs: await scheduler.jobs() }));
  api.get('/jobs/:job/runs', need('read'), async (c) => {
    const runs = await scheduler.runs(param(c, 'job'));
    return runs === undefined ? c.json({ error: 'not-found', reason: `no job ${param(c, 'job')}` }, 404) : c.json({ runs });
  });
  api.get('/jobs/:job/runs/:run', need('read'), async (c) => {
    const job = param(c, 'job');
    const runs = await scheduler.runs(job);
    const record = runs?.find((r) => r.run === param(c, 'run'));
    if (record === undefined) return c.json({ error: 'not-found', reason: `no run ${param(c, 'run')} of job ${job}` }, 404);
    return c.json({ run: record, output: await scheduler.runOutput(job, record.run) });
  });
  api.post('/jobs/:job/run', need('run'), (c) => {
    const request: RunRequest = { origin: 'api', by: c.get('token').name };
    return started(c, param(c, 'job'), scheduler.start(param(c, 'job'), request), request);
  });
  api.get('/status', need('read'), (c) => {
    const status = scheduler.deployStatus();
    const ageSeconds = status.checkedAt === undefined ? undefined : Math.max(0, Math.round((options.now().getTime() - Date.parse(status.checkedAt)) / 1000));
    return c.json({
      checkedAt: status.checkedAt ?? null,
      ageSeconds: ageSeconds ?? null,
      freshness: ageSeconds === undefined ? 'no check seen yet: the first autodeploy run tells' : `as checked by autodeploy run ${status.run ?? '?'} ${ageSeconds} s ago`,
      run: status.run ?? null,
      checkouts: status.checkouts,
      decision: status.decision ?? null,
    });
  });
  api.get('/deploys', need('read'), (c) => c.json({ deploys: scheduler.deployHistory() }));
  api.post('/deploy', need('run'), (c) => {
    const request: RunRequest = { origin: 'api', by: c.get('token').name };
    return started(c, scheduler.deployJob, scheduler.start(scheduler.deployJob, request), request);
  });
  api.post('/notebooks/rollback', need('run'), (c) => {
    const request: RunRequest = { origin: 'api', by: c.get('token').name };
    return started(c, scheduler.notebookJob, scheduler.rollbackNotebooks(request), request);
  });
  return api;
}
