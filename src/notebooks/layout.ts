// Where a published notebook set lives on disk.
//
//   <parent>/tutorial-notebooks -> .tutorial-notebooks.d/<id>     the target: a relative symbolic link
//   <parent>/.tutorial-notebooks.d/<id>/                            one complete set, read-only
//   <parent>/.tutorial-notebooks.d/<id>.json                        what that set is (sources, commits, files)
//   <parent>/.tutorial-notebooks.d/journal.json                     every swap of the link, with its time
//   <parent>/.tutorial-notebooks.d/.staging-<id>/                   a set being written
//
// JupyterHub's spawner bind-mounts the target into each user's container (birdhouse-deploy's
// custom_dockerspawner.py), and Docker resolves a bind mount's source when the container starts:
// a running server keeps the set it started with, whole, and a server started after a swap gets
// the new one. The link is relative, so it means the same wherever the parent is mounted.

import path from 'node:path';

export interface NotebookLayout {
  /** the path users' servers mount: a symbolic link to the current version */
  readonly target: string;
  readonly parent: string;
  /** `<parent>/.<target name>.d` */
  readonly versionsDir: string;
}

export function notebookLayout(target: string): NotebookLayout {
  const resolved = path.resolve(target);
  const parent = path.dirname(resolved);
  return { target: resolved, parent, versionsDir: path.join(parent, `.${path.basename(resolved)}.d`) };
}

export function versionDir(layout: NotebookLayout, id: string): string {
  return path.join(layout.versionsDir, id);
}

export function manifestFile(layout: NotebookLayout, id: string): string {
  return path.join(layout.versionsDir, `${id}.json`);
}

export function journalFile(layout: NotebookLayout): string {
  return path.join(layout.versionsDir, 'journal.json');
}

export const STAGING_PREFIX = '.staging-';

export function stagingDir(layout: NotebookLayout, id: string): string {
  return path.join(layout.versionsDir, `${STAGING_PREFIX}${id}`);
}

/** The text of the link to a version: relative to the parent. */
export function linkText(layout: NotebookLayout, id: string): string {
  return path.relative(layout.parent, versionDir(layout, id));
}

/** The version a link's text points to, when it points into the versions directory; else undefined. */
export function versionOfLink(layout: NotebookLayout, text: string): string | undefined {
  const resolved = path.resolve(layout.parent, text);
  if (path.dirname(resolved) !== layout.versionsDir) return undefined;
  const id = path.basename(resolved);
  return isVersionId(id) ? id : undefined;
}

/** Version ids are plain names: no dot first (staging and hidden files), no `.json`. */
export function isVersionId(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name);
}

/** `20240131-140502`: the time in a version id, so that ids sort by it. */
function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `base`, or `base-2`, `base-3`… the first not taken. */
function unique(base: string, taken: ReadonlySet<string>): string {
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base}-${n}`;
  return id;
}

/** `20240131-140502-3f2a9c1b`: sorts by time, and says which content it holds. */
export function newVersionId(at: Date, fingerprint: string, taken: ReadonlySet<string>): string {
  return unique(`${stamp(at)}-${fingerprint.slice(0, 8)}`, taken);
}

/** The id a directory found at the target (the reference script's) gets when it is kept as a version. */
export function legacyVersionId(at: Date, taken: ReadonlySet<string>): string {
  return unique(`legacy-${stamp(at)}`, taken);
}
