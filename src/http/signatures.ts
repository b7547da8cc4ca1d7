// Whether a webhook comes from the git host that shares our secret. GitHub and Gitea (and
// Forgejo) sign the raw body with HMAC-SHA256; GitLab sends the secret itself as a token.
// Every comparison takes the same time whatever the input, so that a caller learns nothing
// byte by byte.
//   https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
//   https://docs.gitea.com/usage/webhooks
//   https://docs.gitlab.com/user/project/integrations/webhooks/#validate-payloads-by-using-a-secret-token

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

function hmacMatches(secret: string, body: Uint8Array, hex: string): boolean {
  if (!HEX_SHA256.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** GitHub's `X-Hub-Signature-256: sha256=<hex>`. */
export function checkGithubSignature(secret: string, body: Uint8Array, header: string | undefined): SignatureCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'no X-Hub-Signature-256 header: set the webhook secret on GitHub' };
  const match = /^sha256=(.*)$/.exec(header.trim());
  if (match === null || !hmacMatches(secret, body, match[1] ?? '')) return { ok: false, reason: 'X-Hub-Signature-256 does not match the body and AUTODEPLOY_WEBHOOK_SECRET' };
  return { ok: true };
}

/** Gitea's `X-Gitea-Signature: <hex>` (Forgejo also sends it as X-Forgejo-Signature). */
export function checkGiteaSignature(secret: string, body: Uint8Array, header: string | undefined): SignatureCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'no X-Gitea-Signature header: set the webhook secret on Gitea or Forgejo' };
  if (!hmacMatches(secret, body, header.trim())) return { ok: false, reason: 'X-Gitea-Signature does not match the body and AUTODEPLOY_WEBHOOK_SECRET' };
  return { ok: true };
}

/** GitLab's `X-Gitlab-Token`: the secret itself, compared through digests of equal length. */
export function checkGitlabToken(secret: string, header: string | undefined): SignatureCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'no X-Gitlab-Token header: set the secret token of the webhook on GitLab' };
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  if (!timingSafeEqual(digest(secret), digest(header))) return { ok: false, reason: 'X-Gitlab-Token is not AUTODEPLOY_WEBHOOK_SECRET' };
  return { ok: true };
}

/** A digest of a body, to know a delivery sent twice under two ids. */
export function bodyDigest(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}
