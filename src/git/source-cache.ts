// A persistent bare repository per source URL: fetching into it again transfers only what
// moved, and a ref that has not moved costs one ref advertisement and no objects.

import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { commitOf, gitClient, OWN_UPLOAD_PACK } from './git-client.js';
import { GitError } from './git-error.js';

export interface CacheFetchOptions {
  /** the URL to fetch from, as the operator wrote it */
  readonly url: string;
  /** branch, tag or full commit id; undefined: the remote's HEAD */
  readonly ref: string | undefined;
  /** GIT_SSH_COMMAND, for ssh URLs */
  readonly sshCommand?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export interface CachedRef {
  /** the commit the ref names */
  readonly commit: string;
  /** what the cache held for this ref before, if anything */
  readonly previous: string | undefined;
  /** false when a commit id was already in the cache: the remote was not contacted at all */
  readonly contacted: boolean;
}

/** The ref asked for does not name a commit on the remote (or names something else). */
export class SourceRefNotFound extends Error {
  readonly url: string;
  readonly ref: string;
  constructor(data: { url: string; ref: string; why: string }, options?: { cause?: unknown }) {
    super(data.why, options);
    this.name = 'SourceRefNotFound';
    this.url = data.url;
    this.ref = data.ref;
  }
}

/** `<cacheRoot>/<name>-<hash of the URL>.git`: one cache per URL, recognisable by name. */
export function cacheDirFor(cacheRoot: string, url: string, name: string | undefined): string {
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 16);
  const safe = (name ?? 'repo').replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(cacheRoot, `${safe}-${hash}.git`);
}

/** Where the cache keeps a ref of the source: its own namespace, never fetched over by anything else. */
export function cacheRefFor(ref: string | undefined): string {
  return `refs/sources/${createHash('sha256').update(ref ?? 'HEAD').digest('hex').slice(0, 16)}`;
}

/** Creates the bare cache repository unless it is there. */
export async function ensureCacheRepo(dir: string): Promise<void> {
  const exists = await stat(path.join(dir, 'HEAD')).then(() => true, () => false);
  if (exists) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await gitClient(dir).run(['init', '--quiet', '--bare']);
}

/** A full commit id (SHA-1 or SHA-256): fetched only when the cache does not have it already. */
function isFullCommitId(ref: string): boolean {
  return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(ref);
}

/**
 * Brings the source's ref into the cache and returns its commit. A branch or tag is fetched
 * alone (protocol v2 advertises only it; an unmoved ref transfers nothing); a full commit id
 * already in the cache is not fetched at all.
 */
export async function fetchIntoCache(dir: string, options: CacheFetchOptions): Promise<CachedRef> {
  const git = gitClient(dir, options);
  const localRef = cacheRefFor(options.ref);
  const previous = await commitOf(git, localRef);
  const ref = options.ref;

  if (ref !== undefined && isFullCommitId(ref)) {
    const known = await commitOf(git, ref);
    if (known !== undefined) {
      // Keep it referenced, so that git's gc never drops it.
      if (previous !== known) await git.run(['update-ref', localRef, known]);
      return { commit: known, previous, contacted: false };
    }
  }

  try {
    await git.run(['fetch', OWN_UPLOAD_PACK, '--quiet', '--no-write-fetch-head', '--no-tags', '--no-recurse-submodules', '--', options.url, `+${ref ?? 'HEAD'}:${localRef}`]);
  } catch (error) {
    if (error instanceof GitError && (error.kind === 'branch-not-found' || /not our ref|unadvertised object|no such remote ref/i.test(error.stderr))) {
      const what = ref === undefined ? 'the remote has no default branch (HEAD)' : `the remote has no branch, tag or commit "${ref}"`;
      throw new SourceRefNotFound({ url: options.url, ref: ref ?? 'HEAD', why: what }, { cause: error });
    }
    throw error;
  }
  const commit = await commitOf(git, localRef);
  if (commit === undefined) {
    throw new SourceRefNotFound({ url: options.url, ref: ref ?? 'HEAD', why: `"${ref ?? 'HEAD'}" on the remote does not name a commit` });
  }
  return { commit, previous, contacted: true };
}
