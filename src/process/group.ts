import type { ChildProcess } from 'node:child_process';

/**
 * Sends `signal` to the process group of a child started with `detached: true` (it leads its
 * own group), so that what it started goes too. A group that is gone already is not an error.
 */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}
