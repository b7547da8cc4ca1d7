import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const HeartbeatSchema = z.object({
  pid: z.number(),
  version: z.string(),
  time: z.string(),
  startedAt: z.string(),
  configValid: z.boolean(),
  configProblems: z.array(z.string()),
  jobs: z.number(),
  running: z.array(z.string()),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export function heartbeatPath(stateDir: string): string {
  return join(stateDir, 'scheduler.json');
}

export async function writeHeartbeat(stateDir: string, beat: Heartbeat): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const target = heartbeatPath(stateDir);
  const temp = `${target}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(beat, null, 2)}\n`);
  await rename(temp, target);
}

export async function readHeartbeat(stateDir: string): Promise<Heartbeat | undefined> {
  try {
    return HeartbeatSchema.parse(JSON.parse(await readFile(heartbeatPath(stateDir), 'utf8')));
  } catch {
    return undefined;
  }
}

/** Healthy: the daemon wrote a beat recently and its job table is valid. A pure decision over the beat. */
export function judgeHealth(beat: Heartbeat | undefined, now: Date, maxAgeMs: number): { healthy: boolean; reason: string } {
  if (beat === undefined) return { healthy: false, reason: 'no heartbeat: the scheduler is not running (or its state dir is not this one)' };
  const age = now.getTime() - new Date(beat.time).getTime();
  if (age > maxAgeMs) return { healthy: false, reason: `last heartbeat ${Math.round(age / 1000)}s ago (pid ${beat.pid}): the scheduler is stuck or gone` };
  if (!beat.configValid) return { healthy: false, reason: `env.local is invalid: ${beat.configProblems.join('; ')}` };
  return { healthy: true, reason: `ok: ${beat.jobs} jobs scheduled, ${beat.running.length} running, version ${beat.version}` };
}
