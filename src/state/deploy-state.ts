import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { CommitSet, DeployInProgress, FailedDeploy } from '../core/deploy-record.js';
import { readJsonFile, writeJsonFile, type ReadJsonOptions, describeCorrupt } from './json-file.js';

export type { CommitSet, DeployInProgress, FailedDeploy };

/** failed.json and its second copy: see `failed()`. */
const FAILED_COPIES = ['failed.json', 'failed.copy.json'] as const;

const CommitSetSchema: z.ZodType<CommitSet> = z.record(z.string(), z.string());

const FailedSchema: z.ZodType<FailedDeploy> = z.object({ commits: CommitSetSchema, at: z.string(), reason: z.string() });

const InProgressSchema: z.ZodType<DeployInProgress> = z.object({ heads: CommitSetSchema, targets: CommitSetSchema, startedAt: z.string() });

/**
 * What deploys remember between runs, in `<stateDir>/deploy/`: the commit set whose deploy
 * failed (not retried until a newer commit arrives) and the heads recorded before a deploy
 * (so that one interrupted half-way is reported and can be rolled back by hand).
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
    await this.write('in-progress.json', record);
  }

  async end(): Promise<void> {
    await this.write('in-progress.json', null);
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

  private write(name: string, value: unknown): Promise<void> {
    return writeJsonFile(join(this.dir, name), value);
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
