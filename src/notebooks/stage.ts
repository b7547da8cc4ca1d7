// Writes a complete set beside the target, before anything points at it: every file from the
// git cache, owned by the configured owner, then made read-only from the leaves up.

import { chmod, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { Ownership } from '../core/ownership.js';
import { chownTree } from '../git/chown-tree.js';
import { readBlob } from '../git/tree-files.js';
import type { PlannedFile } from './plan.js';
import { NotebookStoreError, removeTree, syncDir } from './version-store.js';

export const FILE_MODE = 0o444;
export const DIR_MODE = 0o555;
/** blobs read from git at once: each is its own git process */
const PARALLEL_READS = 8;

export interface StageInput {
  readonly dir: string;
  readonly files: readonly PlannedFile[];
  /** the git cache each source's blobs are read from, by source number */
  readonly cacheOf: (source: number) => string;
  readonly owner: Ownership;
  readonly timeoutMs?: number | undefined;
}

/** Writes the set into `dir` (which must not exist) and leaves it read-only and synced. */
export async function stageSet(input: StageInput): Promise<void> {
  const dirs = new Set<string>([input.dir]);
  try {
    await mkdir(input.dir, { mode: 0o755 });
    for (const file of input.files) {
      for (let d = path.dirname(path.join(input.dir, file.path)); d !== input.dir; d = path.dirname(d)) dirs.add(d);
    }
    for (const d of [...dirs].sort()) await mkdir(d, { recursive: true, mode: 0o755 });

    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < input.files.length; i = next++) {
        const file = input.files[i];
        if (file === undefined) continue;
        const content = await readBlob(input.cacheOf(file.source), file.oid, { timeoutMs: input.timeoutMs });
        const handle = await open(path.join(input.dir, file.path), 'wx', FILE_MODE);
        try {
          await handle.writeFile(content);
          // chmod too: the process umask may have taken bits off the mode given to open.
          await handle.chmod(FILE_MODE);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, input.files.length) }, worker));

    await chownTree(input.dir, input.owner);
    // Deepest first: a directory is made read-only once everything in it is written and synced.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      await syncDir(d);
      await chmod(d, DIR_MODE);
    }
  } catch (error) {
    // A half-written set is of no use; the next run would remove it anyway.
    await removeTree(input.dir).catch(() => undefined);
    if (error instanceof NotebookStoreError) throw error;
    throw new NotebookStoreError({ path: input.dir, step: 'writing the new set' }, error);
  }
}
