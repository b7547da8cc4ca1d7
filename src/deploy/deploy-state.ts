import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

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

  private async read<T>(name: string, schema: z.ZodType<T>): Promise<T | undefined> {
    try {
      const parsed = schema.safeParse(JSON.parse(await readFile(join(this.dir, name), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private async write(name: string, value: unknown): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const target = join(this.dir, name);
    const temp = `${target}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(temp, target);
  }
}
