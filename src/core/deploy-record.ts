// What deploys remember between runs, as plain data; src/state keeps it on disk.

/** The upstream commit of each checkout a deploy tried: path → commit. */
export type CommitSet = Record<string, string>;

/** A commit set that failed to deploy and was rolled back: not retried until a newer commit arrives. */
export interface FailedDeploy {
  readonly commits: CommitSet;
  readonly at: string;
  readonly reason: string;
}

/** A deploy under way: the heads before it and the commits it moves to. */
export interface DeployInProgress {
  readonly heads: CommitSet;
  readonly targets: CommitSet;
  readonly startedAt: string;
}
