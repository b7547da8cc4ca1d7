// What a commit holds under a directory, read from a repository without a work tree.

import { gitClient } from './git-client.js';
import { GitError } from './git-error.js';

export interface TreeFile {
  /** relative to the directory listed, with `/` between directories */
  readonly path: string;
  /** git's file mode: 100644, 100755, 120000 (symbolic link), 160000 (submodule) */
  readonly mode: string;
  readonly oid: string;
  readonly size: number;
}

export type TreeListing =
  | { readonly kind: 'tree'; readonly files: readonly TreeFile[] }
  | { readonly kind: 'missing' }
  | { readonly kind: 'not-a-directory' };

/** Every file under `subdir` ('' for the root) at `commit`, recursively, with its blob id. */
export async function listTreeFiles(dir: string, commit: string, subdir: string, options: { timeoutMs?: number | undefined } = {}): Promise<TreeListing> {
  const git = gitClient(dir, options);
  const treeish = subdir === '' ? `${commit}^{tree}` : `${commit}:${subdir}`;
  const type = await git.run(['cat-file', '-t', '--end-of-options', treeish]).then(
    (out) => out.trim(),
    (error: unknown) => {
      if (error instanceof GitError && /does not exist in|Not a valid object name|exists on disk, but not in/i.test(error.stderr)) return 'missing';
      throw error;
    },
  );
  if (type === 'missing') return { kind: 'missing' };
  if (type !== 'tree') return { kind: 'not-a-directory' };
  const out = await git.run(['ls-tree', '-r', '-z', '-l', '--end-of-options', treeish]);
  const files: TreeFile[] = [];
  for (const record of out.split('\0')) {
    if (record === '') continue;
    // "<mode> SP <type> SP <object> SP+ <size> TAB <path>"
    const match = /^(\d{6}) (\w+) ([0-9a-f]+) +(\S+)\t(.*)$/s.exec(record);
    if (match === null) continue;
    const [, mode = '', , oid = '', size = '', filePath = ''] = match;
    files.push({ path: filePath, mode, oid, size: size === '-' ? 0 : Number(size) });
  }
  return { kind: 'tree', files };
}

/** The bytes of one blob of the cache. */
export function readBlob(dir: string, oid: string, options: { timeoutMs?: number | undefined } = {}): Promise<Buffer> {
  return gitClient(dir, options).showBytes(oid);
}
