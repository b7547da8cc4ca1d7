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

/** Which names of a directory matter to a watch; `any`: every name. */
type Places = ReadonlyMap<string, ReadonlySet<string> | 'any'>;

/**
 * The engine of both watches: reads the content when a watched directory says one of its names
 * changed (debounced) and every POLL_MS anyway, and calls `onChange` when the content differs
 * from the last read. `places` is asked again at each check, so that a watch can follow a link
 * that was pointed elsewhere.
 */
async function watchContent(options: {
  readonly read: () => Promise<string | undefined>;
  readonly places: () => Promise<Places>;
  readonly onChange: (content: string | undefined) => void;
}): Promise<FileWatch> {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const watched = new Map<string, { names: ReadonlySet<string> | 'any'; watcher: FSWatcher | undefined }>();
  const read = (): Promise<string | undefined> => options.read().catch(() => undefined);

  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), DEBOUNCE_MS);
  };

  const follow = async (): Promise<void> => {
    const wanted = await options.places();
    if (closed) return;
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
          if (added.names === 'any' || name === null || added.names.has(name)) schedule();
        });
        added.watcher.on('error', () => undefined);
      } catch {
        // a directory that cannot be watched (or is not there yet) is still polled
      }
      watched.set(dir, added);
    }
  };

  let last: string | undefined;
  const check = async (): Promise<void> => {
    await follow();
    const content = await read();
    if (closed || content === last) return;
    last = content;
    options.onChange(content);
  };

  // Resolved before returning, so that a write right after this call is seen as a change.
  last = await read();
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
 * Calls `onChange` with the new text when a file's content changes. Watches the directory,
 * not the file: editors and `git pull` replace a file by rename, which a watch on the old
 * inode would never see. Events are debounced and compared by content, so a touch or a
 * burst of writes triggers one call at most.
 *
 * A file that is a symbolic link is read through it, and the directory of the file it leads
 * to is watched too: birdhouse-deploy's env.local is often a link into a private config
 * checkout, where edits and pulls change the target and never the link.
 */
export function watchFileContent(path: string, onChange: (text: string | undefined) => void): Promise<FileWatch> {
  return watchContent({
    read: () => readFile(path, 'utf8'),
    places: async () => {
      const target = await realpath(path).catch(() => undefined);
      const files = [resolve(path), ...(target === undefined || target === resolve(path) ? [] : [target])];
      const places = new Map<string, Set<string>>();
      for (const file of files) places.set(dirname(file), (places.get(dirname(file)) ?? new Set()).add(basename(file)));
      return places;
    },
    onChange,
  });
}

/**
 * Calls `onChange` when the job files of a directory change: one added, removed or edited.
 * The directory's job files are read as one text (names and contents), compared as
 * watchFileContent compares a file. birdhouse bind-mounts each job file on its own, and an
 * edit on the host of a bind-mounted file raises no event inside the container: the poll
 * is what sees it there.
 */
export function watchDirectoryContent(dir: string, read: (dir: string) => Promise<string | undefined>, onChange: () => void): Promise<FileWatch> {
  return watchContent({ read: () => read(dir), places: async () => new Map([[dir, 'any' as const]]), onChange: () => onChange() });
}
