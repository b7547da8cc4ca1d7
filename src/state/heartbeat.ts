import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from './json-file.js';

const HeartbeatSchema = z.object({
  pid: z.number(),
  version: z.string(),
  time: z.string(),
  startedAt: z.string(),
  configValid: z.boolean(),
  configProblems: z.array(z.string()),
  jobs: z.number(),
  running: z.array(z.string()),
  /** why the log directory takes no lines (deleted); absent while it is fine */
  logProblem: z.string().optional(),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export function heartbeatPath(stateDir: string): string {
  return join(stateDir, 'scheduler.json');
}

export function writeHeartbeat(stateDir: string, beat: Heartbeat): Promise<void> {
  return writeJsonFile(heartbeatPath(stateDir), beat);
}

export function readHeartbeat(stateDir: string): Promise<Heartbeat | undefined> {
  return readJsonFile(heartbeatPath(stateDir), HeartbeatSchema);
}

/** Healthy: the daemon wrote a beat recently, its log directory is there and its job table is valid. A pure decision over the beat. */
export function judgeHealth(beat: Heartbeat | undefined, now: Date, maxAgeMs: number): { healthy: boolean; reason: string } {
  if (beat === undefined) return { healthy: false, reason: 'no heartbeat: the scheduler is not running (or its state dir is not this one)' };
  const age = now.getTime() - new Date(beat.time).getTime();
  if (age > maxAgeMs) return { healthy: false, reason: `last heartbeat ${Math.round(age / 1000)}s ago (pid ${beat.pid}): the scheduler is stuck or gone` };
  if (beat.logProblem !== undefined) return { healthy: false, reason: `${beat.logProblem}: job output is counted and dropped until it is back` };
  if (!beat.configValid) return { healthy: false, reason: `env.local is invalid: ${beat.configProblems.join('; ')}` };
  return { healthy: true, reason: `ok: ${beat.jobs} jobs scheduled, ${beat.running.length} running, version ${beat.version}` };
}
