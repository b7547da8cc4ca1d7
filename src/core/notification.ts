// What the scheduler tells the operator's chat or alerting webhooks, as plain data: which
// happenings are worth a message, and the message.

import type { DeployHistoryEntry } from './deploy-snapshot.js';

export const NOTIFICATION_KINDS = [
  'deploy-succeeded',
  'deploy-failed',
  'deploy-rolled-back',
  'deploy-held',
  'job-failed',
  'job-timed-out',
  'config-refused',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface Notification {
  readonly kind: NotificationKind;
  /** one line a person reads in a chat */
  readonly text: string;
  /** the same, as fields, for the JSON form */
  readonly fields: Readonly<Record<string, unknown>>;
}

const DEPLOY_KINDS: Readonly<Record<string, NotificationKind>> = {
  deployed: 'deploy-succeeded',
  'rolled-back': 'deploy-rolled-back',
  failed: 'deploy-failed',
  aborted: 'deploy-failed',
  held: 'deploy-held',
};

/** The message for a deploy run's end; undefined when nothing happened worth one (nothing to do, a dry run). */
export function deployNotification(entry: DeployHistoryEntry, platform: string): Notification | undefined {
  const kind = DEPLOY_KINDS[entry.outcome];
  if (kind === undefined) return undefined;
  const commits = entry.pulled.flatMap((p) => p.commits.map((c) => `${c.commit.slice(0, 8)} ${c.subject}`));
  const what = {
    'deploy-succeeded': 'deployed',
    'deploy-rolled-back': 'deploy failed and was rolled back',
    'deploy-failed': 'deploy failed',
    'deploy-held': 'deploy held',
  }[kind as 'deploy-succeeded'];
  const text = `[${platform}] ${what}: ${entry.message}${commits.length > 0 ? ` (${commits.slice(0, 5).join('; ')}${commits.length > 5 ? '; …' : ''})` : ''}`;
  return { kind, text, fields: { platform, run: entry.run, outcome: entry.outcome, message: entry.message, endedAt: entry.endedAt, commits } };
}

/** The message for a job's run that failed or timed out; undefined for any other end. */
export function jobNotification(run: { readonly job: string; readonly run: string; readonly outcome: string; readonly exitCode: number | undefined; readonly message: string | undefined }, platform: string): Notification | undefined {
  if (run.outcome !== 'failed' && run.outcome !== 'timed-out' && run.outcome !== 'error') return undefined;
  const kind: NotificationKind = run.outcome === 'timed-out' ? 'job-timed-out' : 'job-failed';
  const detail = run.message ?? (run.exitCode === undefined ? run.outcome : `exit code ${run.exitCode}`);
  return {
    kind,
    text: `[${platform}] job ${run.job} ${run.outcome === 'timed-out' ? 'timed out' : 'failed'}: ${detail} (run ${run.run})`,
    fields: { platform, job: run.job, run: run.run, outcome: run.outcome, exitCode: run.exitCode ?? null, message: run.message ?? null },
  };
}

/** The message for a configuration the scheduler refused (it keeps the last valid one). */
export function configNotification(problems: readonly string[], platform: string): Notification {
  const shown = problems.slice(0, 5);
  return {
    kind: 'config-refused',
    text: `[${platform}] configuration refused, the previous one keeps running: ${shown.join('; ')}${problems.length > shown.length ? `; and ${problems.length - shown.length} more` : ''}`,
    fields: { platform, problems },
  };
}
