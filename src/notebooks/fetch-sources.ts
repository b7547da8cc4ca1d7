// Brings every source's ref into its git cache and lists what its commit holds. A source
// that cannot be had is a result with a reason, never a throw: the caller decides, with all
// of them in hand, whether anything is published.

import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DeployKeyChoice } from '../core/checkout.js';
import { chooseDeployKey } from '../git/deploy-keys.js';
import { describeFetchFailure } from '../git/fetch-failure.js';
import { GitError } from '../git/git-error.js';
import { sshSetup } from '../git/known-hosts.js';
import { knownHostsName, redactCredentials } from '../core/remote-url.js';
import { repositoryName } from '../git/repo-name.js';
import { cacheDirFor, ensureCacheRepo, fetchIntoCache, SourceRefNotFound, type CachedRef } from '../git/source-cache.js';
import type { HostKeyPolicy } from '../git/ssh-command.js';
import { listTreeFiles, type TreeFile } from '../git/tree-files.js';
import { compileGlob } from '../core/glob.js';
import { shortId } from '../core/short-id.js';
import { MAX_SOURCE_BYTES, selectFiles, treeProblem } from './plan.js';
import type { NotebookSource } from '../core/notebook-source.js';

export interface FetchSettings {
  /** `<stateDir>/notebooks/cache` */
  readonly cacheRoot: string;
  readonly keyRootDir: string | undefined;
  readonly hostKeys: HostKeyPolicy;
  readonly timeoutMs?: number | undefined;
  readonly connectTimeoutSeconds?: number | undefined;
}

interface SourceCommon {
  /** 1-based */
  readonly number: number;
  readonly source: NotebookSource;
  /** how messages name it: number, URL without credentials, ref */
  readonly label: string;
  readonly cacheDir: string;
  readonly key: DeployKeyChoice;
}

export type SourceResult =
  | (SourceCommon & {
    readonly ok: true;
    readonly commit: string;
    /** the commit the cache had for this ref before the run */
    readonly previous: string | undefined;
    readonly files: readonly TreeFile[];
    /** matched by the glob but not regular files: not published */
    readonly skipped: readonly string[];
  })
  | (SourceCommon & { readonly ok: false; readonly reason: string });

const NO_KEY: DeployKeyChoice = { path: undefined, reason: 'none' };

/** `source 2 (env.local line 31: ssh://git@host/notebooks.git main)` */
export function sourceLabel(source: NotebookSource, number: number): string {
  const where = source.line === undefined ? '' : `line ${source.line}: `;
  const parts = [redactCredentials(source.url), source.ref ?? '(default branch)'];
  if (source.subdir !== '') parts.push(`${source.subdir}/`);
  return `source ${number} (${where}${parts.join(' ')})`;
}

/**
 * Fetches every source. Sources with the same URL share a cache and are fetched one after the
 * other; different caches are fetched at once, since they spend their time on the network.
 */
export async function fetchSources(sources: readonly NotebookSource[], settings: FetchSettings): Promise<SourceResult[]> {
  const byCache = new Map<string, number[]>();
  sources.forEach((source, index) => {
    const dir = cacheDirFor(settings.cacheRoot, source.url, repositoryName(source.url));
    byCache.set(dir, [...(byCache.get(dir) ?? []), index]);
  });
  const results: SourceResult[] = new Array<SourceResult>(sources.length);
  await Promise.all(
    [...byCache.entries()].map(async ([cacheDir, indexes]) => {
      for (const index of indexes) {
        const source = sources[index];
        if (source !== undefined) results[index] = await fetchSource(source, index + 1, cacheDir, settings);
      }
    }),
  );
  return results;
}

async function fetchSource(source: NotebookSource, number: number, cacheDir: string, settings: FetchSettings): Promise<SourceResult> {
  const label = sourceLabel(source, number);
  let common: SourceCommon = { number, source, label, cacheDir, key: NO_KEY };
  const fail = (reason: string): SourceResult => ({ ...common, ok: false, reason });
  try {
    let sshCommand: string | undefined;
    if (knownHostsName(source.url) !== undefined) {
      const name = repositoryName(source.url);
      if (name === undefined) return fail(`${label}: the URL names no repository, so no deploy key can be chosen for it; check the URL`);
      // Keyed by the repository's name, as a checkout's key is by its directory's name.
      const pick = await chooseDeployKey(settings.keyRootDir, name);
      common = { ...common, key: pick.key };
      if (pick.problem !== undefined) return fail(`${label}: ${pick.problem}`);
      const setup = await sshSetup({ ...settings.hostKeys, key: pick.key, connectTimeoutSeconds: settings.connectTimeoutSeconds });
      if (!('command' in setup)) return fail(`${label}: ${setup.problem}`);
      sshCommand = setup.command;
    }

    await ensureCacheRepo(cacheDir);
    let fetched: CachedRef;
    try {
      fetched = await fetchIntoCache(cacheDir, {
        url: source.url,
        ref: source.ref,
        sshCommand,
        timeoutMs: settings.timeoutMs,
      });
    } catch (error) {
      if (error instanceof SourceRefNotFound) {
        return fail(`${label}: ${error.message}; fix the ref in AUTODEPLOY_NOTEBOOK_SOURCES, or push it`);
      }
      if (error instanceof GitError) {
        return fail(describeFetchFailure(error, {
          checkout: label,
          remoteUrl: redactCredentials(source.url),
          remoteRef: source.ref ?? 'HEAD',
          key: common.key,
          hostKeys: settings.hostKeys,
        }));
      }
      throw error;
    }

    const short = shortId(fetched.commit);
    const listing = await listTreeFiles(cacheDir, fetched.commit, source.subdir, { timeoutMs: settings.timeoutMs });
    if (listing.kind === 'missing') return fail(`${label}: the sub-directory "${source.subdir}" does not exist at commit ${short}`);
    if (listing.kind === 'not-a-directory') return fail(`${label}: "${source.subdir}" is a file at commit ${short}, not a directory`);
    const problem = treeProblem(listing.files);
    if (problem !== undefined) return fail(`${label}: at commit ${short}, ${problem}`);
    const glob = compileGlob(source.glob);
    if (!glob.ok) return fail(`${label}: glob "${source.glob}" ${glob.problem}`);
    const selection = selectFiles(listing.files, glob.glob);
    const bytes = selection.files.reduce((sum, file) => sum + file.size, 0);
    if (bytes > MAX_SOURCE_BYTES) {
      return fail(`${label}: at commit ${short}, the matching files hold ${bytes} bytes, more than the ${MAX_SOURCE_BYTES} a source may publish; narrow its sub-directory or glob`);
    }
    if (selection.files.length === 0) {
      // Publishing a set without this source's notebooks would take them from every user.
      return fail(`${label}: no file matches "${source.glob}" in ${source.subdir === '' ? 'the repository' : `"${source.subdir}"`} at commit ${short}; check the sub-directory and the glob`);
    }
    return { ...common, ok: true, commit: fetched.commit, previous: fetched.previous, files: selection.files, skipped: selection.skipped };
  } catch (error) {
    return fail(`${label}: ${error instanceof Error ? redactCredentials(error.message) : String(error)}`);
  }
}

/** Removes the caches of URLs no source uses any more; returns their names. */
export async function removeUnusedCaches(cacheRoot: string, sources: readonly NotebookSource[]): Promise<string[]> {
  const used = new Set(sources.map((source) => path.basename(cacheDirFor(cacheRoot, source.url, repositoryName(source.url)))));
  const unused = (await readdir(cacheRoot).catch(() => [])).filter((name) => name.endsWith('.git') && !used.has(name));
  for (const name of unused) await rm(path.join(cacheRoot, name), { recursive: true, force: true });
  return unused;
}
