import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DEPLOY_STEPS, type CommitSet, type DeployInProgress, type DeployRunRecord, type DeployStep, type FailedDeploy } from '../core/deploy-record.js';
import { describeCorrupt, readJsonFile, writeJsonFile, type ReadJsonOptions } from './json-file.js';

export type { CommitSet, DeployInProgress, DeployRunRecord, DeployStep, FailedDeploy };

/** failed.json and its second copy: see `failed()`. */
const FAILED_COPIES = ['failed.json', 'failed.copy.json'] as const;

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

  constructor(
    stateDir: string,
    private readonly options: ReadJsonOptions = {},
  ) {
    this.dir = join(stateDir, 'deploy');
  }

  /**
   * The commit set not to retry survives any one corrupt file: it is written twice, one file
   * after the other, and read from the first that is good. A crash between the two writes
   * leaves the first one new and the second one old; the first wins.
   */
  async failed(): Promise<FailedDeploy | undefined> {
    const first = await this.readCopy(FAILED_COPIES[0], FailedSchema);
    if (first.state === 'good') return first.value;
    if (first.state === 'cleared') return undefined;
    const second = await this.readCopy(FAILED_COPIES[1], FailedSchema);
    return second.state === 'good' ? second.value : undefined;
  }

  async recordFailure(failure: FailedDeploy): Promise<void> {
    for (const name of FAILED_COPIES) await this.write(name, failure);
  }

  async clearFailure(): Promise<void> {
    for (const name of FAILED_COPIES) await this.write(name, null);
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
    return readJsonFile(join(this.dir, name), schema, this.options);
  }

  /** A copy's value, or whether it was cleared on purpose (`null`) or is missing or corrupt. */
  private async readCopy<T>(name: string, schema: z.ZodType<T>): Promise<{ state: 'good'; value: T } | { state: 'cleared' | 'unusable' }> {
    const file = join(this.dir, name);
    let unusable = false;
    const value = await readJsonFile(file, schema, {
      onCorrupt: (c) => {
        unusable = true;
        if (this.options.onCorrupt === undefined) process.stderr.write(`${describeCorrupt(c)}\n`);
        else this.options.onCorrupt(c);
      },
    });
    if (value !== undefined) return { state: 'good', value };
    if (unusable) return { state: 'unusable' };
    return { state: (await exists(file)) ? 'cleared' : 'unusable' };
  }

  /** `durable` for the intent: it must be on disk before what it describes moves. */
  private write(name: string, value: unknown, durable = false): Promise<void> {
    return writeJsonFile(join(this.dir, name), value, { durable });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
