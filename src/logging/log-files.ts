// The log files of the scheduler and of every job: one pino logger per log,
// each writing through a LogSink into pino-roll's rotated files. Everything
// runs in this process (no worker thread per file) and a job's file is
// opened on its first line, so a hundred idle jobs cost a hundred small
// objects.

import { pino, type Logger } from 'pino';
import type { OutputStream } from '../core/run.js';
import type { LogLevel } from './format.js';
import { LogFileError, LogSettingError } from './log-errors.js';
import { SCHEDULER_LOG, isLogName, logLinkPath } from './log-layout.js';
import { stat } from 'node:fs/promises';
import { LogSink, type LogFormat, type LogRecovery, type TextSink } from './log-sink.js';
import { EVENT_LINE_VERSION, parseEventLine } from '../core/event-line.js';
import { createMasker, type Masker } from '../core/mask.js';
import { countRunOutputLines } from './read-logs.js';

export type { LogFormat, LogRecovery, TextSink } from './log-sink.js';

export interface LogFilesOptions {
  /** the log directory, `AUTODEPLOY_LOG_DIR` */
  readonly dir: string;
  readonly format: LogFormat;
  /** size at which a file is rotated: `10m`, `500k`, `1g`; a file may pass it by the last write (at most 16 KiB) */
  readonly maxSize: string;
  /** rotated files kept per log besides the one being written (as logrotate's `rotate N`) */
  readonly keep: number;
  /** values never to write; see `isSecretName` */
  readonly secrets: readonly string[];
  /** also copy the scheduler's events to stdout (`true`) or to this sink */
  readonly stdout?: boolean | TextSink;
  /** lowest level written; default `info` */
  readonly level?: LogLevel;
  /** told about files that cannot be opened or written; default: a line on stderr */
  readonly onError?: (error: LogFileError) => void;
  /** told when a log writes again after it lost lines, with their count */
  readonly onRecovered?: (recovery: LogRecovery) => void;
}

export interface LogFiles {
  /** The scheduler's own events: `<dir>/scheduler.log`, and stdout when asked. */
  scheduler(): Logger;
  /** A job's log, `<dir>/<name>.log`; the caller makes a child with `{ run }` per run. */
  job(name: string): Logger;
  /** The stable path of a log, the one an operator tails. */
  path(name: string): string;
  /** Secret values to mask from now on (the job table was re-read). */
  setSecrets(secrets: readonly string[]): void;
  /** Resolves when every line logged so far is in its file: of one log when named, else of all. */
  flush(name?: string): Promise<void>;
  /** How many output lines of this run the job's files already hold (re-attach after a restart). */
  countRunOutput(job: string, run: string): Promise<number>;
  /**
   * Whether the log directory is still there. A deleted directory takes every line written
   * into it (pino-roll's open files, or a bind mount of it, still point at the deleted one):
   * while it is gone, lines are counted and dropped; once it is back, each log opens a new
   * file there and says how many lines it lost. Undefined when the directory is fine.
   */
  checkDirectory(): Promise<string | undefined>;
  /** Flushes and closes every file; later lines are dropped. */
  close(): Promise<void>;
}

const SIZE = /^\d+(?:\.\d+)?[kmgb]?$/i;

function checkOptions(options: LogFilesOptions): void {
  if (!SIZE.test(options.maxSize)) {
    throw new LogSettingError(`log file size "${options.maxSize}" is not a size such as 500k, 10m or 1g`, {
      setting: 'maxSize',
      value: options.maxSize,
    });
  }
  if (!Number.isInteger(options.keep) || options.keep < 1) {
    throw new LogSettingError(`the number of rotated log files to keep must be a whole number of at least 1, not ${options.keep}`, {
      setting: 'keep',
      value: String(options.keep),
    });
  }
}

function reportOnStderr(error: LogFileError): void {
  process.stderr.write(`${error.message}\n`);
}

export function openLogFiles(options: LogFilesOptions): LogFiles {
  checkOptions(options);
  let masker: Masker = createMasker(options.secrets);
  const sinks = new Map<string, LogSink>();
  const loggers = new Map<string, Logger>();
  const level = options.level ?? 'info';
  const onError = options.onError ?? reportOnStderr;
  const stdout = options.stdout === true ? process.stdout : options.stdout === false ? undefined : options.stdout;
  let closed = false;
  let directoryProblem: string | undefined;
  let directoryIdentity: string | undefined;

  function logger(name: string, copyTo: TextSink | undefined, base: Record<string, string> | null): Logger {
    const existing = loggers.get(name);
    if (existing !== undefined) return existing;
    if (closed) throw new LogFileError(`the log files are closed; cannot log to ${name}`, { file: logLinkPath(options.dir, name) });
    const sink = new LogSink({
      dir: options.dir,
      name,
      format: options.format,
      maxSize: options.maxSize,
      keep: options.keep,
      masker: () => masker,
      copyTo,
      onError,
      onRecovered: options.onRecovered,
    });
    if (directoryProblem !== undefined) sink.suspend(directoryProblem);
    const created = pino({ level, base }, sink);
    sinks.set(name, sink);
    loggers.set(name, created);
    return created;
  }

  return {
    scheduler: () => logger(SCHEDULER_LOG, stdout, null),
    job(name) {
      if (!isLogName(name) || name === SCHEDULER_LOG) {
        throw new LogFileError(`job name "${name}" cannot name a log file: use letters, digits, "_", "." and "-", and not "${SCHEDULER_LOG}"`, {
          file: logLinkPath(options.dir, name),
        });
      }
      return logger(name, undefined, { job: name });
    },
    path: (name) => logLinkPath(options.dir, name),
    setSecrets(secrets) {
      masker = createMasker(secrets);
    },
    async flush(name) {
      const which = name === undefined ? [...sinks.values()] : [sinks.get(name)].filter((sink) => sink !== undefined);
      await Promise.all(which.map((sink) => sink.flushed()));
    },
    countRunOutput: (job, run) => countRunOutputLines(options.dir, job, run),
    async checkDirectory() {
      const { problem, identity } = await directoryState(options.dir);
      if (problem !== undefined && directoryProblem === undefined) for (const sink of sinks.values()) sink.suspend(problem);
      if (problem === undefined && directoryProblem !== undefined) for (const sink of sinks.values()) sink.resume();
      if (problem === undefined && directoryProblem === undefined && identity !== directoryIdentity && directoryIdentity !== undefined) {
        // Deleted and made again between two checks: the open files are in the deleted one.
        const cause = `the log directory ${options.dir} was deleted and made again; lines logged just before were lost with it`;
        onError(new LogFileError(cause, { file: options.dir }));
        for (const sink of sinks.values()) {
          sink.suspend(cause);
          sink.resume();
        }
      }
      if (identity !== undefined) directoryIdentity = identity;
      directoryProblem = problem;
      return problem;
    },
    async close() {
      closed = true;
      await Promise.all([...sinks.values()].map((sink) => sink.close()));
    },
  };
}

/** Why `dir` cannot take log lines any more, when it is gone (permissions and space are the files' own errors), and which directory it is. */
async function directoryState(dir: string): Promise<{ problem?: string; identity?: string }> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return { problem: `the log directory ${dir} is not a directory any more` };
    // A directory deleted while a bind mount (or a process's working directory) still holds it
    // has no links: it stats fine, but whatever is written there is gone with it.
    if (info.nlink === 0) {
      return { problem: `the log directory ${dir} was deleted (a mount still points at the deleted directory: restart the scheduler once it is back)` };
    }
    return { identity: `${info.dev}:${info.ino}` };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { problem: `the log directory ${dir} was deleted` };
    return {};
  }
}

/**
 * Writes one line of a job's own output, in the shape the readers expect. An event line
 * (src/core/event-line.ts) becomes a record with the event's fields and its sentence as the
 * message, still an output line (`out`), so that a re-attached run counts it as one.
 */
export function logOutputLine(logger: Logger, out: OutputStream, line: string): void {
  const event = parseEventLine(line);
  if (event === undefined) logger.info({ out }, line);
  else logger.info({ out, event: event.event, eventVersion: EVENT_LINE_VERSION, ...event.fields }, event.msg);
}
