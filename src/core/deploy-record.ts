// What deploys remember between runs, as plain data; src/state keeps it on disk.

import type { DeployOutcome } from './deploy-events.js';

/** The upstream commit of each checkout a deploy tried: path → commit. */
export type CommitSet = Record<string, string>;

/** A commit set that failed to deploy and was rolled back: not retried until a newer commit arrives. */
export interface FailedDeploy {
  readonly commits: CommitSet;
  readonly at: string;
  readonly reason: string;
}

/**
 * Where a deploy is, as its intent records it: moving checkouts, bringing the platform up from
 * them (compose, then the verification), or moving them back.
 */
export const DEPLOY_STEPS = ['pulling', 'starting', 'rolling-back'] as const;
export type DeployStep = (typeof DEPLOY_STEPS)[number];

/**
 * A deploy under way, written before anything moves: the heads before it, the commits it
 * moves to, and its step. Still there when no deploy holds the lock, it is a deploy that died
 * midway, which the next run finishes or undoes.
 */
export interface DeployInProgress {
  readonly heads: CommitSet;
  readonly targets: CommitSet;
  readonly startedAt: string;
  /** absent in intents written before steps were recorded: read as `pulling` */
  readonly step?: DeployStep | undefined;
  readonly id?: string | undefined;
  /** the job and the run that wrote it (AUTODEPLOY_JOB, AUTODEPLOY_RUN), when the scheduler started the deploy */
  readonly job?: string | undefined;
  readonly run?: string | undefined;
  /** when `step` was written */
  readonly updatedAt?: string | undefined;
}

/** What the next run does about an unfinished deploy: a deploy that was moving back is moved back; any other is finished, or undone if it fails. */
export function recoveryAction(intent: DeployInProgress): 'finish' | 'undo' {
  return intent.step === 'rolling-back' ? 'undo' : 'finish';
}

/** One deploy run, as the deploy history keeps it. `interrupted`: it died midway and a later run finished or undid it. */
export interface DeployRunRecord {
  readonly id: string;
  readonly run?: string | undefined;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly outcome: DeployOutcome | 'interrupted';
  /** false when the run is not a success: it failed, or some checkout could not be judged */
  readonly ok: boolean;
  readonly exitCode?: number | undefined;
  readonly message: string;
}
