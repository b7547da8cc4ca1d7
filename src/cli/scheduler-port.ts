// The daemon as the HTTP feature sees it (src/core/scheduler-port.ts): wired here, so that
// neither knows the other.

import type { DeployStatusTracker } from '../core/deploy-snapshot.js';
import type { Job, Schedule } from '../core/job.js';
import { nextRuns } from '../core/next-runs.js';
import type { RunResult, SchedulerListener, SchedulerPort, StartAnswer } from '../core/scheduler-port.js';
import { readLogs } from '../logging/read-logs.js';
import type { Daemon, LaunchAnswer } from '../scheduler/daemon.js';
import type { RunReport } from '../scheduler/run-job.js';

export const DEPLOY_JOB = 'autodeploy';
export const NOTEBOOK_JOB = 'notebookdeploy';

/** A run's lines are read back from its job's log; a run that wrote more is cut, newest kept. */
const MAX_OUTPUT_LINES = 5_000;

function result(report: RunReport): RunResult {
  return { job: report.job, run: report.run, outcome: report.outcome, exitCode: report.exitCode, durationMs: report.durationMs, message: report.message };
}

function answer(launch: LaunchAnswer): StartAnswer {
  switch (launch.kind) {
    case 'started':
      return { kind: 'started', result: launch.result.then(result) };
    case 'busy':
      return { kind: 'busy', current: launch.current.then(result) };
    default:
      return launch;
  }
}

/** The notebook job once with `--rollback`: the same container, name and mutex. */
function rollbackVariant(job: Job): Job {
  if (job.kind !== 'notebookdeploy') return job;
  return { ...job, container: { ...job.container, command: [...job.container.command, '--rollback'] } };
}

/**
 * A schedule's longest gap between two of its next runs, which is what "twice its interval"
 * means for a cron schedule that is not regular (weekdays only). Kept per schedule: a scrape
 * asks for every job every few seconds, and the calendar work is the same each time.
 */
const intervals = new Map<string, number>();
const INTERVAL_SAMPLES = 8;
function intervalSeconds(schedule: Schedule, now: Date): number {
  if (schedule.kind === 'every') return schedule.intervalMs / 1000;
  const key = `${schedule.timezone ?? ''}\u0000${schedule.expression}`;
  const known = intervals.get(key);
  if (known !== undefined) return known;
  const runs = nextRuns(schedule, now, INTERVAL_SAMPLES);
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, (runs[i]!.getTime() - runs[i - 1]!.getTime()) / 1000);
  intervals.set(key, longest);
  return longest;
}

/** The job's next runs: the one its timer is armed for, then the two its schedule gives after it. */
const COMING_RUNS = 3;
function comingRuns(job: Job, first: Date | undefined): Date[] {
  if (first === undefined || job.schedule === null) return [];
  return [first, ...nextRuns(job.schedule, first, COMING_RUNS - 1, first)];
}

export function schedulerPort(daemon: Daemon, tracker: DeployStatusTracker): SchedulerPort {
  // node-cron finds a cron job's next run by walking its calendar, a millisecond or more for a
  // yearly job: a scrape of 100 jobs every few seconds keeps each answer until it is past, for
  // as long as the job's definition is the same object (a reload makes new ones).
  const nextRuns = new Map<string, { readonly job: Job; readonly next: Date }>();
  const nextRunOf = (job: Job, now: Date): Date | undefined => {
    const known = nextRuns.get(job.name);
    if (known !== undefined && known.job === job && known.next.getTime() > now.getTime()) return known.next;
    const next = daemon.nextRun(job.name);
    if (next === undefined) nextRuns.delete(job.name);
    else nextRuns.set(job.name, { job, next });
    return next;
  };
  return {
    deployJob: DEPLOY_JOB,
    notebookJob: NOTEBOOK_JOB,
    async jobs() {
      return Promise.all(
        daemon.jobs.map(async (job) => ({
          name: job.name,
          kind: job.kind,
          schedule: job.schedule?.text ?? '',
          enabled: job.enabled,
          comment: job.comment === '' ? undefined : job.comment,
          nextRun: daemon.nextRun(job.name)?.toISOString(),
          nextRuns: comingRuns(job, daemon.nextRun(job.name)).map((d) => d.toISOString()),
          running: daemon.running(job.name),
          lastRun: await daemon.runHistory.last(job.name),
        })),
      );
    },
    async runs(job) {
      if (!daemon.jobs.some((j) => j.name === job)) return undefined;
      return daemon.runHistory.runs(job);
    },
    async runOutput(job, run) {
      const dir = daemon.config?.settings.logDir;
      if (dir === undefined) return [];
      const lines = [];
      for await (const entry of readLogs({ dir, name: job })) {
        const record = entry.record;
        if (record?.run !== run) continue;
        lines.push({ time: new Date(record.time).toISOString(), stream: record.out, text: record.msg });
        if (lines.length > MAX_OUTPUT_LINES) lines.shift();
      }
      return lines;
    },
    start(job, request) {
      return answer(daemon.start(job, request));
    },
    rollbackNotebooks(request) {
      return answer(daemon.start(NOTEBOOK_JOB, request, rollbackVariant));
    },
    jobTimings() {
      const now = new Date();
      if (nextRuns.size > daemon.jobs.length) for (const name of nextRuns.keys()) if (!daemon.jobs.some((j) => j.name === name)) nextRuns.delete(name);
      return daemon.jobs.map((job) => {
        const next = nextRunOf(job, now);
        return {
          name: job.name,
          enabled: job.enabled,
          running: daemon.running(job.name),
          nextRun: next,
          intervalSeconds: job.enabled && job.schedule !== null && next !== undefined ? intervalSeconds(job.schedule, now) : undefined,
          since: daemon.keptSince(job.name) ?? now,
        };
      });
    },
    configHealth() {
      const problems = daemon.configIssues.length;
      return { valid: problems === 0 && daemon.config !== undefined, problems, refused: daemon.config?.refused.length ?? 0 };
    },
    subscribe(listener: SchedulerListener) {
      const onRun = (report: RunReport): void => listener.runEnded?.({ ...result(report), startedAt: report.startedAt.toISOString() });
      const onSkip = (job: string): void => listener.runSkipped?.(job);
      const onOutput = (run: { job: string; run: string }, line: { stream: 'stdout' | 'stderr'; text: string }): void => listener.output?.(run, line);
      daemon.on('run', onRun);
      daemon.on('skipped', onSkip);
      daemon.on('output', onOutput);
      return () => {
        daemon.off('run', onRun);
        daemon.off('skipped', onSkip);
        daemon.off('output', onOutput);
      };
    },
    deployStatus: () => tracker.snapshot(),
    deployHistory: () => tracker.snapshot().history,
  };
}
