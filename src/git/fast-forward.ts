// The only two ways the deploy moves a checkout: forward along its upstream, and back to
// where it was. Both leave local work alone: git refuses rather than overwrite it.

import { gitClient } from './git-client.js';
import { GitError } from './git-error.js';

export interface MoveOptions {
  readonly timeoutMs?: number;
}

export interface FastForwardOptions extends MoveOptions {
  /** the commit to move to, best the upstream commit the deploy decided on; the upstream (@{upstream}) when absent */
  readonly to?: string;
}

export interface Move {
  readonly from: string;
  readonly to: string;
}

export type FastForwardRefusal = 'not-fast-forward' | 'local-changes' | 'other';

/** git would not fast-forward: the checkout is exactly as it was. */
export class FastForwardRefused extends Error {
  readonly path: string;
  readonly target: string;
  readonly why: FastForwardRefusal;
  constructor(data: { path: string; target: string; why: FastForwardRefusal }, cause: GitError) {
    const what: Record<FastForwardRefusal, string> = {
      'not-fast-forward': 'it has commits the target does not have, and a deploy never makes a merge commit',
      'local-changes': 'local changes would be overwritten; commit, stash or remove them',
      'other': 'git refused',
    };
    super(`${data.path} was not fast-forwarded to ${data.target}: ${what[data.why]} (${cause.message})`, { cause });
    this.name = 'FastForwardRefused';
    this.path = data.path;
    this.target = data.target;
    this.why = data.why;
  }
}

/** git would not move the checkout back without losing local changes: it is left where it was. */
export class MoveBackRefused extends Error {
  readonly path: string;
  readonly commit: string;
  constructor(data: { path: string; commit: string }, cause: GitError) {
    const why = /not uptodate|would be overwritten/i.test(cause.stderr)
      ? `local changes in files that differ would be lost; save them, then run git reset --keep ${data.commit} there`
      : 'git refused';
    super(`${data.path} was not moved back to ${data.commit}: ${why} (${cause.message})`, { cause });
    this.name = 'MoveBackRefused';
    this.path = data.path;
    this.commit = data.commit;
  }
}

/** The commit checked out at `path`. */
export async function headOf(path: string, options: MoveOptions = {}): Promise<string> {
  return (await gitClient(path, { timeoutMs: options.timeoutMs }).run(['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
}

/**
 * `git merge --ff-only`: moves the branch forward to the target, or refuses. It never makes a
 * merge commit, and it refuses when local changes would be overwritten; local changes to
 * other files are carried along as they are. A checkout already at (or past) the target stays put.
 */
export async function fastForward(path: string, options: FastForwardOptions = {}): Promise<Move> {
  const target = options.to ?? '@{upstream}';
  const from = await headOf(path, options);
  try {
    await gitClient(path, { timeoutMs: options.timeoutMs }).run(['merge', '--ff-only', '--no-edit', '--no-stat', '--end-of-options', target]);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    throw new FastForwardRefused({ path, target, why: refusal(error.stderr) }, error);
  }
  return { from, to: await headOf(path, options) };
}

function refusal(stderr: string): FastForwardRefusal {
  if (/would be overwritten by merge|Please commit your changes or stash them/i.test(stderr)) return 'local-changes';
  if (/Not possible to fast-forward/i.test(stderr)) return 'not-fast-forward';
  return 'other';
}

/**
 * `git reset --keep`: moves the branch back to `commit`, for a rollback. Unlike --hard it
 * keeps local changes, and refuses when one is in a file that differs between the two commits.
 */
export async function moveBack(path: string, commit: string, options: MoveOptions = {}): Promise<Move> {
  const from = await headOf(path, options);
  const git = gitClient(path, { timeoutMs: options.timeoutMs });
  try {
    // reset takes no --end-of-options (git 2.39): the commit id it is given cannot look like an option.
    const id = (await git.run(['rev-parse', '--verify', '--end-of-options', `${commit}^{commit}`])).trim();
    await git.run(['reset', '--keep', id]);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    throw new MoveBackRefused({ path, commit }, error);
  }
  return { from, to: await headOf(path, options) };
}
