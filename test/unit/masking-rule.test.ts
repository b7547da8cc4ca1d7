// One masking rule for every output: secret-named values, credentials in any URL.
import { describe, expect, it } from 'vitest';
import { createMasker } from '../../src/core/mask.js';
import { hasCredentials, redactCredentials } from '../../src/core/remote-url.js';
import { collectSecrets, isSecretName, isSecretSetting } from '../../src/core/secrets.js';

describe('secret names', () => {
  it('include personal access tokens, webhooks and data source names', () => {
    for (const name of ['GITHUB_PAT', 'SLACK_WEBHOOK_URL', 'SENTRY_DSN', 'WEBHOOK', 'OPENAI_API_KEY', 'GOOGLE_CREDENTIALS']) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of ['PATH', 'PATTERN', 'COMPOSE_PATH', 'DSN_HOST', 'HOME']) expect(isSecretName(name), name).toBe(false);
  });

  it('include a *_URL that holds credentials, and not one that does not', () => {
    expect(isSecretSetting('DATABASE_URL', 'postgres://app:hunter22@db:5432/app')).toBe(true);
    expect(isSecretSetting('NOTIFY_URL', 'https://hooks.example.org/x?token=abcdef123456')).toBe(true);
    expect(isSecretSetting('KEYCLOAK_URL', 'https://auth.example.org/realms/x')).toBe(false);
    expect(collectSecrets([['DATABASE_URL', 'postgres://app:hunter22@db:5432/app'], ['SITE_URL', 'https://example.org']])).toEqual(['postgres://app:hunter22@db:5432/app']);
  });
});

describe('credentials in URLs', () => {
  it('masks a password holding an @ whole, and an https user info whole', () => {
    expect(redactCredentials('cloning https://bob:p@ss@word@git.example.org/x.git failed')).toBe('cloning https://***@git.example.org/x.git failed');
    expect(redactCredentials('ssh://git:s3cret@host:2222/x.git')).toBe('ssh://git:***@host:2222/x.git');
    expect(redactCredentials('ssh://git@host/x.git and git@github.com:org/x.git')).toBe('ssh://git@host/x.git and git@github.com:org/x.git');
  });

  it('masks query parameters named like credentials, and keeps the others', () => {
    expect(redactCredentials('https://example.org/a.git?access_token=ghp_abc123&ref=main')).toBe('https://example.org/a.git?access_token=***&ref=main');
    expect(redactCredentials('https://s3.example.org/f?X-Amz-Signature=0a1b2c&X-Amz-Date=20260101')).toBe('https://s3.example.org/f?X-Amz-Signature=***&X-Amz-Date=20260101');
    expect(redactCredentials('https://example.org/search?q=token')).toBe('https://example.org/search?q=token');
    expect(hasCredentials('https://example.org/x?private_token=zzz')).toBe(true);
  });

  it('are masked by every masker, with or without secret values', () => {
    expect(createMasker([])('fetch https://ci:tok3n@example.org/r.git')).toBe('fetch https://***@example.org/r.git');
    expect(createMasker(['hunter22'])('pw hunter22 at postgres://u:hunter22@db/x')).toBe('pw *** at postgres://u:***@db/x');
  });
});
