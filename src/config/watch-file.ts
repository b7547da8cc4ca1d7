import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

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
 */
export async function watchFileContent(
  path: string,
  onChange: (text: string | undefined) => void,
): Promise<FileWatch> {
  let last: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const check = async (): Promise<void> => {
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
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), DEBOUNCE_MS);
  };

  // Resolved before returning, so that a write right after this call is seen as a change.
  last = await readFile(path, 'utf8').catch(() => undefined);

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, name) => {
      if (name === null || name === basename(path)) schedule();
    });
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined;
  }
  // A bind-mounted file edited on the host does not always raise inotify events inside a
  // container (the mount pins the old inode); a slow poll catches what the watch misses.
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
