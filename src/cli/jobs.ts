import { schedulerContext } from '../config/builtin-job.js';
import type { RefusedJob } from '../config/load.js';
import { place } from '../core/issues.js';
import { createMasker, maskJsonLine } from '../core/mask.js';
import { describeStep, jobStep, type Job } from '../core/job.js';
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
  /** the image of a job run in a new container; '' for a job run in place */
  readonly image: string;
  /** where a run runs: a new container of an image, a running container, or the scheduler */
  readonly runs: string;
  readonly enabled: boolean;
  readonly comment: string;
  /** where the job is defined, as file:line */
  readonly source: string;
  /** why the job is in the table when its definition does not say (a built-in turned on, a job replaced) */
  readonly note?: string;
  readonly onstart: boolean;
  readonly triggers: readonly string[];
  /** what gives the job the host, allowed by its host-access flag or because it comes from a job file */
  readonly hostAccess: readonly string[];
  readonly last: Pick<RunRecord, 'run' | 'outcome' | 'startedAt' | 'exitCode' | 'durationMs'> | undefined;
}

/** A job refused on its own (or a job file that could not be read): its problems, as file:line: message. */
export interface RefusedRow {
  readonly name: string | undefined;
  readonly source: string;
  readonly problems: readonly string[];
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
      image: job.kind === 'exec' || job.kind === 'local' ? '' : job.container.image,
      runs: describeStep(jobStep(job)),
      enabled: job.enabled,
      comment: job.comment,
      source: place(job.source),
      ...(job.note === undefined ? {} : { note: job.note.rule }),
      onstart: job.onstart,
      triggers: job.triggers.map((t) => describeStep(t.step)),
      hostAccess: job.hostAccess ?? [],
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

export function refusedRows(refused: readonly RefusedJob[]): RefusedRow[] {
  return refused.map((r) => ({ name: r.name, source: place(r.source), problems: r.issues.map((i) => `${place(i)}: ${i.message}`) }));
}

export function renderJobRows(rows: readonly JobRow[], refused: readonly RefusedRow[] = []): string {
  const header = ['NAME', 'KIND', 'SCHEDULE', 'NEXT RUNS', 'RUNS', 'ENABLED', 'LAST RESULT', 'FROM'];
  const lines = rows.map((row) => [
    row.name,
    row.kind,
    row.schedule === '' ? '(none)' : row.schedule,
    row.next.length === 0 ? '-' : row.next.map(shortTime).join(', '),
    row.runs + (row.triggers.length === 0 ? '' : `, then ${row.triggers.length} trigger${row.triggers.length === 1 ? '' : 's'}`),
    row.enabled ? (row.onstart ? 'yes, on start too' : 'yes') : 'no',
    row.last ? describeLast(row.last) : '-',
    row.source,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [format(header), ...lines.map(format)];
  const notes = rows.filter((row) => row.note !== undefined);
  if (notes.length > 0) out.push('', ...notes.map((row) => `${row.name}: ${row.note ?? ''}`));
  const host = rows.filter((row) => row.hostAccess.length > 0);
  if (host.length > 0) out.push('', 'HOST ACCESS (host-access: true, or a job file of a platform component):', ...host.flatMap((row) => row.hostAccess.map((why) => `  ${row.name}: ${why}`)));
  if (refused.length > 0) {
    out.push('', `REFUSED (${refused.length}; every other job runs, and a refused job keeps its last good definition):`);
    for (const r of refused) out.push(...r.problems.map((p) => `  ${p}`));
  }
  return out.join('\n');
}

function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function describeLast(last: NonNullable<JobRow['last']>): string {
  const code = last.exitCode === undefined ? '' : ` exit ${last.exitCode}`;
  const took = last.durationMs === undefined ? '' : ` in ${(last.durationMs / 1000).toFixed(1)}s`;
  return `${last.outcome}${code}${took} at ${shortTime(last.startedAt)}`;
}

/** `jobs --json`: the rows, each refused job as a row of its own with its problems. */
function jsonTable(rows: readonly JobRow[], refused: readonly RefusedRow[]): readonly (JobRow | (RefusedRow & { readonly refused: true }))[] {
  return [...rows, ...refused.map((r) => ({ ...r, refused: true as const }))];
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
    const refused = refusedRows(config.refused);
    // A comment or a problem may quote a secret: the table is masked like a log line.
    const mask = createMasker(config.secrets);
    write(stdout, values.json ? maskJsonLine(JSON.stringify(jsonTable(rows, refused), null, 2), mask) : mask(renderJobRows(rows, refused)));
    return EXIT.ok;
  },
};
