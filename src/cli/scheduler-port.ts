// The daemon as the HTTP feature sees it (src/core/scheduler-port.ts): wired here, so that
// neither knows the other.

import type { DeployStatusTracker } from '../core/deploy-snapshot.js';
import type { Job } from '../core/job.js';
import type { RunResult, SchedulerPort, StartAnswer } from '../core/scheduler-port.js';
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

export function schedulerPort(daemon: Daemon, tracker: DeployStatusTracker): SchedulerPort {
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
    deployStatus: () => tracker.snapshot(),
    deployHistory: () => tracker.snapshot().history,
  };
}
