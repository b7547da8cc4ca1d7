import type { GitErrorKind } from '../core/checkout.js';
import { redactCredentials } from '../core/remote-url.js';

export type { GitErrorKind };


// Order matters: a changed host key also prints "Host key verification failed", and
// ssh's refusals are followed by git's generic "Could not read from remote repository".
const RULES: ReadonlyArray<readonly [GitErrorKind, RegExp]> = [
  ['host-key-changed', /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/i],
  ['host-key-unknown', /No \S+ host key is known for|Host key verification failed/i],
  ['auth-refused', /Permission denied \(|Permission to \S+ denied|denied to deploy key|Authentication failed|HTTP Basic: Access denied|requested URL returned error: 40[13]|could not read (Username|Password)|terminal prompts disabled|Invalid username or password|Too many authentication failures/i],
  ['repo-not-found', /Repository not found|repository '[^']*' not found|does not appear to be a git repository|requested URL returned error: 404|No such repository|could not be found or you don't have permission/i],
  ['branch-not-found', /couldn't find remote ref|no such ref was fetched/i],
  ['timeout', /timed out during banner exchange|Timeout, server \S+ not responding|Operation too slow|Operation timed out after/i],
  ['unreachable', /Could not resolve hostname|Could not resolve host|Connection refused|Connection timed out|No route to host|Network is unreachable|Failed to connect to|Connection reset by peer|Connection closed by|kex_exchange_identification|unable to access/i],
];

/** What went wrong, from what git (and ssh or curl under it) wrote to stderr. */
export function classifyGitError(stderr: string): GitErrorKind {
  for (const [kind, pattern] of RULES) {
    if (pattern.test(stderr)) return kind;
  }
  return 'other';
}

const NOISE = [
  /^fatal: Could not read from remote repository\.?$/,
  /^Please make sure you have the correct access rights$/,
  /^and the repository exists\.?$/,
  /^@+$/,
  /^@ +WARNING: .* +@$/,
];

/** The lines of git's stderr that say something, on one line, without credentials. */
export function summarizeStderr(stderr: string, maxLength = 400): string {
  const lines = redactCredentials(stderr)
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !NOISE.some((pattern) => pattern.test(line)));
  const text = lines.join(' / ');
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

export interface GitErrorData {
  readonly args: readonly string[];
  readonly repoPath: string;
  /** undefined when git did not exit on its own (killed, or never started) */
  readonly exitCode: number | undefined;
  readonly stderr: string;
  /** the silence after which git was stopped, when that is what ended it */
  readonly timedOutAfterMs: number | undefined;
}

/** A git command that failed, with what it was, where, and what git said. */
export class GitError extends Error {
  readonly args: readonly string[];
  /** `git <args>`, credentials redacted */
  readonly command: string;
  readonly repoPath: string;
  readonly exitCode: number | undefined;
  /** git's stderr, credentials redacted */
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly kind: GitErrorKind;

  constructor(data: GitErrorData, options?: { cause?: unknown }) {
    const command = redactCredentials(['git', ...data.args].join(' '));
    const stderr = redactCredentials(data.stderr);
    const timedOut = data.timedOutAfterMs !== undefined;
    const what = timedOut
      ? `was stopped after ${Math.round((data.timedOutAfterMs ?? 0) / 1000)} s without progress`
      : data.exitCode === undefined ? 'failed' : `failed with exit code ${data.exitCode}`;
    const said = summarizeStderr(stderr);
    super(`${command} in ${data.repoPath} ${what}${said === '' ? '' : `: ${said}`}`, options);
    this.name = 'GitError';
    this.args = data.args;
    this.command = command;
    this.repoPath = data.repoPath;
    this.exitCode = data.exitCode;
    this.stderr = stderr;
    this.timedOut = timedOut;
    this.kind = timedOut ? 'timeout' : classifyGitError(stderr);
  }
}
