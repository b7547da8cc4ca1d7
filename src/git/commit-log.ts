import type { ChangedFile } from '../core/checkout.js';
import { gitClient } from './git-client.js';
import { parseNameStatus } from './name-status.js';

export interface CommitSummary {
  readonly commit: string;
  readonly subject: string;
}

/** The commits in `from..to`, newest first, with their subjects (what the deploy log shows). */
export async function commitsBetween(path: string, from: string, to: string, options: { readonly limit?: number; readonly timeoutMs?: number } = {}): Promise<CommitSummary[]> {
  const limit = options.limit ?? 50;
  const out = await gitClient(path, { timeoutMs: options.timeoutMs }).run(['log', `--max-count=${limit}`, '--format=%H%x09%s', `${from}..${to}`]);
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const tab = line.indexOf('\t');
      return { commit: line.slice(0, tab), subject: line.slice(tab + 1) };
    });
}

/** The files that differ between two commits, as `git diff --name-status` tells them. */
export async function changedFilesBetween(path: string, from: string, to: string, options: { readonly timeoutMs?: number } = {}): Promise<ChangedFile[]> {
  return parseNameStatus(await gitClient(path, { timeoutMs: options.timeoutMs }).run(['diff', '--name-status', '--no-renames', from, to, '--']));
}
