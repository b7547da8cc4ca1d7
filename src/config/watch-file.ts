import { watch, type FSWatcher } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface FileWatch {
  close(): void;
}

/** Quiet time after the last event before the file is read. */
const DEBOUNCE_MS = 300;
/** How often the file is read anyway. */
const POLL_MS = 5_000;

/**
 * Calls `onChange` with the new text when a file's content changes. Watches the directory,
 * not the file: editors and `git pull` replace a file by rename, which a watch on the old
 * inode would never see. Events are debounced and compared by content, so a touch or a
 * burst of writes triggers one call at most.
 *
 * A file that is a symbolic link is read through it, and the directory of the file it leads
 * to is watched too: birdhouse-deploy's env.local is often a link into a private config
 * checkout, where edits and pulls change the target and never the link.
 */
export async function watchFileContent(
  path: string,
  onChange: (text: string | undefined) => void,
): Promise<FileWatch> {
  let last: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  /** directory → the names in it that matter, and its watch */
  const watched = new Map<string, { names: Set<string>; watcher: FSWatcher | undefined }>();

  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), DEBOUNCE_MS);
  };

  /** Watches the file's directory and its target's; a link pointed elsewhere moves the second watch. */
  const follow = async (): Promise<void> => {
    const target = await realpath(path).catch(() => undefined);
    const files = [resolve(path), ...(target === undefined || target === resolve(path) ? [] : [target])];
    if (closed) return;
    const wanted = new Map<string, Set<string>>();
    for (const file of files) wanted.set(dirname(file), (wanted.get(dirname(file)) ?? new Set()).add(basename(file)));
    for (const [dir, entry] of watched) {
      if (!wanted.has(dir)) {
        entry.watcher?.close();
        watched.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      const entry = watched.get(dir);
      if (entry !== undefined) {
        entry.names = names;
        continue;
      }
      const added = { names, watcher: undefined as FSWatcher | undefined };
      try {
        added.watcher = watch(dir, (_event, name) => {
          if (name === null || added.names.has(name)) schedule();
        });
        added.watcher.on('error', () => undefined);
      } catch {
        // a directory that cannot be watched is still polled
      }
      watched.set(dir, added);
    }
  };

  const check = async (): Promise<void> => {
    await follow();
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      text = undefined;
    }
    if (closed || text === last) return;
    last = text;
    onChange(text);
  };

  // Resolved before returning, so that a write right after this call is seen as a change.
  last = await readFile(path, 'utf8').catch(() => undefined);
  await follow();

  // A bind-mounted file edited on the host does not always raise inotify events inside a
  // container (the mount pins the old inode); a slow poll catches what the watch misses.
  const poll = setInterval(schedule, POLL_MS);
  poll.unref();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      for (const entry of watched.values()) entry.watcher?.close();
      watched.clear();
    },
  };
}

/**
 * Calls `onChange` when the job files of a directory change: one added, removed or edited.
 * The directory's job files are read as one text (names and contents), compared as
 * watchFileContent compares a file. birdhouse bind-mounts each job file on its own, and an
 * edit on the host of a bind-mounted file raises no event inside the container: the poll
 * is what sees it there.
 */
export async function watchDirectoryContent(
  dir: string,
  read: (dir: string) => Promise<string | undefined>,
  onChange: () => void,
): Promise<FileWatch> {
  let last = await read(dir).catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const check = async (): Promise<void> => {
    const now = await read(dir).catch(() => undefined);
    if (closed || now === last) return;
    last = now;
    onChange();
  };
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), DEBOUNCE_MS);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, () => schedule());
    watcher.on('error', () => undefined);
  } catch {
    // A directory that does not exist yet is found by the poll once it does.
    watcher = undefined;
  }
  const poll = setInterval(schedule, POLL_MS);
  poll.unref();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
