import { join } from 'node:path';
import { z } from 'zod';
import type { CommitSet, DeployInProgress, FailedDeploy } from '../core/deploy-record.js';
import { readJsonFile, writeJsonFile } from './json-file.js';

export type { CommitSet, DeployInProgress, FailedDeploy };

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
    await this.write('in-progress.json', record);
  }

  async end(): Promise<void> {
    await this.write('in-progress.json', null);
  }

  private read<T>(name: string, schema: z.ZodType<T>): Promise<T | undefined> {
    return readJsonFile(join(this.dir, name), schema);
  }

  private write(name: string, value: unknown): Promise<void> {
    return writeJsonFile(join(this.dir, name), value);
  }
}
