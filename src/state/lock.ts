import { randomUUID } from 'node:crypto';
import { link, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const HolderSchema = z.object({ host: z.string(), pid: z.number(), startedAt: z.string(), purpose: z.string() });
export type LockHolder = z.infer<typeof HolderSchema>;

export interface DeployLock {
  readonly holder: LockHolder;
  release(): Promise<void>;
}

export type LockResult = { readonly acquired: true; readonly lock: DeployLock } | { readonly acquired: false; readonly holder: LockHolder };

export interface LockOptions {
  readonly stateDir: string;
  readonly purpose: string;
  /**
   * Whether the holder of an existing lock is still alive. Deploys run in containers, so a
   * holder is identified by its host name (the container's id) and pid; the caller asks Docker.
   */
  readonly isAlive: (holder: LockHolder) => Promise<boolean>;
  /** A lock older than this is stale whatever `isAlive` says: no deploy takes that long. */
  readonly maxAgeMs?: number;
  readonly now?: () => Date;
}

const DEFAULT_MAX_AGE_MS = 6 * 3_600_000;

/**
 * One deploy at a time, across containers and restarts: a lock file in the state directory
 * (shared by the scheduler and every deploy container), created with O_EXCL. A lock left by
 * a deploy container that died is recognised as stale and taken over.
 */
export async function acquireDeployLock(options: LockOptions): Promise<LockResult> {
  const path = join(options.stateDir, 'deploy.lock');
  const now = options.now ?? (() => new Date());
  const holder: LockHolder = { host: hostname(), pid: process.pid, startedAt: now().toISOString(), purpose: options.purpose };
  // Written whole under a name of its own, then linked to the lock's name: link(2) fails when the
  // name exists, as O_EXCL does, and another deploy never finds the lock empty or half written
  // (which it would take for a stale lock, and take over).
  const draft = `${path}.${randomUUID()}.tmp`;
  const file = await open(draft, 'wx', 0o644);
  try {
    await file.writeFile(`${JSON.stringify(holder)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(draft, path);
        return { acquired: true, lock: heldLock(path, holder) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const existing = await readHolder(path);
      const age = existing ? now().getTime() - new Date(existing.startedAt).getTime() : Number.POSITIVE_INFINITY;
      const stale = existing === undefined || age > (options.maxAgeMs ?? DEFAULT_MAX_AGE_MS) || !(await options.isAlive(existing));
      if (!stale) return { acquired: false, holder: existing };
      await rm(path, { force: true });
    }
  } finally {
    await rm(draft, { force: true });
  }
  const existing = await readHolder(path);
  return { acquired: false, holder: existing ?? { host: 'unknown', pid: 0, startedAt: now().toISOString(), purpose: 'unknown' } };
}

function heldLock(path: string, holder: LockHolder): DeployLock {
  return {
    holder,
    async release() {
      // Only our own lock: a takeover after we were judged stale must not be undone by us.
      const current = await readHolder(path);
      if (current && current.host === holder.host && current.pid === holder.pid && current.startedAt === holder.startedAt) {
        await rm(path, { force: true });
      }
    },
  };
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return HolderSchema.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return undefined;
  }
}
