// A git host's push event, read from its webhook: which repository (under every URL the host
// gives for it), which branch, and the delivery's id. Each host names these differently.
//   GitHub: https://docs.github.com/en/webhooks/webhook-events-and-payloads#push
//   GitLab: https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events
//   Gitea/Forgejo: https://docs.gitea.com/usage/webhooks (GitHub's shape, own headers)

import { branchOfRef } from '../core/repo-url.js';

export const PROVIDERS = ['github', 'gitlab', 'gitea'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface Push {
  readonly provider: Provider;
  readonly repository: string;
  /** every URL of the repository the payload names */
  readonly urls: readonly string[];
  readonly ref: string;
  /** undefined: a tag or another ref */
  readonly branch: string | undefined;
  readonly after: string | undefined;
}

export type ReadPush =
  | { readonly kind: 'push'; readonly push: Push }
  /** a valid event that is not a push (GitHub's ping, an issue event): answered, nothing runs */
  | { readonly kind: 'other'; readonly event: string }
  | { readonly kind: 'invalid'; readonly reason: string };

type Header = (name: string) => string | undefined;

/** The event's name, as the host's header says it. */
export function eventName(provider: Provider, header: Header): string | undefined {
  switch (provider) {
    case 'github':
      return header('x-github-event');
    case 'gitlab':
      return header('x-gitlab-event');
    case 'gitea':
      return header('x-gitea-event') ?? header('x-forgejo-event');
  }
}

/** The delivery's id, unique per delivery (a redelivery by hand gets a new one on GitHub). */
export function deliveryId(provider: Provider, header: Header): string | undefined {
  switch (provider) {
    case 'github':
      return header('x-github-delivery');
    case 'gitlab':
      return header('x-gitlab-event-uuid') ?? header('x-gitlab-webhook-uuid') ?? header('idempotency-key');
    case 'gitea':
      return header('x-gitea-delivery') ?? header('x-forgejo-delivery');
  }
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const obj = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

export function readPush(provider: Provider, header: Header, body: unknown): ReadPush {
  const event = eventName(provider, header);
  if (event === undefined) return { kind: 'invalid', reason: `no event header of ${provider}` };
  const isPush = provider === 'gitlab' ? event === 'Push Hook' : event === 'push';
  if (!isPush) return { kind: 'other', event };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { kind: 'invalid', reason: 'the body is not a JSON object' };
  const payload = body as Record<string, unknown>;
  const ref = str(payload['ref']);
  if (ref === undefined) return { kind: 'invalid', reason: 'the push names no ref' };
  let urls: (string | undefined)[];
  let repository: string | undefined;
  if (provider === 'gitlab') {
    const project = obj(payload['project']);
    const repo = obj(payload['repository']);
    urls = [project['git_ssh_url'], project['git_http_url'], project['web_url'], repo['git_ssh_url'], repo['git_http_url'], repo['url'], repo['homepage']].map(str);
    repository = str(project['path_with_namespace']) ?? str(repo['name']);
  } else {
    const repo = obj(payload['repository']);
    urls = [repo['clone_url'], repo['ssh_url'], repo['git_url'], repo['html_url'], repo['url']].map(str);
    repository = str(repo['full_name']) ?? str(repo['name']);
  }
  const known = [...new Set(urls.filter((u): u is string => u !== undefined))];
  if (known.length === 0) return { kind: 'invalid', reason: 'the push names no repository URL' };
  return {
    kind: 'push',
    push: { provider, repository: repository ?? known[0] ?? '', urls: known, ref, branch: branchOfRef(ref), after: str(payload['after']) ?? str(payload['checkout_sha']) },
  };
}
