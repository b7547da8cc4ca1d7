import { join } from 'node:path';
import { z } from 'zod';
import { RUN_ORIGINS, RUN_OUTCOMES, type RunRecord } from '../core/run.js';
import { readJsonFile, writeJsonFile, type ReadJsonOptions } from './json-file.js';

const RunRecordSchema: z.ZodType<RunRecord> = z.object({
  job: z.string(),
  run: z.string(),
  // Files written before webhook and API runs existed hold only schedule and manual: still valid.
  origin: z.enum(RUN_ORIGINS),
  by: z.string().optional(),
  outcome: z.enum(RUN_OUTCOMES),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  durationMs: z.number().optional(),
  exitCode: z.number().optional(),
  message: z.string().optional(),
});

const HistoryFileSchema = z.object({ runs: z.array(RunRecordSchema) });

/** How many runs of a job are kept; enough to see a pattern, small enough to rewrite on every run. */
const KEEP = 50;

/**
 * Run history, one JSON file per job under `<stateDir>/runs/`, rewritten atomically
 * (write then rename) so that a crash leaves the old or the new file, never half of one.
 * Writes to one job are serialized; different jobs do not wait for each other.
 */
export class RunHistory {
  private readonly dir: string;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    stateDir: string,
    private readonly options: ReadJsonOptions = {},
  ) {
    this.dir = join(stateDir, 'runs');
  }

  /** Newest first. A missing file is an empty history; a corrupt one is moved aside and reported (see readJsonFile). */
  async runs(job: string): Promise<RunRecord[]> {
    return (await readJsonFile(this.file(job), HistoryFileSchema, this.options))?.runs ?? [];
  }

  async last(job: string): Promise<RunRecord | undefined> {
    return (await this.runs(job))[0];
  }

  /** Inserts or replaces the record of `record.run`. */
  record(record: RunRecord): Promise<void> {
    return this.serialize(record.job, async () => {
      const runs = (await this.runs(record.job)).filter((r) => r.run !== record.run);
      runs.unshift(record);
      runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      await writeJsonFile(this.file(record.job), { runs: runs.slice(0, KEEP) });
    });
  }

  private serialize(job: string, task: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(job) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.queues.set(job, next);
    void next.finally(() => {
      if (this.queues.get(job) === next) this.queues.delete(job);
    }).catch(() => undefined);
    return next;
  }

  private file(job: string): string {
    return join(this.dir, `${job}.json`);
  }
}
