import type { ContainerJob } from '../../src/core/job.js';
import { parseSchedule } from '../../src/core/schedule.js';

export interface TestJobFields {
  /** as written in env.local; `@every 1h` when absent */
  readonly schedule?: string;
  readonly timezone?: string;
  readonly enabled?: boolean;
  readonly timeoutMs?: number;
  /** the job's name when absent */
  readonly containerName?: string;
  readonly command?: readonly string[];
}

/** A container job as the loader builds one, every field a test does not name at its plainest. */
export function containerJob(name: string, fields: TestJobFields = {}): ContainerJob {
  const schedule = fields.schedule ?? '@every 1h';
  const parsed = parseSchedule(schedule, fields.timezone);
  if (!parsed.ok) throw new Error(`test schedule ${schedule} did not parse: ${parsed.message}`);
  return {
    kind: 'container',
    name,
    comment: '',
    schedule: parsed.schedule,
    // As the config loader does: a job without a schedule is disabled.
    enabled: (fields.enabled ?? true) && parsed.schedule !== null,
    timeoutMs: fields.timeoutMs,
    source: { file: 'env.local', line: undefined },
    triggers: [],
    onstart: false,
    container: {
      image: 'busybox',
      command: fields.command ?? [],
      entrypoint: undefined,
      volumes: [],
      env: {},
      envFiles: [],
      user: undefined,
      workdir: undefined,
      network: undefined,
      extraHosts: [],
      labels: {},
      containerName: fields.containerName ?? name,
    },
  };
}
