import { randomBytes } from 'node:crypto';

/** Short, unique and sortable by start time: base-36 milliseconds plus a random suffix. */
export function newRunId(now: Date = new Date()): string {
  return `${now.getTime().toString(36)}${randomBytes(2).toString('hex')}`;
}

/** As `docker ps` shows container ids; for commits, long enough to stay unique in any platform's repository. */
export const SHORT_ID_LENGTH = 12;

/** A commit or container id as lines, messages and log fields show it: one width everywhere. */
export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}
