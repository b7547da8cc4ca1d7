import { createHash, randomUUID } from 'node:crypto';
import { link, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';

const HolderSchema = z.object({
  host: z.string(),
  pid: z.number(),
  startedAt: z.string(),
  purpose: z.string(),
  /** when every deadline of the holder's work has passed: a holder still there then is stuck */
  expiresAt: z.string().optional(),
});
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
  /**
   * How long this holder's work can take when every step of it runs to its deadline. Written in
   * the lock: past it, the lock is stale whatever `isAlive` says.
   */
  readonly deadlineMs?: number;
  /** A lock that names no deadline and is older than this is stale whatever `isAlive` says. */
  readonly maxAgeMs?: number;
  readonly now?: () => Date;
}

const DEFAULT_MAX_AGE_MS = 6 * 3_600_000;
const LOCK_NAME = 'deploy.lock';
/** A takeover or a release in progress, named after the lock text it is about. */
const MARKER_INFIX = '.takeover-';

/**
 * One deploy at a time, across containers and restarts: a lock file in the state directory
 * (shared by the scheduler and every deploy container), created with link(2), which fails when
 * the name exists. A lock whose holder is dead, or past its deadline, is taken over; see
 * `takeOver` for why two contenders cannot both take the same stale lock.
 */
export async function acquireDeployLock(options: LockOptions): Promise<LockResult> {
  const path = join(options.stateDir, LOCK_NAME);
  const now = options.now ?? (() => new Date());
  const started = now();
  const holder: LockHolder = {
    host: hostname(),
    pid: process.pid,
    startedAt: started.toISOString(),
    purpose: options.purpose,
    ...(options.deadlineMs === undefined ? {} : { expiresAt: new Date(started.getTime() + options.deadlineMs).toISOString() }),
  };
  const text = `${JSON.stringify(holder)}\n`;
  // Written whole under a name of its own, then linked (or renamed) to the lock's name: another
  // deploy never finds the lock empty or half written (which it would take for a stale lock).
  const draft = `${path}.${randomUUID()}.tmp`;
  const file = await open(draft, 'wx', 0o644);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(draft, path);
        return { acquired: true, lock: heldLock(path, holder, text) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const existingText = await readFile(path, 'utf8').catch(() => undefined);
      if (existingText === undefined) continue; // released meanwhile: try again
      const existing = parseHolder(existingText);
      if (existing !== undefined && !(await isStale(existing, options, now()))) return { acquired: false, holder: existing };
      const outcome = await takeOver(path, existingText, draft);
      if (outcome === 'taken') return { acquired: true, lock: heldLock(path, holder, text) };
      if (outcome === 'lost') break;
    }
  } finally {
    await rm(draft, { force: true });
  }
  const current = parseHolder((await readFile(path, 'utf8').catch(() => undefined)) ?? '');
  return { acquired: false, holder: current ?? { host: 'unknown', pid: 0, startedAt: now().toISOString(), purpose: 'unknown' } };
}

async function isStale(holder: LockHolder, options: LockOptions, now: Date): Promise<boolean> {
  if (pastDeadline(holder, now, options.maxAgeMs)) return true;
  return !(await options.isAlive(holder));
}

/** Whether the holder has outlived every deadline of its work (or, naming none, the longest a deploy may take). */
export function pastDeadline(holder: LockHolder, now: Date, maxAgeMs = DEFAULT_MAX_AGE_MS): boolean {
  if (holder.expiresAt !== undefined) return now.getTime() > new Date(holder.expiresAt).getTime();
  return now.getTime() - new Date(holder.startedAt).getTime() > maxAgeMs;
}

/**
 * Replaces the stale lock whose text is `staleText` with the draft. Removing a stale lock and
 * then creating one is not enough: a second contender that judged the same lock stale a moment
 * later would remove the first one's fresh lock and create its own. So a takeover first
 * creates a marker named after the stale lock's text, exclusively: of all contenders for that
 * lock, one creates it. That one checks the lock still holds the same text (the holder may have
 * released it, and someone else locked it since), then renames its draft over it in one step.
 * A holder releases under the same marker, so a takeover and a late release never cross.
 */
async function takeOver(path: string, staleText: string, draft: string): Promise<'taken' | 'lost' | 'retry'> {
  const marker = markerOf(path, staleText);
  try {
    await link(draft, marker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'lost';
    throw error;
  }
  try {
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current !== staleText) return 'retry';
    await rename(draft, path);
    return 'taken';
  } finally {
    await rm(marker, { force: true });
  }
}

function markerOf(path: string, lockText: string): string {
  return `${path}${MARKER_INFIX}${createHash('sha256').update(lockText).digest('hex').slice(0, 32)}`;
}

function heldLock(path: string, holder: LockHolder, text: string): DeployLock {
  return {
    holder,
    async release() {
      // Only our own lock, and not while someone takes it over: the marker a takeover of our
      // lock would create is ours for the moment, so the lock cannot change between the look and the removal.
      const marker = markerOf(path, text);
      let handle;
      try {
        handle = await open(marker, 'wx', 0o644);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return; // taken over: no longer ours
        throw error;
      }
      await handle.close();
      try {
        if ((await readFile(path, 'utf8').catch(() => undefined)) === text) await rm(path, { force: true });
      } finally {
        await rm(marker, { force: true });
      }
    },
  };
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    return HolderSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The lock as `status` shows it: its holder, and a takeover marker left by a contender that died midway. */
export interface LockView {
  readonly holder: LockHolder | undefined;
  /** the lock file is there but cannot be read as a holder */
  readonly unreadable: boolean;
  /** markers older than a minute: a takeover that died between its two steps blocks later ones */
  readonly leftoverMarkers: readonly string[];
}

export async function readDeployLock(stateDir: string, now = new Date()): Promise<LockView> {
  const path = join(stateDir, LOCK_NAME);
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const names = await readdir(dirname(path)).catch((): string[] => []);
  const leftoverMarkers: string[] = [];
  for (const name of names.filter((n) => n.startsWith(`${basename(path)}${MARKER_INFIX}`))) {
    const info = await stat(join(stateDir, name)).catch(() => undefined);
    if (info !== undefined && now.getTime() - info.mtimeMs > 60_000) leftoverMarkers.push(join(stateDir, name));
  }
  return { holder: text === undefined ? undefined : parseHolder(text), unreadable: text !== undefined && parseHolder(text) === undefined, leftoverMarkers };
}
