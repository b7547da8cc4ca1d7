// The line a person reads for each event of a deploy: what `autodeploy deploy`
// prints, and the message of the event's record in autodeploy.log.

import type { DeployKeyChoice } from './checkout.js';
import type { CommitSet } from './deploy-record.js';
import type { DeployEvent } from './deploy-events.js';
import { shortId } from './short-id.js';

const short = (commit: string): string => shortId(commit);
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

export function deployEventText(event: DeployEvent): string {
  switch (event.type) {
    case 'started':
      return `autodeploy ${event.dryRun ? 'dry run' : 'run'} started at ${event.at}: ${plural(event.checkouts.length, 'checkout')}`;
    case 'interrupted':
      return `warning: a deploy started at ${event.startedAt} did not finish; heads before it: ${describeCommits(event.heads)}`;
    case 'recovering':
      return event.action === 'finish'
        ? `finishing the interrupted deploy (it died while ${event.step}): bringing the platform up from its checkouts (${describeCommits(event.targets)}) and verifying it, else rolling back`
        : `undoing the interrupted deploy (it died while ${event.step}): moving its checkouts back (${describeCommits(event.heads)}) and bringing the platform up as it was`;
    case 'recovered':
      if (event.action === 'finished') return `interrupted deploy finished: ${event.checkouts.map((c) => `${c.path} ${short(c.from)}..${short(c.to)}`).join(', ') || 'the platform runs what its checkouts say'}`;
      return event.ok ? 'interrupted deploy rolled back: the platform runs the previous commits again' : 'interrupted deploy rolled back, but not cleanly: see above';
    case 'unjudged':
      return `not a success: ${plural(event.checkouts.length, 'checkout')} could not be judged: ${event.checkouts.map((c) => `${c.path} (${c.verdict}: ${c.reason})`).join('; ')}`;
    case 'checkout-judged':
      return `checkout ${event.path}: ${event.verdict}: ${event.reason}${describeKey(event.key)}`;
    case 'trigger-answered':
      return `  conditional trigger ${event.trigger ? 'says deploy' : 'says no deploy'} (exit ${event.exitCode ?? 'killed'})`;
    case 'decision':
      return `decision: ${event.action}: ${event.reason}`;
    case 'locked':
      return `another deploy holds the lock (started ${event.holder.startedAt} in ${event.holder.host}, pid ${event.holder.pid}); not deploying now`;
    case 'compose-command':
      return `compose command: ${event.argv.join(' ')} (${event.source})`;
    case 'stopping-all':
      return 'stopping every service (AUTODEPLOY_RESTART=all)';
    case 'pulled':
      return `${event.deployed ? 'pulled' : 'fast-forwarded (no deploy)'} ${event.path}: ${short(event.from)}..${short(event.to)}`;
    case 'commit':
      return `  ${short(event.commit)} ${event.subject}`;
    case 'compose-up':
      return `compose up -d (project ${event.project})`;
    case 'compose-output':
      return `  compose: ${event.line}`;
    case 'restarting':
      return `restarting ${event.service}: it mounts ${event.changed.slice(0, 3).join(', ')}${event.changed.length > 3 ? ', …' : ''}`;
    case 'restarted':
      return `restarted ${event.services.join(', ')}`;
    case 'verifying':
      return `verifying ${plural(event.services.length, 'service')} (up to ${Math.round(event.timeoutMs / 1000)}s): ${event.services.join(', ')}`;
    case 'service-checked':
      return `  ${event.service}: ${event.state}${event.ok ? '' : ` (${event.detail})`}`;
    case 'verified':
      return `verification ${event.ok ? 'passed' : 'failed'} after ${(event.waitedMs / 1000).toFixed(1)}s`;
    case 'deployed':
      return `deploy succeeded: ${event.checkouts.map((c) => `${c.path} ${short(c.from)}..${short(c.to)}`).join(', ')}`;
    case 'verification-failed':
      return `verification failed: ${event.reason}`;
    case 'deploy-error':
      return `deploy failed: ${event.reason}`;
    case 'rolling-back':
      return `rolling back ${plural(event.checkouts.length, 'checkout')}`;
    case 'checkout-moved-back':
      return event.error === undefined ? `  ${event.path}: back to ${short(event.to)}` : `  ${event.path}: NOT rolled back: ${event.error}`;
    case 'rolled-back':
      return event.problems.length === 0 ? 'rolled back: the platform runs the previous commits again' : `rollback incomplete: ${event.problems.join('; ')}`;
    case 'deploy-failed':
      return `deploy failed and was rolled back: ${event.reason}`;
    case 'finished':
      return `autodeploy finished at ${event.endedAt} (${(event.durationMs / 1000).toFixed(1)}s): ${event.outcome}: ${event.message}`;
  }
}

function describeCommits(commits: CommitSet): string {
  return Object.entries(commits).map(([path, commit]) => `${path}@${short(commit)}`).join(', ');
}

function describeKey(key: DeployKeyChoice): string {
  return key.path === undefined ? '' : ` [key ${key.path} (${key.reason})]`;
}
