// Commands of docker-crontab's jobs that name neither an image nor a container: they run in
// the scheduler's own container, as docker-crontab runs them in its own.

import type { LocalCommands } from '../core/ports.js';
import { runProcess } from './run.js';

/** Output kept for the result is not needed: every line goes to the job's log as it comes. */
const KEPT_OUTPUT_BYTES = 64 * 1024;

export function localCommands(baseEnv: Readonly<Record<string, string | undefined>>): LocalCommands {
  return {
    async run(command, options) {
      const result = await runProcess({
        argv: command,
        env: { ...baseEnv, ...options.env },
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        onLine: (text, stream) => options.onLine({ stream, text }),
        maxOutputBytes: KEPT_OUTPUT_BYTES,
        // A job's shell and what it started go together, at its timeout or the scheduler's stop.
        stopGroup: true,
        failures: 'return',
      });
      return { exitCode: result.exitCode ?? undefined, timedOut: result.timedOut };
    },
  };
}
