// What a deploy tells as it goes, as plain data: one event per step, in the
// order the steps happen. The deploy (src/autodeploy/deploy.ts) emits them and
// returns its report as before; src/core/deploy-event-text.ts turns each into
// the line a person reads, and src/core/event-line.ts into the JSON line the
// scheduler logs with its fields. An event is one line of the story: where a
// step has several lines (a pull and its commits), each is an event, and the
// step's own event also carries the whole list for readers of the data.

import type { DeployKeyChoice, Verdict } from './checkout.js';
import type { Decision } from './decide.js';
import type { CommitSet, DeployStep } from './deploy-record.js';
import type { ServiceCheck, VerifyOutcome } from './service-check.js';

/** `recovered`: a deploy that had died midway was finished by this run. */
export type DeployOutcome = 'nothing' | 'pulled' | 'held' | 'locked' | 'dry-run' | 'deployed' | 'recovered' | 'aborted' | 'rolled-back' | 'failed';

export interface DeployedCommit {
  readonly commit: string;
  readonly subject: string;
}

/** A checkout a deploy moved: from one commit to another. */
export interface CheckoutStep {
  readonly path: string;
  readonly from: string;
  readonly to: string;
}

export type DeployEvent =
  /** said by the command that runs the deploy, before the first step */
  | { readonly type: 'started'; readonly dryRun: boolean; readonly at: string; readonly checkouts: readonly string[] }
  /** an earlier deploy's intent is still recorded: it died midway */
  | { readonly type: 'interrupted'; readonly startedAt: string; readonly heads: CommitSet }
  /** this run, holding the lock, finishes or undoes that deploy before anything else */
  | {
    readonly type: 'recovering';
    readonly action: 'finish' | 'undo';
    readonly step: DeployStep;
    readonly heads: CommitSet;
    readonly targets: CommitSet;
  }
  /** the interrupted deploy is finished (its commits run, verified) or undone (rolled back) */
  | { readonly type: 'recovered'; readonly action: 'finished' | 'rolled-back'; readonly ok: boolean; readonly checkouts: readonly CheckoutStep[] }
  | {
    readonly type: 'checkout-judged';
    readonly path: string;
    readonly verdict: Verdict;
    readonly reason: string;
    readonly branch: string | undefined;
    readonly upstream: string | undefined;
    readonly head: string | undefined;
    readonly upstreamHead: string | undefined;
    readonly ahead: number;
    readonly behind: number;
    readonly key: DeployKeyChoice;
    /** the upstream's remote URL (credentials removed) and branch there: what a webhook's push is matched against */
    readonly remoteUrl?: string | undefined;
    readonly remoteBranch?: string | undefined;
  }
  /** what the conditional trigger of a behind checkout said */
  | { readonly type: 'trigger-answered'; readonly path: string; readonly trigger: boolean; readonly exitCode: number | null }
  | {
    readonly type: 'decision';
    readonly action: Decision['action'];
    readonly reason: string;
    /** the checkouts to deploy */
    readonly deploy: readonly string[];
    /** the checkouts only fast-forwarded, their triggers having said no */
    readonly pullOnly: readonly string[];
  }
  /** checkouts that could not be judged (unreachable, key refused, not a checkout): the run is not a success */
  | { readonly type: 'unjudged'; readonly checkouts: readonly { readonly path: string; readonly verdict: Verdict; readonly reason: string }[] }
  | { readonly type: 'locked'; readonly holder: { readonly host: string; readonly pid: number; readonly startedAt: string } }
  | { readonly type: 'compose-command'; readonly argv: readonly string[]; readonly source: string }
  /** AUTODEPLOY_RESTART=all: everything stops before the pull */
  | { readonly type: 'stopping-all' }
  | (CheckoutStep & { readonly type: 'pulled'; readonly deployed: boolean; readonly commits: readonly DeployedCommit[] })
  /** one commit of the pull just told, newest first */
  | (DeployedCommit & { readonly type: 'commit'; readonly path: string })
  | { readonly type: 'compose-up'; readonly project: string }
  | { readonly type: 'compose-output'; readonly line: string; readonly stream: 'stdout' | 'stderr' }
  /** a service that mounts a changed path and that `up -d` did not recreate */
  | { readonly type: 'restarting'; readonly service: string; readonly changed: readonly string[] }
  | { readonly type: 'restarted'; readonly services: readonly string[] }
  | { readonly type: 'verifying'; readonly project: string; readonly services: readonly string[]; readonly timeoutMs: number }
  /** one service as the verification ended */
  | (ServiceCheck & { readonly type: 'service-checked' })
  | { readonly type: 'verified'; readonly ok: boolean; readonly outcome: VerifyOutcome; readonly waitedMs: number; readonly services: readonly ServiceCheck[] }
  | { readonly type: 'deployed'; readonly checkouts: readonly CheckoutStep[]; readonly restarted: readonly string[] }
  /** the services that failed the verification, in one sentence */
  | { readonly type: 'verification-failed'; readonly reason: string; readonly services: readonly string[] }
  /** a step of the deploy threw; the rollback follows */
  | { readonly type: 'deploy-error'; readonly reason: string }
  | { readonly type: 'rolling-back'; readonly checkouts: readonly string[] }
  /** `to` is the commit the checkout had before the deploy; `error` says why it is not there again */
  | { readonly type: 'checkout-moved-back'; readonly path: string; readonly to: string; readonly error: string | undefined }
  | {
    readonly type: 'rolled-back';
    /** every checkout back, and the platform healthy again */
    readonly ok: boolean;
    /** why the deploy was rolled back */
    readonly reason: string;
    readonly checkouts: readonly CheckoutStep[];
    readonly problems: readonly string[];
  }
  /** after the rollback of a deploy whose verification failed */
  | { readonly type: 'deploy-failed'; readonly reason: string }
  /** said by the command, with the report in hand */
  | {
    readonly type: 'finished';
    readonly outcome: DeployOutcome;
    readonly message: string;
    readonly endedAt: string;
    readonly durationMs: number;
    readonly exitCode: number;
  };

export type DeployEventType = DeployEvent['type'];
