// The versions directory and the target link on disk: every file-system change of a publish
// goes through here, in an order that leaves a usable state wherever a run is stopped.

import { chmod, lstat, mkdir, open, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { blobId } from '../git/blob-id.js';
import { readJsonFile } from '../state/json-file.js';
import { EMPTY_JOURNAL, JournalSchema, type Journal } from './journal.js';
import { isVersionId, journalFile, linkText, manifestFile, STAGING_PREFIX, versionDir, versionOfLink, type NotebookLayout } from './layout.js';
import { ManifestSchema, type VersionManifest } from './manifest.js';

/** What is at the target path. */
export type TargetState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'version'; readonly id: string }
  /** a real directory: the reference script's target, rewritten in place by it */
  | { readonly kind: 'directory' }
  /** a symbolic link that does not point into the versions directory */
  | { readonly kind: 'foreign-link'; readonly text: string }
  | { readonly kind: 'other' };

/** A file-system step of a publish failed; says which and on what path. */
export class NotebookStoreError extends Error {
  readonly path: string;
  readonly step: string;
  constructor(data: { path: string; step: string; advice?: string }, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? (cause instanceof Error ? cause.message : String(cause));
    super(`${data.step} failed on ${data.path} (${code})${data.advice === undefined ? '' : `: ${data.advice}`}`, { cause });
    this.name = 'NotebookStoreError';
    this.path = data.path;
    this.step = data.step;
  }
}

async function step<T>(data: { path: string; step: string; advice?: string }, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new NotebookStoreError(data, error);
  }
}

export async function readTarget(layout: NotebookLayout): Promise<TargetState> {
  const stats = await lstat(layout.target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new NotebookStoreError({ path: layout.target, step: 'looking at the target' }, error);
  });
  if (stats === undefined) return { kind: 'missing' };
  if (stats.isDirectory()) return { kind: 'directory' };
  if (!stats.isSymbolicLink()) return { kind: 'other' };
  const text = await readlink(layout.target);
  const id = versionOfLink(layout, text);
  return id === undefined ? { kind: 'foreign-link', text } : { kind: 'version', id };
}

/** The time the target link was made: the swap's time, when the journal missed it. */
export async function targetLinkTime(layout: NotebookLayout): Promise<Date | undefined> {
  return lstat(layout.target).then((s) => s.mtime, () => undefined);
}

export async function ensureVersionsDir(layout: NotebookLayout): Promise<void> {
  await step({ path: layout.versionsDir, step: 'creating the versions directory' }, () => mkdir(layout.versionsDir, { recursive: true, mode: 0o755 }));
}

/** The complete versions present (directories with a version's name), oldest first. */
export async function listVersions(layout: NotebookLayout): Promise<string[]> {
  const entries = await readdir(layout.versionsDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw new NotebookStoreError({ path: layout.versionsDir, step: 'listing the versions' }, error);
  });
  return entries.filter((e) => e.isDirectory() && isVersionId(e.name)).map((e) => e.name).sort();
}

export function readManifest(layout: NotebookLayout, id: string): Promise<VersionManifest | undefined> {
  return readJsonFile(manifestFile(layout, id), ManifestSchema);
}

export async function readJournal(layout: NotebookLayout): Promise<Journal> {
  return (await readJsonFile(journalFile(layout), JournalSchema)) ?? EMPTY_JOURNAL;
}

/** In the name of a file being written: one left behind by a stopped run is a leftover. */
const TEMPORARY_MARK = '.tmp-';

/** Writes a whole file under a temporary name, syncs it, and renames it into place. */
async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const temporary = `${file}${TEMPORARY_MARK}${process.pid}`;
  const handle = await open(temporary, 'w', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

export async function writeManifest(layout: NotebookLayout, manifest: VersionManifest): Promise<void> {
  const file = manifestFile(layout, manifest.id);
  await step({ path: file, step: 'writing the version\'s manifest' }, () => writeAtomically(file, `${JSON.stringify(manifest, null, 2)}\n`, 0o444));
}

export async function writeJournal(layout: NotebookLayout, journal: Journal): Promise<void> {
  const file = journalFile(layout);
  await step({ path: file, step: 'writing the journal' }, async () => {
    await writeAtomically(file, `${JSON.stringify(journal, null, 2)}\n`, 0o644);
    await syncDir(layout.versionsDir);
  });
}

/** A renamed entry survives a crash only once its directory is synced. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The start of the name of a new link made beside the target before it is renamed over it. */
function swapLinkPrefix(layout: NotebookLayout): string {
  return `.${path.basename(layout.target)}.swap-`;
}

/**
 * Points the target at a version in one step: a new link made beside it, renamed over it.
 * rename(2) replaces the old link atomically, so a reader finds either link, never none.
 */
export async function pointTargetAt(layout: NotebookLayout, id: string): Promise<void> {
  const temporary = path.join(layout.parent, `${swapLinkPrefix(layout)}${id}`);
  await step({ path: layout.target, step: `pointing the target at version ${id}` }, async () => {
    await rm(temporary, { force: true });
    await symlink(linkText(layout, id), temporary);
    await rename(temporary, layout.target);
    await syncDir(layout.parent);
  });
}

/**
 * Moves a directory found at the target into the versions directory, as version `id`. The same
 * directory entry moves, so a running server that mounted it keeps what it saw.
 */
export async function moveTargetAside(layout: NotebookLayout, id: string): Promise<void> {
  await step(
    {
      path: layout.target,
      step: `moving the existing directory to ${versionDir(layout, id)}`,
      advice: 'if the target is a mount point or on another file system than its parent, publish elsewhere (AUTODEPLOY_NOTEBOOK_TARGET_DIR) or make it a plain directory',
    },
    () => rename(layout.target, versionDir(layout, id)),
  );
}

/** Whether a rename over the target failed because something made a directory there meanwhile. */
export function isDirectoryInTheWay(error: unknown): boolean {
  const code = ((error as { cause?: NodeJS.ErrnoException }).cause ?? (error as NodeJS.ErrnoException)).code;
  return code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST';
}

/** Makes a read-only tree writable to its owner again, so that it can be removed by a non-root user too. */
async function unlockTree(dir: string): Promise<void> {
  await chmod(dir, 0o755).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await unlockTree(path.join(dir, entry.name));
}

/** Removes a tree, read-only parts included. */
export async function removeTree(dir: string): Promise<void> {
  await unlockTree(dir);
  await rm(dir, { recursive: true, force: true });
}

export async function removeVersion(layout: NotebookLayout, id: string): Promise<void> {
  const dir = versionDir(layout, id);
  await step({ path: dir, step: `removing version ${id}` }, async () => {
    await removeTree(dir);
    await rm(manifestFile(layout, id), { force: true });
  });
}

/** What an earlier run left half-done: staging directories, temporary links, manifests without their version. */
export async function removeLeftovers(layout: NotebookLayout, present: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  const entries = await readdir(layout.versionsDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(layout.versionsDir, entry.name);
    const orphanManifest = entry.name.endsWith('.json') && entry.name !== path.basename(journalFile(layout)) && !present.has(entry.name.slice(0, -'.json'.length));
    if (entry.name.startsWith(STAGING_PREFIX) || entry.name.includes(TEMPORARY_MARK) || orphanManifest) {
      if (entry.isDirectory()) await unlockTree(full);
      await rm(full, { recursive: true, force: true });
      removed.push(entry.name);
    }
  }
  for (const entry of await readdir(layout.parent).catch(() => [])) {
    if (entry.startsWith(swapLinkPrefix(layout))) {
      await rm(path.join(layout.parent, entry), { force: true });
      removed.push(entry);
    }
  }
  return removed;
}

/**
 * Every regular file under `dir` with the git blob id of its content: what a directory found at
 * the target holds, to compare with the set about to be published.
 */
export async function scanFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true });
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) files[child] = blobId(await readFile(path.join(dir, child)));
    }
  };
  await step({ path: dir, step: 'reading the existing directory' }, () => walk(''));
  return files;
}

export async function renameStagingToVersion(staging: string, layout: NotebookLayout, id: string): Promise<void> {
  const dir = versionDir(layout, id);
  await step({ path: dir, step: 'moving the staged set into place' }, async () => {
    // The staged root is read-only by now; rename needs only the versions directory writable.
    await rename(staging, dir);
    await syncDir(layout.versionsDir);
  });
}

