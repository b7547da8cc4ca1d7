import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseTokenFile, scopeAllows } from '../../src/core/api-tokens.js';
import { parseNotifyTargets } from '../../src/core/notify-target.js';
import { repositoryKey } from '../../src/core/repo-url.js';
import { checkGiteaSignature, checkGithubSignature, checkGitlabToken } from '../../src/http/signatures.js';

describe('repositoryKey', () => {
  it('names one repository the same in every form', () => {
    const forms = [
      'https://github.com/Org/Repo.git',
      'https://github.com/org/repo',
      'https://token@github.com/org/repo.git/',
      'http://github.com:80/org/repo',
      'ssh://git@github.com/org/repo.git',
      'ssh://git@github.com:22/org/repo',
      'git@github.com:org/repo.git',
      'github.com:Org/Repo',
      'git://github.com/org/repo.git',
    ];
    expect(new Set(forms.map(repositoryKey))).toEqual(new Set(['github.com/org/repo']));
  });

  it('keeps hosts, paths and local repositories apart', () => {
    expect(repositoryKey('git@gitlab.com:org/repo.git')).toBe('gitlab.com/org/repo');
    expect(repositoryKey('https://github.com/org/repo-2')).toBe('github.com/org/repo-2');
    expect(repositoryKey('/srv/git/platform.git')).toBe('file:/srv/git/platform');
    expect(repositoryKey('file:///srv/git/platform')).toBe('file:/srv/git/platform');
    expect(repositoryKey('')).toBeUndefined();
    expect(repositoryKey('relative/path')).toBeUndefined();
  });
});

describe('signatures', () => {
  const secret = 'a-secret-of-sixteen-chars';
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const hex = createHmac('sha256', secret).update(body).digest('hex');

  it("accepts GitHub's and Gitea's HMAC of the raw body, and GitLab's token", () => {
    expect(checkGithubSignature(secret, body, `sha256=${hex}`)).toEqual({ ok: true });
    expect(checkGiteaSignature(secret, body, hex)).toEqual({ ok: true });
    expect(checkGitlabToken(secret, secret)).toEqual({ ok: true });
  });

  it('refuses anything else, saying what is wrong', () => {
    expect(checkGithubSignature(secret, body, undefined)).toMatchObject({ ok: false, reason: expect.stringMatching(/no X-Hub-Signature-256/) });
    expect(checkGithubSignature(secret, body, hex).ok).toBe(false);
    expect(checkGithubSignature(secret, body, `sha256=${hex.slice(0, 63)}`).ok).toBe(false);
    expect(checkGithubSignature(secret, Buffer.from('{"ref":"refs/heads/evil"}'), `sha256=${hex}`).ok).toBe(false);
    expect(checkGiteaSignature('another-secret-000000', body, hex).ok).toBe(false);
    expect(checkGitlabToken(secret, `${secret}x`).ok).toBe(false);
    expect(checkGitlabToken(secret, '').ok).toBe(false);
  });
});

describe('the token file', () => {
  it('reads name, scope and token per line, with comments', () => {
    const parsed = parseTokenFile('# name scope token\n\nci   run  0123456789abcdef0123\ngrafana\tread\tfedcba9876543210fedc  \n', 'tokens');
    expect(parsed.issues).toEqual([]);
    expect(parsed.tokens).toEqual([
      { name: 'ci', scope: 'run', token: '0123456789abcdef0123' },
      { name: 'grafana', scope: 'read', token: 'fedcba9876543210fedc' },
    ]);
    expect(scopeAllows('read', 'run')).toBe(false);
    expect(scopeAllows('run', 'read')).toBe(true);
  });

  it('names the line of each problem, never the token', () => {
    const parsed = parseTokenFile('ci run short\nci write 0123456789abcdef0123\nonly two\nci run 0123456789abcdef0123\nci read 0123456789abcdef9999\nbot read 0123456789abcdef0123\n', 'tokens');
    expect(parsed.issues.map((i) => `${i.line}: ${i.message}`)).toEqual([
      '1: token ci: the token must be at least 20 printable characters without spaces (use e.g. openssl rand -hex 32)',
      '2: token ci: the scope "write" must be read or run',
      '3: expected three fields, "<name> <read|run> <token>", found 2',
      '5: token ci: the name is used by an earlier line',
      '6: token bot: the same token is given to ci',
    ]);
    expect(JSON.stringify(parsed.issues)).not.toContain('0123456789abcdef');
  });
});

describe('notify URLs', () => {
  it('picks the text form for Slack, Teams and Mattermost, JSON otherwise, or as the prefix says', () => {
    const { targets, problems } = parseNotifyTargets(
      'https://hooks.slack.com/services/A/B/C https://acme.webhook.office.com/webhookb2/x https://chat.example.org/hooks/abc123 https://alerts.example.org/in json+https://chat.example.org/hooks/x text+https://example.org/y',
    );
    expect(problems).toEqual([]);
    expect(targets.map((t) => t.form)).toEqual(['text', 'text', 'text', 'json', 'json', 'text']);
    expect(targets[5]?.url).toBe('https://example.org/y');
  });
});
