// The set to publish, from what each source's commit holds: plain data in, plain data out.

import type { TreeFile } from '../git/tree-files.js';
import { matchesGlob, type CompiledGlob } from '../core/glob.js';

/** git modes of files whose content can be published: regular, and executable (published read-only all the same). */
const REGULAR_FILE = new Set(['100644', '100755']);

export interface Selection {
  /** the files to publish, paths relative to the source's sub-directory */
  readonly files: readonly TreeFile[];
  /** paths the glob matched that are not regular files (symbolic links, submodules): never published */
  readonly skipped: readonly string[];
}

/** A source's set is bounded: more than this many files, or bytes, is refused rather than published. */
export const MAX_SOURCE_FILES = 20_000;
export const MAX_SOURCE_BYTES = 1024 * 1024 * 1024;

/**
 * A path that could leave the target, or name nothing: `..`, `.`, an empty segment, a leading
 * `/`, or a `.git` directory. git refuses to check such trees out; a crafted commit may hold one.
 */
export function unsafeTreePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\0')) return true;
  return path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..' || segment.toLowerCase() === '.git');
}

/** Why a source's tree cannot be published whole, or undefined: a path leaving it, or more than the bounds allow. */
export function treeProblem(files: readonly TreeFile[]): string | undefined {
  const unsafe = files.find((file) => unsafeTreePath(file.path));
  if (unsafe !== undefined) return `the tree holds a path that would leave the target or name git's own files ("${unsafe.path.slice(0, 200)}"); nothing of it is published`;
  if (files.length > MAX_SOURCE_FILES) return `the tree holds ${files.length} files, more than the ${MAX_SOURCE_FILES} a source may publish; narrow its sub-directory or glob`;
  return undefined;
}

/** The files of a source's sub-directory that its glob matches. */
export function selectFiles(files: readonly TreeFile[], glob: CompiledGlob): Selection {
  const selected: TreeFile[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    if (!matchesGlob(glob, file.path)) continue;
    if (REGULAR_FILE.has(file.mode)) selected.push(file);
    else skipped.push(file.path);
  }
  return { files: selected, skipped };
}

export interface SourceSelection {
  /** 1-based, as sources are numbered in messages */
  readonly number: number;
  readonly dest: string;
  readonly files: readonly TreeFile[];
}

export interface PlannedFile {
  /** where it is published, relative to the target */
  readonly path: string;
  readonly oid: string;
  readonly size: number;
  /** the source's number */
  readonly source: number;
}

export interface Collision {
  readonly path: string;
  /** the numbers of the two sources */
  readonly first: number;
  readonly second: number;
  /** same-path: both publish this file; file-and-directory: one publishes a file where the other needs a directory */
  readonly kind: 'same-path' | 'file-and-directory';
}

export type TreePlan =
  | { readonly ok: true; readonly files: readonly PlannedFile[]; readonly contents: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly collisions: readonly Collision[] };

/** Every source's files under its destination, or every place where two sources want the same name. */
export function planTree(sources: readonly SourceSelection[]): TreePlan {
  const owner = new Map<string, number>();
  const dirs = new Map<string, number>();
  const files: PlannedFile[] = [];
  const collisions: Collision[] = [];
  for (const source of sources) {
    for (const file of source.files) {
      const published = source.dest === '' ? file.path : `${source.dest}/${file.path}`;
      const taken = owner.get(published);
      if (taken !== undefined) {
        collisions.push({ path: published, first: taken, second: source.number, kind: 'same-path' });
        continue;
      }
      const dirOwner = dirs.get(published);
      if (dirOwner !== undefined) {
        collisions.push({ path: published, first: dirOwner, second: source.number, kind: 'file-and-directory' });
        continue;
      }
      const parents = ancestors(published);
      const fileAsParent = parents.find((p) => owner.has(p));
      if (fileAsParent !== undefined) {
        collisions.push({ path: fileAsParent, first: owner.get(fileAsParent) ?? 0, second: source.number, kind: 'file-and-directory' });
        continue;
      }
      owner.set(published, source.number);
      for (const p of parents) if (!dirs.has(p)) dirs.set(p, source.number);
      files.push({ path: published, oid: file.oid, size: file.size, source: source.number });
    }
  }
  if (collisions.length > 0) return { ok: false, collisions };
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ok: true, files, contents: Object.fromEntries(files.map((f) => [f.path, f.oid])) };
}

function ancestors(filePath: string): string[] {
  const parts = filePath.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

export interface FileChanges {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/** What a reader of the target would see change: paths added, with other content, and gone. */
export function diffFiles(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): FileChanges {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [file, oid] of Object.entries(after)) {
    const old = Object.hasOwn(before, file) ? before[file] : undefined;
    if (old === undefined) added.push(file);
    else if (old !== oid) changed.push(file);
  }
  for (const file of Object.keys(before)) if (!Object.hasOwn(after, file)) removed.push(file);
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}

export function isEmptyChange(changes: FileChanges): boolean {
  return changes.added.length === 0 && changes.changed.length === 0 && changes.removed.length === 0;
}
