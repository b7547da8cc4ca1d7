import { randomBytes } from 'node:crypto';

/** Short, unique and sortable by start time: base-36 milliseconds plus a random suffix. */
export function newRunId(now: Date = new Date()): string {
  return `${now.getTime().toString(36)}${randomBytes(2).toString('hex')}`;
}

/** As `docker ps` shows container ids; for commits, long enough to stay unique in any platform's repository. */
export const SHORT_ID_LENGTH = 12;

/** The notebook deploy's lines have always shown commits at 8 characters, and are read at that width. */
export const NOTEBOOK_COMMIT_LENGTH = 8;

/**
 * A commit or container id as lines, messages and log fields show it. `length` is for the one
 * place that shows another width: NOTEBOOK_COMMIT_LENGTH.
 */
export function shortId(id: string, length: number = SHORT_ID_LENGTH): string {
  return id.slice(0, length);
}
