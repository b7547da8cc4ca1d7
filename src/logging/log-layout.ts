// Where a log's files live in the log directory. Pure path arithmetic, shared
// by the writer and the reader.
//
//   <dir>/<name>.log                       symlink to the file being written
//   <dir>/<name>.log.d/<name>.<date>.<n>.log   pino-roll's files, <date> = yyyy-MM-dd
//
// The operator tails `<dir>/<name>.log`. pino-roll numbers its files, so the
// stable name is a symlink, replaced atomically on every rotation. GNU
// `tail -F` follows it by polling: it reads the old file to its end, then
// reopens the name after it has seen no change for a few polls (about 5 s by
// default), so it sees every line unless a file fills up within that time;
// `autodeploy logs -f` walks the numbered files in order and has no such
// limit. Host
// logrotate skips symlinks, and its `<dir>/*.log` glob does not descend into
// the `.log.d` directories, so it never touches these files.

import { join } from 'node:path';

/** The scheduler's own events. A job may not take this name. */
export const SCHEDULER_LOG = 'scheduler';

const LOG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** True when `name` can be used as a log name: a plain file name, no path. */
export function isLogName(name: string): boolean {
  return LOG_NAME.test(name);
}

/** The stable path an operator tails. */
export function logLinkPath(dir: string, name: string): string {
  return join(dir, `${name}.log`);
}

/** The directory holding the numbered files of one log. */
export function rolledFilesDir(dir: string, name: string): string {
  return join(dir, `${name}.log.d`);
}

/** The base path handed to pino-roll; it appends `.<date>.<n>` before `.log`. */
export function rollBasePath(dir: string, name: string): string {
  return join(rolledFilesDir(dir, name), `${name}.log`);
}

/** The date format of pino-roll's file names (date-fns). */
export const ROLL_DATE_FORMAT = 'yyyy-MM-dd';

/** A numbered file's place in the order of a log's files. */
export interface RolledFileKey {
  readonly date: string;
  readonly number: number;
}

/** Reads `<name>.<date>.<n>.log`; undefined for any other file name. */
export function parseRolledFileName(name: string, fileName: string): RolledFileKey | undefined {
  const prefix = `${name}.`;
  if (!fileName.startsWith(prefix) || !fileName.endsWith('.log')) return undefined;
  const middle = /^(\d{4}-\d\d-\d\d)\.(\d+)$/.exec(fileName.slice(prefix.length, -'.log'.length));
  if (middle === null) return undefined;
  const [, date = '', number = ''] = middle;
  return { date, number: Number(number) };
}

/** The name of the numbered file for this key. */
export function rolledFileName(name: string, key: RolledFileKey): string {
  return `${name}.${key.date}.${key.number}.log`;
}

/** Oldest first: by date, then by number. */
export function compareRolledKeys(a: RolledFileKey, b: RolledFileKey): number {
  if (a.date !== b.date) return a.date < b.date ? -1 : 1;
  return a.number - b.number;
}

/** The entries of a log's rolled-files directory that are its numbered files, oldest first. */
export function rolledFiles(name: string, entries: readonly string[]): Array<{ readonly entry: string; readonly key: RolledFileKey }> {
  return entries
    .flatMap((entry) => {
      const key = parseRolledFileName(name, entry);
      return key === undefined ? [] : [{ entry, key }];
    })
    .sort((a, b) => compareRolledKeys(a.key, b.key));
}

/** The local calendar date, as pino-roll writes it in file names. */
export function localDate(time: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}`;
}
