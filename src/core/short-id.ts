import { randomBytes } from 'node:crypto';

/** Short, unique and sortable by start time: base-36 milliseconds plus a random suffix. */
export function newRunId(now: Date = new Date()): string {
  return `${now.getTime().toString(36)}${randomBytes(2).toString('hex')}`;
}
