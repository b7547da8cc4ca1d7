// The destination between pino and pino-roll for one log: it masks secrets on
// the serialized line, turns pino's JSON into a text line when asked, and
// hands the result to a pino-roll stream opened on first use. It also keeps
// `<dir>/<name>.log` pointing at the file pino-roll is writing.
//
// A file that cannot be written (disk full, read-only, directory gone) never
// holds up its caller: the stream is dropped, the lines are counted, and the
// count is written first into the file that opens again. Over 300 lines as one
// file: opening, masking, rotating the link, flushing, closing and the failure
// bookkeeping are one destination's states, kept with the stream they guard.

import { once } from 'node:events';
import { fsync, lstatSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { appendFile, lstat, mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import pinoRoll from 'pino-roll';
import { formatText, recordFromJson } from './format.js';
import { LogFileError, describeCause } from './log-errors.js';
import {
  ROLL_DATE_FORMAT,
  localDate,
  logLinkPath,
  rollBasePath,
  rolledFileName,
  rolledFiles,
  rolledFilesDir,
} from './log-layout.js';
import { maskJsonLine, type Masker } from '../core/mask.js';

export type LogFormat = 'text' | 'json';

/** Anything text can be copied to, such as `process.stdout`. */
export interface TextSink {
  write(text: string): unknown;
}

export interface LogSinkOptions {
  readonly dir: string;
  readonly name: string;
  readonly format: LogFormat;
  /** pino-roll size: `10m`, `500k`, `1g` */
  readonly maxSize: string;
  /** rotated files kept besides the current one */
  readonly keep: number;
  /** the masker in force; read on every line so that new secrets apply at once */
  readonly masker: () => Masker;
  readonly copyTo: TextSink | undefined;
  readonly onError: (error: LogFileError) => void;
  /** Told when the log is written again after lines were lost; the count is also the file's first new line. */
  readonly onRecovered?: ((recovery: LogRecovery) => void) | undefined;
}

/** Lines a log could not write while its file failed, said once it can write again. */
export interface LogRecovery {
  readonly name: string;
  readonly file: string;
  readonly lost: number;
  readonly since: Date;
  readonly cause: string;
}

/** After a failed open, lines are dropped until this long has passed, then opening is tried again. */
const REOPEN_DELAY_MS = 5_000;

export class LogSink {
  readonly #options: LogSinkOptions;
  readonly #linkPath: string;
  #stream: pinoRoll.RollStream | undefined;
  #opening: Promise<void> | undefined;
  #failedAt: number | undefined;
  #pending: string[] = [];
  #closed = false;
  /** bytes handed to the stream, and bytes it reported written: equal when nothing is buffered */
  #handed = 0;
  #written = 0;
  #syncedUpTo = 0;
  readonly #progress = new Set<() => void>();
  /** byte sizes of lines handed and not yet reported written: what a failure loses */
  #unwritten: number[] = [];
  #unwrittenHead = 0;
  #writtenCarry = 0;
  /** the failure under way: lines dropped since, and why; undefined while the file writes */
  #failure: { since: Date; cause: string; lost: number } | undefined;
  /** set while the log directory is known to be gone: no open is tried until it is back */
  #suspended = false;

  constructor(options: LogSinkOptions) {
    this.#options = options;
    this.#linkPath = logLinkPath(options.dir, options.name);
  }

  /** Called by pino with one serialized JSON line. */
  write(line: string): void {
    if (this.#closed) return;
    const text = this.#render(line);
    this.#options.copyTo?.write(text);
    if (this.#stream !== undefined) {
      this.#send(text);
      return;
    }
    if (this.#suspended || (this.#failedAt !== undefined && Date.now() - this.#failedAt < REOPEN_DELAY_MS)) {
      if (this.#failure !== undefined) this.#failure.lost += 1;
      return;
    }
    this.#pending.push(text);
    this.#opening ??= this.#open();
  }

  /** pino calls this from `logger.flush(cb)`. */
  flush(callback?: (error?: Error) => void): void {
    this.flushed().then(
      () => callback?.(),
      (error: unknown) => callback?.(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** Resolves when every line given so far is written to the file and synced. */
  async flushed(): Promise<void> {
    if (this.#opening !== undefined) await this.#opening;
    const stream = this.#stream;
    if (stream === undefined) return;
    if (this.#written < this.#handed) {
      // A failed file is dropped at its error (#fail), and its lines counted: nothing to wait for.
      if (stream.destroyed) return;
      while (this.#written < this.#handed && this.#stream === stream) {
        await new Promise<void>((resolve) => this.#progress.add(resolve));
      }
      if (this.#stream !== stream) return;
    }
    // Nothing new since the last sync: no disk work (a run's end flushes; most logs are idle).
    if (this.#syncedUpTo === this.#written) return;
    const upTo = this.#written;
    await this.#sync(stream);
    this.#syncedUpTo = upTo;
  }

  /** Writes what is buffered, then closes the file. Later lines are dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#opening !== undefined) await this.#opening;
    const stream = this.#stream;
    if (stream === undefined || stream.destroyed) return;
    const closed = once(stream, 'close');
    stream.end();
    try {
      await closed;
    } catch (cause) {
      throw this.#error('cannot close', cause);
    }
  }

  #render(line: string): string {
    const masked = maskJsonLine(line, this.#options.masker());
    const withNewline = masked.endsWith('\n') ? masked : `${masked}\n`;
    if (this.#options.format === 'json') return withNewline;
    let record;
    try {
      record = recordFromJson(JSON.parse(masked));
    } catch {
      record = undefined;
    }
    return record === undefined ? withNewline : `${formatText(record)}\n`;
  }

  #send(text: string): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    // A destroyed stream throws, and a log call must never throw at its caller.
    if (stream.destroyed) return;
    const bytes = Buffer.byteLength(text);
    this.#handed += bytes;
    this.#unwritten.push(bytes);
    stream.write(text);
  }

  /** The stream wrote `bytes`: the lines they complete are safe. */
  #wrote(bytes: number): void {
    this.#written += bytes;
    this.#writtenCarry += bytes;
    while (this.#unwrittenHead < this.#unwritten.length) {
      const size = this.#unwritten[this.#unwrittenHead] ?? 0;
      if (size > this.#writtenCarry) break;
      this.#writtenCarry -= size;
      this.#unwrittenHead += 1;
    }
    // Compact now and then rather than shift per line: a busy log writes thousands of lines a second.
    if (this.#unwrittenHead > 1024 && this.#unwrittenHead * 2 > this.#unwritten.length) {
      this.#unwritten = this.#unwritten.slice(this.#unwrittenHead);
      this.#unwrittenHead = 0;
    }
    this.#notifyProgress();
  }

  /**
   * The file failed. sonic-boom keeps a failed write's buffer and retries all of it on every
   * later line, which grows without bound and costs more per line the longer the disk stays
   * full: the stream is dropped instead, its unwritten lines counted as lost, and a new file
   * is opened by a later line once REOPEN_DELAY_MS has passed.
   */
  #fail(stream: pinoRoll.RollStream | undefined, cause: unknown, what: 'cannot open' | 'cannot write'): void {
    const lost = this.#unwritten.length - this.#unwrittenHead;
    this.#unwritten = [];
    this.#unwrittenHead = 0;
    this.#writtenCarry = 0;
    this.#handed = 0;
    this.#written = 0;
    this.#syncedUpTo = 0;
    if (stream !== undefined) {
      stream.removeAllListeners('write');
      stream.removeAllListeners('ready');
      if (!stream.destroyed) stream.destroy();
    }
    if (this.#stream === stream) this.#stream = undefined;
    this.#failedAt = Date.now();
    this.#notifyProgress();
    if (this.#failure === undefined) {
      this.#failure = { since: new Date(), cause: describeCause(cause), lost };
      // Said once per failure: a full disk would otherwise add a line per retry to the scheduler's log.
      this.#options.onError(this.#error(what, cause));
    } else {
      this.#failure.lost += lost;
    }
  }

  /** The log directory is gone: lines are counted, not written into a deleted directory, until `resume`. */
  suspend(cause: string): void {
    if (this.#suspended) return;
    this.#suspended = true;
    const stream = this.#stream;
    const lost = this.#unwritten.length - this.#unwrittenHead;
    if (stream !== undefined) {
      this.#fail(stream, cause, 'cannot write');
    } else if (this.#failure === undefined) {
      this.#failure = { since: new Date(), cause, lost };
    }
    this.#failedAt = undefined;
  }

  /** The log directory is back: the next line opens a new file there. */
  resume(): void {
    this.#suspended = false;
    this.#failedAt = undefined;
  }

  /** Lines dropped by the failure under way (0 when the file writes). */
  get lost(): number {
    return this.#failure?.lost ?? 0;
  }

  /** The count of lost lines, as this log's own first line after the failure, and to `onRecovered`. */
  #recovered(stream: pinoRoll.RollStream): void {
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure === undefined || failure.lost === 0) return;
    const record: Record<string, unknown> = {
      level: 40,
      time: Date.now(),
      ...(this.#options.name === 'scheduler' ? {} : { job: this.#options.name }),
      linesLost: failure.lost,
      since: failure.since.toISOString(),
      msg: `${failure.lost} line${failure.lost === 1 ? '' : 's'} of this log could not be written since ${failure.since.toISOString()} (${failure.cause})`,
    };
    this.#send(this.#render(JSON.stringify(record)));
    this.#options.onRecovered?.({ name: this.#options.name, file: stream.file ?? rollBasePath(this.#options.dir, this.#options.name), ...failure });
  }

  #notifyProgress(): void {
    const waiters = [...this.#progress];
    this.#progress.clear();
    for (const resolve of waiters) resolve();
  }

  async #open(): Promise<void> {
    const { dir, name, maxSize } = this.#options;
    let stream: pinoRoll.RollStream | undefined;
    try {
      await mkdir(rolledFilesDir(dir, name), { recursive: true });
      await this.#adoptRegularFile();
      stream = await pinoRoll({
        file: rollBasePath(dir, name),
        size: maxSize,
        frequency: 'daily',
        dateFormat: ROLL_DATE_FORMAT,
        mkdir: true,
      });
      const own = stream;
      stream.on('error', (cause: unknown) => {
        // Until the file is open, the catch below reports; a dropped stream's late errors are spent.
        if (this.#stream !== own) return;
        this.#fail(own, cause, 'cannot write');
      });
      stream.on('write', (bytes: number) => {
        if (this.#stream === own) this.#wrote(bytes);
      });
      // pino-roll opens the file asynchronously; lines wait until then.
      await once(stream, 'ready');
      const separator = await this.#separatorAfterPartialLine(stream.file);
      const opened = stream;
      opened.on('ready', () => this.#rotated(opened));
      this.#rotated(opened);
      this.#stream = opened;
      this.#failedAt = undefined;
      const pending = this.#pending;
      this.#pending = [];
      if (separator !== '') this.#send(separator);
      this.#recovered(opened);
      for (const text of pending) this.#send(text);
    } catch (cause) {
      if (stream !== undefined && !stream.destroyed) stream.destroy();
      const dropped = this.#pending.length;
      this.#pending = [];
      this.#fail(undefined, cause, 'cannot open');
      if (this.#failure !== undefined) this.#failure.lost += dropped;
    } finally {
      this.#opening = undefined;
    }
  }

  /**
   * A process that died mid-line leaves the file without a final newline;
   * the next line must not be glued to it.
   */
  async #separatorAfterPartialLine(file: string | null): Promise<string> {
    if (file === null) return '';
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size === 0) return '';
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      return last[0] === 0x0a ? '' : '\n';
    } finally {
      await handle.close();
    }
  }

  /**
   * A regular file at the stable path was written by something else (an
   * older scheduler wrote straight to `<name>.log`). It becomes the oldest
   * numbered file of its day, so it is read first and removed first.
   */
  async #adoptRegularFile(): Promise<void> {
    const { dir, name } = this.#options;
    let stats;
    try {
      stats = await lstat(this.#linkPath);
    } catch {
      return;
    }
    if (stats.isSymbolicLink()) return;
    if (!stats.isFile()) {
      throw new LogFileError(`${this.#linkPath} is in the way of the log link and is not a file; move it away`, {
        file: this.#linkPath,
      });
    }
    const target = join(rolledFilesDir(dir, name), rolledFileName(name, { date: localDate(stats.mtime), number: 0 }));
    try {
      await lstat(target);
    } catch {
      await rename(this.#linkPath, target);
      return;
    }
    await appendFile(target, await readFile(this.#linkPath));
    await unlink(this.#linkPath);
  }

  /** A new file is open (at start and after every rotation). */
  #rotated(stream: pinoRoll.RollStream): void {
    this.#pointLink(stream);
    this.#prune(stream.file).catch((cause: unknown) => {
      const dir = rolledFilesDir(this.#options.dir, this.#options.name);
      this.#options.onError(
        new LogFileError(`cannot remove old log files in ${dir}: ${describeCause(cause)}; check its permissions`, { file: dir, cause }),
      );
    });
  }

  /**
   * Keeps the current file and the newest `keep` others. pino-roll's own
   * `limit` lists the directory while the new file is still being opened,
   * so it keeps one file more or less depending on which finishes first.
   */
  async #prune(current: string | null): Promise<void> {
    const { dir, name, keep } = this.#options;
    const rolledDir = rolledFilesDir(dir, name);
    const currentName = current === null ? undefined : relative(rolledDir, current);
    const others = rolledFiles(name, await readdir(rolledDir)).filter(({ entry }) => entry !== currentName);
    for (const { entry } of others.slice(0, Math.max(0, others.length - keep))) {
      try {
        await unlink(join(rolledDir, entry));
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
      }
    }
  }

  /** Replaces the symlink in one rename, so that a reader never finds the path missing. */
  #pointLink(stream: pinoRoll.RollStream): void {
    const file = stream.file;
    if (file === null) return;
    const target = relative(dirname(this.#linkPath), file);
    try {
      if (readlinkSync(this.#linkPath) === target) return;
    } catch {
      // missing, or not a symlink: replaced below
    }
    const temporary = join(dirname(this.#linkPath), `.${this.#options.name}.log.${process.pid}.tmp`);
    try {
      try {
        if (lstatSync(temporary).isSymbolicLink()) unlinkSync(temporary);
      } catch {
        // no leftover
      }
      symlinkSync(target, temporary);
      renameSync(temporary, this.#linkPath);
    } catch (cause) {
      this.#options.onError(
        new LogFileError(`cannot point ${this.#linkPath} at ${file}: ${describeCause(cause)}; check the permissions of ${dirname(this.#linkPath)}`, {
          file: this.#linkPath,
          cause,
        }),
      );
    }
  }

  async #sync(stream: pinoRoll.RollStream): Promise<void> {
    const fd = stream.fd;
    if (fd < 0 || stream.destroyed) return;
    await new Promise<void>((resolve) => {
      // EBADF: the file was closed by a rotation meanwhile, and closing wrote it.
      fsync(fd, () => resolve());
    });
  }

  #error(what: 'cannot open' | 'cannot write' | 'cannot close', cause: unknown): LogFileError {
    const file = this.#stream?.file ?? rollBasePath(this.#options.dir, this.#options.name);
    return new LogFileError(
      `${what} the log file ${file}: ${describeCause(cause)}; check the free space and the permissions of ${this.#options.dir}`,
      { file, cause },
    );
  }
}
