import { readFile } from 'node:fs/promises';
import { parseTokenFile, type ApiToken } from '../core/api-tokens.js';
import type { ConfigIssue } from '../core/issues.js';
import { watchFileContent, type FileWatch } from './watch-file.js';

/** What reading the token file gave: its tokens, or why they were not taken. */
export type TokenFileRead =
  | { readonly ok: true; readonly tokens: readonly ApiToken[] }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export function readTokenText(text: string | undefined, path: string): TokenFileRead {
  if (text === undefined) return { ok: false, issues: [{ file: path, line: undefined, message: 'cannot be read: the API refuses every token until it can' }] };
  const parsed = parseTokenFile(text, path);
  return parsed.issues.length > 0 ? { ok: false, issues: parsed.issues } : { ok: true, tokens: parsed.tokens };
}

/**
 * The API's tokens, re-read whenever the file changes. A file with a problem changes nothing:
 * the tokens of the last good file stay in force, and the problems are handed to `onRead`.
 * A file that disappears takes every token with it: revoking by removal must work.
 */
export class TokenFile {
  private tokens: readonly ApiToken[] = [];
  private watch: FileWatch | undefined;

  private constructor(readonly path: string, private readonly onRead: (read: TokenFileRead) => void) {}

  static async open(path: string, onRead: (read: TokenFileRead) => void): Promise<TokenFile> {
    const file = new TokenFile(path, onRead);
    file.watch = await watchFileContent(path, (text) => file.take(text));
    file.take(await readFile(path, 'utf8').catch(() => undefined));
    return file;
  }

  current(): readonly ApiToken[] {
    return this.tokens;
  }

  close(): void {
    this.watch?.close();
  }

  private take(text: string | undefined): void {
    const read = readTokenText(text, this.path);
    if (read.ok) this.tokens = read.tokens;
    else if (text === undefined) this.tokens = [];
    this.onRead(read);
  }
}
