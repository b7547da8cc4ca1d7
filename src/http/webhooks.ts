// POST /hooks/<github|gitlab|gitea>: a git host announces a push; a push to a branch a
// checkout tracks starts the autodeploy job now. Every other request is answered with why
// nothing runs, and is logged without its body.

import type { Context } from 'hono';
import type { Logger } from 'pino';
import { repositoryKey } from '../core/repo-url.js';
import type { CheckoutStatus } from '../core/deploy-snapshot.js';
import type { SchedulerPort } from '../core/scheduler-port.js';
import { trackedBranch, type TrackedBranch } from '../git/tracked-branch.js';
import { BodyTooLarge, readBody } from './body.js';
import { RunCoalescer, SeenSet } from './coalesce.js';
import { deliveryId, PROVIDERS, readPush, type Provider, type Push } from './push.js';
import { bodyDigest, checkGiteaSignature, checkGithubSignature, checkGitlabToken, type SignatureCheck } from './signatures.js';

/** GitHub caps a payload at 25 MB, but a push names commits by the 20 at most: a few MB is plenty. */
export const WEBHOOK_BODY_LIMIT = 2 * 1024 * 1024;

export interface WebhookOptions {
  readonly scheduler: SchedulerPort;
  readonly secret: () => string | undefined;
  /** the checkouts of the configuration, looked at directly when the scheduler can read them */
  readonly checkouts: () => readonly string[];
  readonly log: Logger;
}

interface Target {
  readonly path: string;
  readonly key: string;
  readonly branch: string;
}

export class Webhooks {
  private readonly deliveries = new SeenSet();
  private readonly bodies = new SeenSet();
  private readonly coalescer: RunCoalescer;
  private lastBy = 'webhook';

  constructor(private readonly options: WebhookOptions) {
    this.coalescer = new RunCoalescer(
      () => options.scheduler.start(options.scheduler.deployJob, { origin: 'webhook', by: this.lastBy }),
      (error) => options.log.error({ err: error }, 'a deploy started by a webhook failed inside the scheduler'),
    );
  }

  /** Settles once no deploy started by a webhook is going or queued. */
  idle(): Promise<void> {
    return this.coalescer.idle();
  }

  async handle(c: Context): Promise<Response> {
    const name = c.req.param('provider') ?? '';
    const provider = name === 'forgejo' ? 'gitea' : (PROVIDERS as readonly string[]).includes(name) ? (name as Provider) : undefined;
    const header = (h: string): string | undefined => c.req.header(h) ?? undefined;
    const delivery = provider === undefined ? undefined : deliveryId(provider, header);
    const log = this.options.log.child({ webhook: name, ...(delivery === undefined ? {} : { delivery: delivery.slice(0, 100) }) });
    const answer = (status: 400 | 401 | 404 | 200 | 202, body: Record<string, unknown>, level: 'info' | 'warn' = 'info'): Response => {
      log[level]({ status, ...body }, `webhook ${name}: ${String(body['reason'] ?? body['action'] ?? body['status'] ?? '')}`);
      return c.json(body, status);
    };
    if (provider === undefined) return answer(404, { error: 'not-found', reason: `no webhook /hooks/${name}: use /hooks/github, /hooks/gitlab or /hooks/gitea` }, 'warn');
    const secret = this.options.secret();
    if (secret === undefined) return answer(401, { error: 'unauthorized', reason: 'webhooks are off: AUTODEPLOY_WEBHOOK_SECRET is not set' }, 'warn');

    let body: Uint8Array;
    try {
      body = await readBody(c.req.raw, WEBHOOK_BODY_LIMIT);
    } catch (error) {
      if (error instanceof BodyTooLarge) return answer(400, { error: 'too-large', reason: `the body is larger than ${WEBHOOK_BODY_LIMIT} bytes` }, 'warn');
      throw error;
    }
    const check: SignatureCheck =
      provider === 'github'
        ? checkGithubSignature(secret, body, header('x-hub-signature-256'))
        : provider === 'gitea'
          ? checkGiteaSignature(secret, body, header('x-gitea-signature') ?? header('x-forgejo-signature'))
          : checkGitlabToken(secret, header('x-gitlab-token'));
    if (!check.ok) return answer(401, { error: 'unauthorized', reason: check.reason }, 'warn');

    // Signed by the host from here on: what follows is the host's word.
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch {
      return answer(400, { error: 'malformed', reason: 'the body is not JSON: set the webhook content type to application/json' }, 'warn');
    }
    const read = readPush(provider, header, payload);
    if (read.kind === 'invalid') return answer(400, { error: 'malformed', reason: read.reason }, 'warn');
    // The same delivery again, or the same body under a new id (a signature covers the body, not the id): no second run.
    const seenId = delivery !== undefined && this.deliveries.check(`${provider}:${delivery}`);
    const seenBody = this.bodies.check(`${provider}:${bodyDigest(body)}`);
    if (seenId || seenBody) return answer(200, { status: 'duplicate', reason: 'this delivery was received before; nothing runs again' });
    if (read.kind === 'other') return answer(200, { status: 'ignored', event: read.event, reason: `a ${read.event} event, not a push: nothing to deploy` });

    const push = read.push;
    const matched = await this.match(push);
    if (typeof matched === 'string') return answer(202, { status: 'ignored', action: 'none', repository: push.repository, ref: push.ref, reason: matched });
    this.lastBy = provider;
    const as = this.options.scheduler.deployJob === '' ? 'unknown-job' : this.coalescer.request();
    if (as === 'unknown-job') return answer(202, { status: 'ignored', action: 'none', reason: 'the autodeploy job is off (AUTODEPLOY_PLATFORM_FREQUENCY is empty or the configuration is invalid)' });
    const reasons: Record<typeof as, string> = {
      started: 'deploy started',
      queued: 'a deploy is going: one more starts when it ends',
      merged: 'a deploy is going and one more is already queued: this push is in it',
    };
    return answer(202, { status: as, action: 'deploy', repository: push.repository, branch: push.branch, after: push.after, checkouts: matched.map((t) => t.path), reason: reasons[as] });
  }

  /** The checkouts a push concerns, or why none. */
  private async match(push: Push): Promise<Target[] | string> {
    const keys = new Set(push.urls.map(repositoryKey).filter((k): k is string => k !== undefined));
    const targets = await this.targets();
    const sameRepo = targets.filter((t) => keys.has(t.key));
    if (sameRepo.length === 0) {
      return targets.length === 0
        ? `no checkout's remote is known yet (the first check tells it): ${push.repository} is not deployed here`
        : `no checkout tracks ${push.repository}`;
    }
    if (push.branch === undefined) return `${push.ref} is not a branch; checkouts of ${push.repository} track ${describeBranches(sameRepo)}`;
    const hits = sameRepo.filter((t) => t.branch === push.branch);
    if (hits.length === 0) return `a push to ${push.branch}; checkouts of ${push.repository} track ${describeBranches(sameRepo)}`;
    return hits;
  }

  /** What each checkout tracks: as read from it now where this process can, else as the last check said. */
  private async targets(): Promise<Target[]> {
    const byPath = new Map<string, Target>();
    for (const c of this.options.scheduler.deployStatus().checkouts) {
      const t = fromStatus(c);
      if (t !== undefined) byPath.set(t.path, t);
    }
    const looks = await Promise.all(this.options.checkouts().map((path) => trackedBranch(path)));
    for (const look of looks) {
      const t = look === undefined ? undefined : fromLook(look);
      if (t !== undefined) byPath.set(t.path, t);
    }
    return [...byPath.values()];
  }
}

function fromStatus(c: CheckoutStatus): Target | undefined {
  const key = c.remoteUrl === undefined ? undefined : repositoryKey(c.remoteUrl);
  return key === undefined || c.remoteBranch === undefined ? undefined : { path: c.path, key, branch: c.remoteBranch };
}

function fromLook(look: TrackedBranch): Target | undefined {
  const key = repositoryKey(look.remoteUrl);
  return key === undefined ? undefined : { path: look.path, key, branch: look.branch };
}

function describeBranches(targets: readonly Target[]): string {
  return [...new Set(targets.map((t) => t.branch))].join(', ');
}
