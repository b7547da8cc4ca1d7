import { join } from 'node:path';
import { z } from 'zod';
import { EMPTY_DEPLOY_STATUS, type DeployStatusSnapshot } from '../core/deploy-snapshot.js';
import { readJsonFile, writeJsonFile } from './json-file.js';

const opt = <T extends z.ZodType>(schema: T) => schema.optional().transform((v) => v as z.output<T> | undefined);

const CheckoutSchema = z.object({
  path: z.string(),
  verdict: z.string(),
  reason: z.string(),
  branch: opt(z.string()),
  upstream: opt(z.string()),
  head: opt(z.string()),
  upstreamHead: opt(z.string()),
  ahead: z.number(),
  behind: z.number(),
  remoteUrl: opt(z.string()),
  remoteBranch: opt(z.string()),
});

const SnapshotSchema = z.object({
  checkedAt: opt(z.string()),
  run: opt(z.string()),
  checkouts: z.array(CheckoutSchema),
  decision: opt(z.object({ action: z.string(), reason: z.string(), deploy: z.array(z.string()), pullOnly: z.array(z.string()) })),
  history: z.array(
    z.object({
      run: z.string(),
      outcome: z.string(),
      message: z.string(),
      endedAt: z.string(),
      durationMs: z.number(),
      exitCode: z.number(),
      pulled: z.array(z.object({ path: z.string(), from: z.string(), to: z.string(), commits: z.array(z.object({ commit: z.string(), subject: z.string() })) })),
      decision: opt(z.string()),
      restarted: opt(z.array(z.string())),
      verification: opt(z.object({ ok: z.boolean(), outcome: z.string(), waitedMs: z.number() })),
      rollback: opt(z.object({ ok: z.boolean(), reason: z.string() })),
    }),
  ),
});

/**
 * The last check's verdicts and the deploy history, in `<stateDir>/deploy/status.json`, so that
 * a restarted scheduler answers from what it knew. Writes are serialized, the latest wins.
 */
export class DeployStatusFile {
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string) {
    this.file = join(stateDir, 'deploy', 'status.json');
  }

  async read(): Promise<DeployStatusSnapshot> {
    return ((await readJsonFile(this.file, SnapshotSchema)) as DeployStatusSnapshot | undefined) ?? EMPTY_DEPLOY_STATUS;
  }

  save(snapshot: DeployStatusSnapshot): Promise<void> {
    this.writing = this.writing.then(() => writeJsonFile(this.file, snapshot)).catch(() => undefined);
    return this.writing;
  }
}
