// Real HTTP requests to a server on 127.0.0.1, and signed webhook deliveries as git hosts send them.
import { createHmac, randomUUID } from 'node:crypto';
import pino from 'pino';

export const SECRET = 'webhook-secret-of-the-tests-0123456789';

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly ms: number;
}

export async function request(base: string, method: string, path: string, options: { headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${base}${path}`, { method, headers: options.headers ?? {}, ...(options.body === undefined ? {} : { body: options.body }), signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const ms = performance.now() - started;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: response.status, body, ms };
}

export function githubPush(repo: { clone: string; ssh: string; name: string }, ref: string, after = 'a'.repeat(40)): string {
  return JSON.stringify({ ref, before: '0'.repeat(40), after, repository: { full_name: repo.name, clone_url: repo.clone, ssh_url: repo.ssh, html_url: repo.clone.replace(/\.git$/, '') }, pusher: { name: 'someone' } });
}

export function gitlabPush(repo: { http: string; ssh: string; name: string }, ref: string, after = 'b'.repeat(40)): string {
  return JSON.stringify({ object_kind: 'push', ref, after, checkout_sha: after, project: { path_with_namespace: repo.name, git_http_url: repo.http, git_ssh_url: repo.ssh, web_url: repo.http.replace(/\.git$/, '') } });
}

export function hmac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function githubHeaders(body: string, options: { secret?: string; event?: string; delivery?: string } = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': options.event ?? 'push',
    'x-github-delivery': options.delivery ?? randomUUID(),
    ...(options.secret === undefined ? {} : { 'x-hub-signature-256': `sha256=${hmac(options.secret, body)}` }),
  };
}

/** A logger that keeps its lines, to check what was (and was not) logged. */
export function memoryLogger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { log, lines };
}
