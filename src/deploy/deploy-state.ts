import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from '../state/json-file.js';

/** The upstream commit of each checkout a deploy tried: path → commit. */
const CommitSetSchema = z.record(z.string(), z.string());
export type CommitSet = z.infer<typeof CommitSetSchema>;

const FailedSchema = z.object({ commits: CommitSetSchema, at: z.string(), reason: z.string() });
export type FailedDeploy = z.infer<typeof FailedSchema>;

const InProgressSchema = z.object({ heads: CommitSetSchema, targets: CommitSetSchema, startedAt: z.string() });
export type DeployInProgress = z.infer<typeof InProgressSchema>;

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
