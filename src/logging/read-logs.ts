// Reading logs back, for `autodeploy logs [job] [-f] [--since T]` and for
// re-attaching to a run after a restart. Files are read oldest first; a
// follower moves from one file to the next by their order, not by the
// symlink, so a burst of rotations loses nothing. Over 300 lines as one file: reading,
// following and counting a run's lines share the order of the rolled files and one parser.

import { watch, type FSWatcher } from 'node:fs';
import { lstat, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLogLine, type LogRecord } from './format.js';
import { LogFileError, describeCause } from './log-errors.js';
import { isLogName,
  compareRolledKeys,
  logLinkPath,
  rolledFiles,
  rolledFilesDir,
  type RolledFileKey,
} from './log-layout.js';

/** One line of a log file; `record` is undefined for a line in neither format. */
export interface LogEntry {
  readonly file: string;
  readonly line: string;
  readonly record: LogRecord | undefined;
}

export interface ReadLogsOptions {
  readonly dir: string;
  /** `scheduler` or a job name */
  readonly name: string;
  /** skip records older than this; a line in neither format goes with the record before it */
  readonly since?: Date;
  /** start with only the last this many entries (after `since`) */
  readonly last?: number;
  /** keep reading new lines until `signal` fires */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
  /** longest wait between two looks at the files when following; default 500 ms */
  readonly pollMs?: number;
}

interface LogFileRef {
  readonly path: string;
  /** a regular file at the stable path, not yet adopted into the numbered files, sorts last */
  readonly key: RolledFileKey;
}

const LAST_KEY: RolledFileKey = { date: '9999-99-99', number: Number.MAX_SAFE_INTEGER };

async function listLogFileRefs(dir: string, name: string): Promise<LogFileRef[]> {
  const rolledDir = rolledFilesDir(dir, name);
  const refs: LogFileRef[] = [];
  let entries: string[] = [];
  try {
    entries = await readdir(rolledDir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new LogFileError(`cannot list ${rolledDir}: ${describeCause(cause)}`, { file: rolledDir, cause });
    }
  }
  for (const { entry, key } of rolledFiles(name, entries)) refs.push({ path: join(rolledDir, entry), key });
  const link = logLinkPath(dir, name);
  try {
    if ((await lstat(link)).isFile()) refs.push({ path: link, key: LAST_KEY });
  } catch {
    // no file at the stable path
  }
  return refs;
}

/** The files of one log, oldest first; the file being written is last. */
export async function listLogFiles(dir: string, name: string): Promise<string[]> {
  return (await listLogFileRefs(dir, name)).map((ref) => ref.path);
}

/** The names of the logs in a directory (`scheduler` and job names), sorted. */
export async function listLogNames(dir: string): Promise<string[]> {
  const names = new Set<string>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name.endsWith('.log.d')) names.add(entry.name.slice(0, -'.log.d'.length));
    else if (entry.isSymbolicLink() && entry.name.endsWith('.log')) names.add(entry.name.slice(0, -'.log'.length));
  }
  return [...names].sort();
}

/** An open file read line by line from where the last read stopped. */
class FileCursor {
  readonly path: string;
  readonly ino: number;
  /** its place among the log's files; changes when a regular file is adopted into the numbered files */
  key: RolledFileKey;
  readonly #handle: FileHandle;
  #position = 0;
  #partial: Buffer = Buffer.alloc(0);

  private constructor(ref: LogFileRef, handle: FileHandle, ino: number) {
    this.path = ref.path;
    this.key = ref.key;
    this.#handle = handle;
    this.ino = ino;
  }

  static async open(ref: LogFileRef): Promise<FileCursor | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(ref.path, 'r');
    } catch (cause) {
      // Removed by retention between listing and opening: the caller moves on.
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new LogFileError(`cannot read the log file ${ref.path}: ${describeCause(cause)}`, { file: ref.path, cause });
    }
    const { ino } = await handle.stat();
    return new FileCursor(ref, handle, ino);
  }

  /** Complete lines written since the last call; a line without its newline waits for it. */
  async readLines(): Promise<string[]> {
    const lines: string[] = [];
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await this.#handle.read(chunk, 0, chunk.length, this.#position);
      if (bytesRead === 0) return lines;
      this.#position += bytesRead;
      let data = this.#partial.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([this.#partial, chunk.subarray(0, bytesRead)]);
      let newline = data.indexOf(0x0a);
      while (newline >= 0) {
        lines.push(data.subarray(0, newline).toString('utf8'));
        data = data.subarray(newline + 1);
        newline = data.indexOf(0x0a);
      }
      this.#partial = Buffer.from(data);
    }
  }

  /** What is left after the last newline. */
  takePartial(): string | undefined {
    if (this.#partial.length === 0) return undefined;
    const text = this.#partial.toString('utf8');
    this.#partial = Buffer.alloc(0);
    return text;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch {
    return undefined;
  }
}

/** The first file after `after` in the log's order (the first file of all without `after`). */
function nextFile(refs: readonly LogFileRef[], after: RolledFileKey | undefined): LogFileRef | undefined {
  return refs.find((ref) => after === undefined || compareRolledKeys(ref.key, after) > 0);
}

/** Resolves on a change in one of these directories, after `ms`, or on abort. */
function waitForChange(directories: readonly string[], ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const watchers: FSWatcher[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    if (signal?.aborted) {
      resolve();
      return;
    }
    for (const directory of directories) {
      try {
        const watcher = watch(directory, done);
        watcher.on('error', () => undefined);
        watchers.push(watcher);
      } catch {
        // not there yet: the timer still wakes us
      }
    }
    timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Keeps entries that pass `since`; a line in neither format follows the verdict of the record before it. */
class SinceFilter {
  readonly #since: number | undefined;
  #keeping: boolean;

  constructor(since: Date | undefined) {
    this.#since = since?.getTime();
    this.#keeping = since === undefined;
  }

  keep(entry: LogEntry): boolean {
    if (this.#since === undefined) return true;
    if (entry.record !== undefined) this.#keeping = entry.record.time >= this.#since;
    return this.#keeping;
  }
}

function entry(file: string, line: string): LogEntry {
  return { file, line, record: parseLogLine(line) };
}

/**
 * The entries of one log, oldest first. Without `follow` it ends at the end
 * of the last file (a final line without its newline included); with
 * `follow` it waits for more until `signal` fires, and yields only complete
 * lines.
 */
export async function* readLogs(options: ReadLogsOptions): AsyncGenerator<LogEntry> {
  const { dir, name, signal } = options;
  // A name is joined into paths: `../x` would read (or follow) files outside the log directory.
  if (!isLogName(name)) throw new LogFileError(`"${name}" is not the name of a log`, { file: join(dir, name) });
  const pollMs = options.pollMs ?? 500;
  const watched = [dir, rolledFilesDir(dir, name)];
  const filter = new SinceFilter(options.since);
  const last = options.last;
  // Until caught up with what was there at the start, only the last `last` entries are kept.
  let backlog: LogEntry[] | undefined = last === undefined ? undefined : [];
  let after: RolledFileKey | undefined;
  let cursor: FileCursor | undefined;

  function* emit(path: string, lines: readonly string[]): Generator<LogEntry> {
    for (const line of lines) {
      const item = entry(path, line);
      if (!filter.keep(item)) continue;
      if (backlog === undefined) {
        yield item;
      } else if (last !== undefined && last > 0) {
        backlog.push(item);
        if (backlog.length > last) backlog.shift();
      }
    }
  }

  function* caughtUp(): Generator<LogEntry> {
    if (backlog !== undefined) yield* backlog;
    backlog = undefined;
  }

  try {
    for (;;) {
      if (signal?.aborted) return;
      const refs = await listLogFileRefs(dir, name);
      if (cursor === undefined) {
        const ref = nextFile(refs, after);
        if (ref === undefined) {
          yield* caughtUp();
          if (!options.follow) return;
          await waitForChange(watched, pollMs, signal);
          continue;
        }
        cursor = await FileCursor.open(ref);
        if (cursor === undefined) continue;
      }
      const current: FileCursor = cursor;
      yield* emit(current.path, await current.readLines());

      if (!refs.some((ref) => ref.path === current.path)) {
        // Renamed: a regular file at the stable path adopted into the numbered files.
        for (const ref of refs) {
          if ((await inodeOf(ref.path)) === current.ino) current.key = ref.key;
        }
      }
      const next = nextFile(refs, current.key);
      if (next !== undefined) {
        // The writer finishes a file before it opens the next one: read its last lines, then move on.
        yield* emit(current.path, await current.readLines());
        const partial = current.takePartial();
        if (partial !== undefined) yield* emit(current.path, [partial]);
        after = current.key;
        cursor = undefined;
        await current.close();
        continue;
      }

      if (!options.follow) {
        const partial = current.takePartial();
        if (partial !== undefined) yield* emit(current.path, [partial]);
        yield* caughtUp();
        return;
      }
      yield* caughtUp();
      await waitForChange(watched, pollMs, signal);
    }
  } finally {
    await cursor?.close();
  }
}

/**
 * How many output lines (records with `out`) of this run the job's files
 * already hold. Only lines ending with a newline count: a line cut short by a
 * crash is written again in full.
 */
export async function countRunOutputLines(dir: string, job: string, run: string): Promise<number> {
  let count = 0;
  // Most lines are other runs': a record of this run holds a plain id as it is, in either format.
  const plainId = /^[0-9A-Za-z]+$/.test(run);
  for (const ref of await listLogFileRefs(dir, job)) {
    const cursor = await FileCursor.open(ref);
    if (cursor === undefined) continue;
    try {
      for (const line of await cursor.readLines()) {
        if (plainId && !line.includes(run)) continue;
        const record = parseLogLine(line);
        if (record !== undefined && record.out !== undefined && record.run === run) count += 1;
      }
    } finally {
      await cursor.close();
    }
  }
  return count;
}
