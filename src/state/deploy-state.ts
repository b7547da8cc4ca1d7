import { join } from 'node:path';
import { z } from 'zod';
import { DEPLOY_STEPS, type CommitSet, type DeployInProgress, type DeployRunRecord, type DeployStep, type FailedDeploy } from '../core/deploy-record.js';
import { readJsonFile, writeJsonFile } from './json-file.js';

export type { CommitSet, DeployInProgress, DeployRunRecord, DeployStep, FailedDeploy };

const CommitSetSchema: z.ZodType<CommitSet> = z.record(z.string(), z.string());

const FailedSchema: z.ZodType<FailedDeploy> = z.object({ commits: CommitSetSchema, at: z.string(), reason: z.string() });

const InProgressSchema: z.ZodType<DeployInProgress> = z.object({
  heads: CommitSetSchema,
  targets: CommitSetSchema,
  startedAt: z.string(),
  step: z.enum(DEPLOY_STEPS).optional(),
  id: z.string().optional(),
  job: z.string().optional(),
  run: z.string().optional(),
  updatedAt: z.string().optional(),
});

const OUTCOMES = ['nothing', 'pulled', 'held', 'locked', 'dry-run', 'deployed', 'recovered', 'aborted', 'rolled-back', 'failed', 'interrupted'] as const;

const RunRecordSchema: z.ZodType<DeployRunRecord> = z.object({
  id: z.string(),
  run: z.string().optional(),
  startedAt: z.string(),
  endedAt: z.string(),
  outcome: z.enum(OUTCOMES),
  ok: z.boolean(),
  exitCode: z.number().optional(),
  message: z.string(),
});

const HistorySchema = z.object({ runs: z.array(RunRecordSchema) });

/** Deploy runs kept: weeks of daily runs, small enough to rewrite on every run. */
const KEEP = 100;

/**
 * What deploys remember between runs, in `<stateDir>/deploy/`: the commit set whose deploy
 * failed (not retried until a newer commit arrives), the intent of the deploy under way (so
 * that one that died midway is finished or undone by the next run), and the history of runs.
 */
export class DeployState {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'deploy');
  }

  failed(): Promise<FailedDeploy | undefined> {
    return this.read('failed.json', FailedSchema);
  }

  async recordFailure(failure: FailedDeploy): Promise<void> {
    await this.write('failed.json', failure);
  }

  async clearFailure(): Promise<void> {
    await this.write('failed.json', null);
  }

  inProgress(): Promise<DeployInProgress | undefined> {
    return this.read('in-progress.json', InProgressSchema);
  }

  async begin(record: DeployInProgress): Promise<void> {
    await this.write('in-progress.json', record, true);
  }

  /** The intent's step, rewritten whole: a reader sees the old step or the new one. */
  async step(step: DeployStep, at: Date): Promise<void> {
    const current = await this.inProgress();
    if (current !== undefined) await this.write('in-progress.json', { ...current, step, updatedAt: at.toISOString() }, true);
  }

  async end(): Promise<void> {
    await this.write('in-progress.json', null, true);
  }

  /** Newest first. */
  async history(): Promise<DeployRunRecord[]> {
    return (await this.read('history.json', HistorySchema))?.runs ?? [];
  }

  /** Inserts or replaces the record of `record.id`. One deploy runs at a time, so nothing else writes meanwhile. */
  async recordRun(record: DeployRunRecord): Promise<void> {
    const runs = (await this.history()).filter((r) => r.id !== record.id);
    runs.unshift(record);
    runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    await this.write('history.json', { runs: runs.slice(0, KEEP) });
  }

  private read<T>(name: string, schema: z.ZodType<T>): Promise<T | undefined> {
    return readJsonFile(join(this.dir, name), schema);
  }

  /** `durable` for the intent: it must be on disk before what it describes moves. */
  private write(name: string, value: unknown, durable = false): Promise<void> {
    return writeJsonFile(join(this.dir, name), value, { durable });
  }
}
