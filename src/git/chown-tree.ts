import { lchown, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Ownership } from '../core/ownership.js';

/**
 * `chown -R uid:gid path` (or `chown -R uid path`): a pull run as root leaves root-owned files
 * in the operator's checkout. Symbolic links are changed themselves, never followed out of the tree.
 */
export async function chownTree(root: string, ownership: Ownership): Promise<void> {
  const { uid } = ownership;
  // -1: leave the group as it is (chown(2)), as `chown uid` does.
  const gid = ownership.gid ?? -1;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      await lchown(full, uid, gid);
      if (entry.isDirectory()) await walk(full);
    }
  };
  await lchown(root, uid, gid);
  await walk(root);
}
