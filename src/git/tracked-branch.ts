import { redactCredentials } from '../core/remote-url.js';
import { gitClient } from './git-client.js';

export interface TrackedBranch {
  readonly path: string;
  /** the upstream remote's URL, credentials removed */
  readonly remoteUrl: string;
  /** the branch on that remote the checkout follows */
  readonly branch: string;
}

/**
 * The remote branch a checkout follows, from its configuration alone (no network): what a push
 * announced by a webhook is matched against when no check has told it yet. undefined when the
 * path is not a checkout this process can read, or follows nothing on a remote.
 */
export async function trackedBranch(path: string, timeoutMs = 5_000): Promise<TrackedBranch | undefined> {
  try {
    const git = gitClient(path, { timeoutMs });
    const local = (await git.run(['symbolic-ref', '--quiet', '--short', 'HEAD'])).trim();
    const config = await git.run(['config', '--null', '--get-regexp', `^(branch\\.${escape(local)}\\.(remote|merge)|remote\\..*\\.url)$`]);
    const values = new Map<string, string>();
    for (const entry of config.split('\0')) {
      const newline = entry.indexOf('\n');
      if (newline > 0) values.set(entry.slice(0, newline), entry.slice(newline + 1));
    }
    const remote = values.get(`branch.${local}.remote`);
    const merge = values.get(`branch.${local}.merge`);
    if (remote === undefined || remote === '.' || merge === undefined || !merge.startsWith('refs/heads/')) return undefined;
    const url = values.get(`remote.${remote}.url`);
    if (url === undefined) return undefined;
    return { path, remoteUrl: redactCredentials(url), branch: merge.slice('refs/heads/'.length) };
  } catch {
    return undefined;
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
