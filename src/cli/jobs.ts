import { schedulerContext } from '../config/builtin-job.js';
import type { Job } from '../core/job.js';
import { nextRuns } from '../core/next-runs.js';
import type { RunRecord } from '../core/run.js';
import { RunHistory } from '../state/run-history.js';
import { connectDocker, dockerJobContainers } from '../docker/job-containers.js';
import { EXIT, ENV_FILE_OPTION, parseCommandArgs, resolveEnvFile, write, type Command } from './common.js';
import { configOrReport } from './command-config.js';

export interface JobRow {
  readonly name: string;
  readonly kind: Job['kind'];
  readonly schedule: string;
  readonly next: readonly string[];
  readonly image: string;
  readonly enabled: boolean;
  readonly comment: string;
  readonly last: Pick<RunRecord, 'run' | 'outcome' | 'startedAt' | 'exitCode' | 'durationMs'> | undefined;
}

/** The table `autodeploy jobs` prints: a plain function of the job table, the clock and the history. */
export function jobRows(jobs: readonly Job[], now: Date, last: ReadonlyMap<string, RunRecord | undefined>): JobRow[] {
  return jobs.map((job) => {
    const record = last.get(job.name);
    return {
      name: job.name,
      kind: job.kind,
      schedule: job.schedule?.text ?? '',
      next: job.enabled && job.schedule ? nextRuns(job.schedule, now, 3).map((d) => d.toISOString()) : [],
      image: job.container.image,
      enabled: job.enabled,
      comment: job.comment,
      last: record && {
        run: record.run,
        outcome: record.outcome,
        startedAt: record.startedAt,
        ...(record.exitCode === undefined ? {} : { exitCode: record.exitCode }),
        ...(record.durationMs === undefined ? {} : { durationMs: record.durationMs }),
      },
    };
  });
}

export function renderJobRows(rows: readonly JobRow[]): string {
  const header = ['NAME', 'KIND', 'SCHEDULE', 'NEXT RUNS', 'IMAGE', 'ENABLED', 'LAST RESULT'];
  const lines = rows.map((row) => [
    row.name,
    row.kind,
    row.schedule === '' ? '(none)' : row.schedule,
    row.next.length === 0 ? '-' : row.next.map(shortTime).join(', '),
    row.image,
    row.enabled ? 'yes' : 'no',
    row.last ? describeLast(row.last) : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [format(header), ...lines.map(format)].join('\n');
}

function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function describeLast(last: NonNullable<JobRow['last']>): string {
  const code = last.exitCode === undefined ? '' : ` exit ${last.exitCode}`;
  const took = last.durationMs === undefined ? '' : ` in ${(last.durationMs / 1000).toFixed(1)}s`;
  return `${last.outcome}${code}${took} at ${shortTime(last.startedAt)}`;
}

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'print the job table: schedule, next three runs, image, last result',
  usage: 'autodeploy jobs [--json] [--env-file FILE]',
  async run({ argv, env, stdout, stderr }) {
    const { values } = parseCommandArgs(argv, { ...ENV_FILE_OPTION, json: { type: 'boolean' } });
    const envFile = resolveEnvFile(values['env-file'], env);
    const context = schedulerContext(await dockerJobContainers(connectDocker({}, { ...env })).self());
    const config = await configOrReport(env, envFile, stderr, context);
    if (config === undefined) {
      write(stderr, 'the job table cannot be built; run `autodeploy validate` after fixing these');
      return EXIT.usage;
    }
    const history = new RunHistory(config.settings.stateDir);
    const last = new Map<string, RunRecord | undefined>();
    for (const job of config.jobs) {
      last.set(job.name, (await history.runs(job.name)).find((r) => r.outcome !== 'skipped'));
    }
    const rows = jobRows(config.jobs, new Date(), last);
    write(stdout, values.json ? JSON.stringify(rows, null, 2) : renderJobRows(rows));
    return EXIT.ok;
  },
};
