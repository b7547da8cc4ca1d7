import { lchown, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface Ownership {
  readonly uid: number;
  readonly gid: number;
}

/** AUTODEPLOY_CODE_OWNERSHIP is not `uid:gid` in numbers. */
export class OwnershipFormatError extends Error {
  readonly value: string;
  constructor(value: string) {
    super(`"${value}" is not an ownership of the form uid:gid in numbers (e.g. 1000:1000): names differ between the container and the host, numbers do not`);
    this.name = 'OwnershipFormatError';
    this.value = value;
  }
}

export function parseOwnership(value: string): Ownership {
  const match = /^\s*(\d+):(\d+)\s*$/.exec(value);
  if (match === null) throw new OwnershipFormatError(value);
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

/**
 * `chown -R uid:gid path`: a pull run as root leaves root-owned files in the operator's
 * checkout. Symbolic links are changed themselves, never followed out of the tree.
 */
export async function chownTree(root: string, ownership: string | Ownership): Promise<void> {
  const { uid, gid } = typeof ownership === 'string' ? parseOwnership(ownership) : ownership;
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
