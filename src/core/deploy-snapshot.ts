// What the scheduler knows of the platform's checkouts between two checks: the verdicts and the
// decision of the last autodeploy run that got that far, and the outcomes of the last deploys.
// The autodeploy job runs in its own container; the scheduler learns all this from the event
// lines of its output (src/core/event-line.ts), so that a status read is answered from memory
// instead of by a new check (seconds of git over ssh).

import type { EventLine } from './event-line.js';

export interface CheckoutStatus {
  readonly path: string;
  readonly verdict: string;
  readonly reason: string;
  readonly branch: string | undefined;
  readonly upstream: string | undefined;
  readonly head: string | undefined;
  readonly upstreamHead: string | undefined;
  readonly ahead: number;
  readonly behind: number;
  /** the upstream's remote URL, credentials removed; undefined for a local upstream */
  readonly remoteUrl: string | undefined;
  /** the upstream's branch on that remote, e.g. main */
  readonly remoteBranch: string | undefined;
}

export interface DecisionStatus {
  readonly action: string;
  readonly reason: string;
  readonly deploy: readonly string[];
  readonly pullOnly: readonly string[];
}

/** One deploy run's end, for the deploy history. */
export interface DeployHistoryEntry {
  readonly run: string;
  readonly outcome: string;
  readonly message: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly exitCode: number;
  /** the checkouts the run moved, and the commits it brought */
  readonly pulled: readonly { readonly path: string; readonly from: string; readonly to: string; readonly commits: readonly { readonly commit: string; readonly subject: string }[] }[];
  readonly decision: string | undefined;
  /** the services restarted or recreated; absent in entries kept by older schedulers */
  readonly restarted?: readonly string[] | undefined;
  /** how the verification ended: ok, and the verify outcome (healthy, timed-out, crash-loop…) */
  readonly verification?: { readonly ok: boolean; readonly outcome: string; readonly waitedMs: number } | undefined;
  /** the rollback of a deploy that failed: whether every checkout went back, and why it was rolled back */
  readonly rollback?: { readonly ok: boolean; readonly reason: string } | undefined;
}

export interface DeployStatusSnapshot {
  /** when the decision below was made; undefined: no check seen yet */
  readonly checkedAt: string | undefined;
  /** the autodeploy run that made it */
  readonly run: string | undefined;
  readonly checkouts: readonly CheckoutStatus[];
  readonly decision: DecisionStatus | undefined;
  /** newest first */
  readonly history: readonly DeployHistoryEntry[];
}

export const EMPTY_DEPLOY_STATUS: DeployStatusSnapshot = { checkedAt: undefined, run: undefined, checkouts: [], decision: undefined, history: [] };

/** Enough deploys to see a pattern; the history file stays small. */
export const DEPLOY_HISTORY_KEEP = 50;

/** What an observed line changed, so that the caller saves the snapshot or notifies. */
export type DeployStatusChange =
  | { readonly kind: 'checked'; readonly decision: DecisionStatus }
  | { readonly kind: 'finished'; readonly entry: DeployHistoryEntry };

interface Pending {
  checkouts: CheckoutStatus[];
  pulled: DeployHistoryEntry['pulled'][number][];
  decision: DecisionStatus | undefined;
  restarted?: string[];
  verification?: NonNullable<DeployHistoryEntry['verification']>;
  rollback?: NonNullable<DeployHistoryEntry['rollback']>;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/**
 * Folds the event lines of autodeploy runs into the snapshot. A run's verdicts replace the
 * previous ones only once its decision is seen, so a run that dies mid-check leaves the last
 * complete picture in place. No I/O: the caller keeps the snapshot on disk.
 */
export class DeployStatusTracker {
  private current: DeployStatusSnapshot;
  private readonly pending = new Map<string, Pending>();

  constructor(initial: DeployStatusSnapshot = EMPTY_DEPLOY_STATUS) {
    this.current = initial;
  }

  snapshot(): DeployStatusSnapshot {
    return this.current;
  }

  observe(run: string, event: EventLine, at: Date): DeployStatusChange | undefined {
    if (!event.event.startsWith('deploy.')) return undefined;
    const f = event.fields;
    const pending = this.pending.get(run) ?? { checkouts: [], pulled: [], decision: undefined };
    this.pending.set(run, pending);
    switch (event.event) {
      case 'deploy.started':
        pending.checkouts = [];
        pending.pulled = [];
        return undefined;
      case 'deploy.checkout-judged': {
        const path = text(f['path']);
        if (path === undefined) return undefined;
        pending.checkouts = pending.checkouts.filter((c) => c.path !== path);
        pending.checkouts.push({
          path,
          verdict: text(f['verdict']) ?? 'error',
          reason: text(f['reason']) ?? '',
          branch: text(f['branch']),
          upstream: text(f['upstream']),
          head: text(f['head']),
          upstreamHead: text(f['upstreamHead']),
          ahead: count(f['ahead']),
          behind: count(f['behind']),
          remoteUrl: text(f['remoteUrl']),
          remoteBranch: text(f['remoteBranch']),
        });
        return undefined;
      }
      case 'deploy.decision': {
        const decision: DecisionStatus = { action: text(f['action']) ?? 'nothing', reason: text(f['reason']) ?? '', deploy: texts(f['deploy']), pullOnly: texts(f['pullOnly']) };
        pending.decision = decision;
        // A run re-attached after a restart resumes its output past the lines already logged:
        // without its verdicts, the last ones known stay.
        const checkouts = pending.checkouts.length > 0 ? pending.checkouts : this.current.checkouts;
        this.current = { ...this.current, checkedAt: at.toISOString(), run, checkouts, decision };
        return { kind: 'checked', decision };
      }
      case 'deploy.pulled': {
        const commits = Array.isArray(f['commits'])
          ? f['commits'].flatMap((c: unknown) => {
            const o = (c ?? {}) as Record<string, unknown>;
            const commit = text(o['commit']);
            return commit === undefined ? [] : [{ commit, subject: text(o['subject']) ?? '' }];
          })
          : [];
        pending.pulled.push({ path: text(f['path']) ?? '', from: text(f['from']) ?? '', to: text(f['to']) ?? '', commits });
        return undefined;
      }
      case 'deploy.restarted':
      case 'deploy.deployed': {
        const services = texts(f[event.event === 'deploy.restarted' ? 'services' : 'restarted']);
        pending.restarted = [...new Set([...(pending.restarted ?? []), ...services])];
        return undefined;
      }
      case 'deploy.verified':
        pending.verification = { ok: f['ok'] === true, outcome: text(f['outcome']) ?? '', waitedMs: count(f['waitedMs']) };
        return undefined;
      case 'deploy.rolled-back':
        pending.rollback = { ok: f['ok'] === true, reason: text(f['reason']) ?? '' };
        return undefined;
      case 'deploy.finished': {
        const entry: DeployHistoryEntry = {
          run,
          outcome: text(f['outcome']) ?? 'failed',
          message: text(f['message']) ?? event.msg,
          endedAt: text(f['endedAt']) ?? at.toISOString(),
          durationMs: count(f['durationMs']),
          exitCode: count(f['exitCode']),
          pulled: pending.pulled,
          decision: pending.decision?.action,
          ...(pending.restarted === undefined ? {} : { restarted: pending.restarted }),
          ...(pending.verification === undefined ? {} : { verification: pending.verification }),
          ...(pending.rollback === undefined ? {} : { rollback: pending.rollback }),
        };
        this.pending.delete(run);
        this.current = { ...this.current, history: [entry, ...this.current.history.filter((e) => e.run !== run)].slice(0, DEPLOY_HISTORY_KEEP) };
        return { kind: 'finished', entry };
      }
      default:
        return undefined;
    }
  }

  /** Takes what a previous scheduler knew, under anything this one has seen since it started. */
  restore(saved: DeployStatusSnapshot): void {
    const seen = new Set(this.current.history.map((e) => e.run));
    const history = [...this.current.history, ...saved.history.filter((e) => !seen.has(e.run))].slice(0, DEPLOY_HISTORY_KEEP);
    this.current = this.current.checkedAt === undefined ? { ...saved, history } : { ...this.current, history };
  }

  /** A run that ended without its `finished` line leaves nothing pending behind. */
  forget(run: string): void {
    this.pending.delete(run);
  }
}
