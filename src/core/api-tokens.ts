// The API's bearer tokens, as the operator writes them in AUTODEPLOY_API_TOKENS_FILE:
//
//   # name   scope  token
//   ci       run    5f0c3a…
//   grafana  read   91be07…
//
// one token per line, three fields separated by spaces or tabs; `#` starts a comment. A name
// is what logs and run records say instead of the token; a scope is `read` (look) or `run`
// (look, and start runs). Problems name the line, never the token.

import type { ConfigIssue } from './issues.js';

export const TOKEN_SCOPES = ['read', 'run'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface ApiToken {
  readonly name: string;
  readonly scope: TokenScope;
  readonly token: string;
}

/** A token shorter than this can be guessed over the network. */
export const MIN_TOKEN_LENGTH = 20;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const TOKEN = /^[\x21-\x7e]+$/;

export function parseTokenFile(text: string, file: string): { readonly tokens: ApiToken[]; readonly issues: ConfigIssue[] } {
  const tokens: ApiToken[] = [];
  const issues: ConfigIssue[] = [];
  const issue = (line: number, message: string): void => void issues.push({ file, line, message });
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) return;
    const fields = content.split(/[ \t]+/);
    if (fields.length !== 3) {
      issue(line, `expected three fields, "<name> <read|run> <token>", found ${fields.length}`);
      return;
    }
    const [name = '', scope = '', token = ''] = fields;
    if (!NAME.test(name)) issue(line, `the name "${name}" must be letters, digits, and . _ @ - (at most 64)`);
    else if (!(TOKEN_SCOPES as readonly string[]).includes(scope)) issue(line, `token ${name}: the scope "${scope}" must be read or run`);
    else if (token.length < MIN_TOKEN_LENGTH || !TOKEN.test(token)) issue(line, `token ${name}: the token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces (use e.g. openssl rand -hex 32)`);
    else if (tokens.some((t) => t.name === name)) issue(line, `token ${name}: the name is used by an earlier line`);
    else if (tokens.some((t) => t.token === token)) issue(line, `token ${name}: the same token is given to ${tokens.find((t) => t.token === token)?.name ?? 'another name'}`);
    else tokens.push({ name, scope: scope as TokenScope, token });
  });
  return { tokens, issues };
}

/** Whether a token of this scope may do what needs `needed`. */
export function scopeAllows(scope: TokenScope, needed: TokenScope): boolean {
  return scope === 'run' || needed === 'read';
}
