// GET /metrics: the scheduler in Prometheus' text format, by prom-client. The HTTP server
// imports this at the first scrape, so that a scheduler that nothing scrapes (or that has no
// port) never holds prom-client in memory; counting starts then.
//
// Counters and histograms follow what happens (runs ending, the built-in jobs' `finished` event
// lines); gauges are read from the scheduler's memory when Prometheus asks, so that a scrape
// reads no file. The text of the scheduler's series is made again only when one of them changed
// since the last scrape: with 100 jobs it is most of the answer, and the daemon runs without
// V8's optimizing compilers (bin/autodeploy-daemon), so making it costs milliseconds and garbage. Every label value is a job name, a checkout path or a fixed word: never a
// commit, a message or a run id, so that the number of series stays that of the platform.
// A job's name is the label `name`: `job` is Prometheus' own, the scrape job's.
//
// One file of over 300 lines: it is one exposition. Each family is declared, fed from the
// scheduler's events and read from its memory here, and the label sets it starts, keeps and drops
// must agree; split, a family's pieces would live in different files.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VERDICTS } from '../core/checkout.js';
import type { DeployOutcome } from '../core/deploy-events.js';
import { parseEventLine } from '../core/event-line.js';
import type { NotebookOutcome } from '../core/notebook-events.js';
import type { RunEnded, SchedulerPort } from '../core/scheduler-port.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The outcomes every job's run counter starts at zero with, so that the first failure is an increase. */
const RUN_OUTCOMES = ['succeeded', 'failed', 'timed-out', 'skipped', 'error'] as const;
const COUNTED_RUN_OUTCOMES = new Set<string>([...RUN_OUTCOMES, 'interrupted']);
const FAILED = new Set<string>(['failed', 'timed-out', 'error']);

const DEPLOY_OUTCOMES: readonly DeployOutcome[] = ['deployed', 'rolled-back', 'held', 'aborted', 'nothing', 'failed', 'pulled', 'locked', 'dry-run'];
const NOTEBOOK_OUTCOMES: readonly NotebookOutcome[] = ['published', 'unchanged', 'held', 'rolled-back', 'locked', 'failed', 'dry-run'];

/**
 * Seconds: from a run of a few seconds to a deploy that waits out its verification. Few
 * buckets: each is a series per job, and a scrape of 100 jobs must stay cheap.
 */
const RUN_BUCKETS = [5, 30, 120, 600, 1800, 3600];

const seconds = (date: Date): number => date.getTime() / 1000;

/**
 * The time a notebook set was made, from its version id (`20240131-140502-3f2a9c1b`, or
 * `legacy-20240131-140502` for a directory adopted as it was). See src/notebooks/layout.ts.
 */
export function notebookSetTime(version: string): Date | undefined {
  const match = /^(?:legacy-)?(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-|$)/.exec(version);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(at.getTime()) ? undefined : at;
}

interface JobState {
  lastSuccess: number | undefined;
  lastFailure: number | undefined;
  consecutiveFailures: number;
}

export interface SchedulerMetricsOptions {
  readonly scheduler: SchedulerPort;
  readonly now: () => Date;
}

/** The scheduler's metrics: listens to the scheduler from its creation until `close()`. */
export class SchedulerMetrics {
  readonly contentType = METRICS_CONTENT_TYPE;
  /** the scheduler's own series: rendered again only when one of them changed */
  readonly registry = new Registry();
  /** the series that change by themselves (the process's, the notebook set's age): rendered at every scrape */
  readonly live = new Registry();
  private dirty = true;
  private cached = '';
  private readonly scheduler: SchedulerPort;
  private readonly now: () => Date;
  private readonly jobStates = new Map<string, JobState>();
  /** the jobs and checkouts that have series, so that those that leave lose theirs */
  private readonly jobsWithSeries = new Set<string>();
  private readonly checkoutsWithSeries = new Set<string>();
  private notebookSetAt: Date | undefined;
  /**
   * The value each gauge series was last given. Most do not change between two scrapes, and
   * prom-client hashes the labels of every set: skipping the unchanged ones keeps a scrape's
   * garbage (and the daemon's collections, with its small young generation) small.
   */
  private readonly written = new Map<Gauge<string>, Map<string, number>>();
  private readonly unsubscribe: () => void;
  private readonly seeding: Promise<void>;

  private readonly runs: Counter<'name' | 'outcome'>;
  private readonly runDuration: Histogram<'name'>;
  private readonly lastSuccess: Gauge<'name'>;
  private readonly lastFailure: Gauge<'name'>;
  private readonly consecutiveFailures: Gauge<'name'>;
  private readonly nextRun: Gauge<'name'>;
  private readonly interval: Gauge<'name'>;
  private readonly since: Gauge<'name'>;
  private readonly running: Gauge<'name'>;
  private readonly deploys: Counter<'outcome'>;
  private readonly deployDuration: Histogram;
  private readonly lastDeploy: Gauge;
  private readonly lastDeployOutcome: Gauge<'outcome'>;
  private readonly lastCheck: Gauge;
  private readonly verdict: Gauge<'checkout' | 'verdict'>;
  private readonly behind: Gauge<'checkout'>;
  private readonly ahead: Gauge<'checkout'>;
  private readonly configValid: Gauge;
  private readonly configProblems: Gauge;
  private readonly refused: Gauge;
  private readonly notebooks: Counter<'outcome'>;
  private readonly notebookSet: Gauge;
  private readonly notebookAge: Gauge;

  constructor(options: SchedulerMetricsOptions) {
    this.scheduler = options.scheduler;
    this.now = options.now;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.live });

    this.runs = new Counter({ name: 'autodeploy_job_runs_total', help: 'Runs of each job by how they ended (succeeded, failed, timed-out, skipped, error, interrupted).', labelNames: ['name', 'outcome'], registers });
    this.runDuration = new Histogram({ name: 'autodeploy_job_run_duration_seconds', help: 'How long the runs of each job took (skipped runs excluded).', labelNames: ['name'], buckets: RUN_BUCKETS, registers });
    this.lastSuccess = new Gauge({ name: 'autodeploy_job_last_success_timestamp_seconds', help: 'When the last successful run of each job ended (no series: none seen).', labelNames: ['name'], registers });
    this.lastFailure = new Gauge({ name: 'autodeploy_job_last_failure_timestamp_seconds', help: 'When the last failed, timed-out or unstartable run of each job ended (no series: none seen).', labelNames: ['name'], registers });
    this.consecutiveFailures = new Gauge({ name: 'autodeploy_job_consecutive_failures', help: 'Runs of each job that failed in a row since its last success.', labelNames: ['name'], registers });
    this.nextRun = new Gauge({ name: 'autodeploy_job_next_run_timestamp_seconds', help: 'When each scheduled job is next due (no series: not scheduled).', labelNames: ['name'], registers });
    this.interval = new Gauge({ name: 'autodeploy_job_interval_seconds', help: 'The longest gap between two coming runs of each scheduled job.', labelNames: ['name'], registers });
    this.since = new Gauge({ name: 'autodeploy_job_scheduled_since_timestamp_seconds', help: 'Since when this scheduler keeps each job (its start, or the reload that added it).', labelNames: ['name'], registers });
    this.running = new Gauge({ name: 'autodeploy_job_running', help: '1 while a run of the job is going.', labelNames: ['name'], registers });

    this.deploys = new Counter({ name: 'autodeploy_deploys_total', help: 'Runs of the autodeploy job by the outcome of their deploy.', labelNames: ['outcome'], registers });
    this.deployDuration = new Histogram({ name: 'autodeploy_deploy_duration_seconds', help: 'How long deploys took, from the check to the end of verification or rollback.', buckets: RUN_BUCKETS, registers });
    this.lastDeploy = new Gauge({ name: 'autodeploy_deploy_last_success_timestamp_seconds', help: 'When the last deploy that deployed something ended (0: none in the history).', registers });
    this.lastDeployOutcome = new Gauge({ name: 'autodeploy_deploy_last_outcome', help: '1 for the outcome of the last deploy in the history, 0 for the others.', labelNames: ['outcome'], registers });
    this.lastCheck = new Gauge({ name: 'autodeploy_checkouts_checked_timestamp_seconds', help: 'When the checkouts were last judged by an autodeploy run (0: no check seen).', registers });
    this.verdict = new Gauge({ name: 'autodeploy_checkout_verdict', help: '1 for the verdict of each checkout at the last check, 0 for the other verdicts.', labelNames: ['checkout', 'verdict'], registers });
    this.behind = new Gauge({ name: 'autodeploy_checkout_commits_behind', help: 'Commits each checkout is behind its upstream at the last check.', labelNames: ['checkout'], registers });
    this.ahead = new Gauge({ name: 'autodeploy_checkout_commits_ahead', help: 'Commits each checkout is ahead of its upstream at the last check.', labelNames: ['checkout'], registers });

    this.configValid = new Gauge({ name: 'autodeploy_config_valid', help: '1 when env.local and the job files as they are now are in force; 0 when they were refused and the last good table runs.', registers });
    this.configProblems = new Gauge({ name: 'autodeploy_config_problems', help: 'Problems found in the last read of env.local and the job files.', registers });
    this.refused = new Gauge({ name: 'autodeploy_config_refused_jobs', help: 'Jobs refused on their own (every other job runs).', registers });

    this.notebooks = new Counter({ name: 'autodeploy_notebook_publishes_total', help: 'Runs of the notebook job by their outcome.', labelNames: ['outcome'], registers });
    this.notebookSet = new Gauge({ name: 'autodeploy_notebook_set_timestamp_seconds', help: 'When the notebook set in place was made (0: no notebook run seen since the scheduler started).', registers });
    this.notebookAge = new Gauge({ name: 'autodeploy_notebook_set_age_seconds', help: 'Age of the notebook set in place (NaN: not known yet).', registers: [this.live] });

    for (const outcome of DEPLOY_OUTCOMES) this.deploys.inc({ outcome }, 0);
    for (const outcome of NOTEBOOK_OUTCOMES) this.notebooks.inc({ outcome }, 0);
    this.unsubscribe = this.scheduler.subscribe?.({
      runEnded: (run) => this.runEnded(run),
      runSkipped: (job) => this.countRun(job, 'skipped'),
      output: (run, line) => {
        if (line.stream === 'stdout' && (run.job === this.scheduler.deployJob || run.job === this.scheduler.notebookJob)) this.eventLine(line.text);
      },
    }) ?? (() => undefined);
    this.seeding = this.seed();
  }

  /** The text Prometheus scrapes. */
  async render(): Promise<string> {
    await this.seeding;
    this.refresh();
    if (this.dirty) {
      // Cleared first: a run that ends while the text is made marks it for the next scrape.
      this.dirty = false;
      this.cached = await this.registry.metrics();
    }
    return `${this.cached}${await this.live.metrics()}`;
  }

  close(): void {
    this.unsubscribe();
  }

  /** What a previous scheduler's runs say of the last success and failure, read once at start. */
  private async seed(): Promise<void> {
    try {
      for (const job of await this.scheduler.jobs()) {
        const runs = (await this.scheduler.runs(job.name)) ?? [];
        const state = this.state(job.name);
        for (const run of runs) {
          if (run.endedAt === undefined) continue;
          const ended = Date.parse(run.endedAt) / 1000;
          if (run.outcome === 'succeeded') state.lastSuccess ??= ended;
          if (FAILED.has(run.outcome)) state.lastFailure ??= ended;
        }
        // Newest first: the failures before the newest success.
        for (const run of runs) {
          if (run.outcome === 'succeeded') break;
          if (FAILED.has(run.outcome)) state.consecutiveFailures += 1;
        }
      }
    } catch {
      // A history that cannot be read leaves the metrics to what this scheduler sees.
    }
  }

  private state(job: string): JobState {
    let state = this.jobStates.get(job);
    if (state === undefined) {
      state = { lastSuccess: undefined, lastFailure: undefined, consecutiveFailures: 0 };
      this.jobStates.set(job, state);
    }
    return state;
  }

  private countRun(job: string, outcome: string): void {
    if (!COUNTED_RUN_OUTCOMES.has(outcome)) return;
    this.runs.inc({ name: job, outcome });
    this.dirty = true;
  }

  private runEnded(run: RunEnded): void {
    this.countRun(run.job, run.outcome);
    if (run.outcome === 'skipped' || run.outcome === 'interrupted') return;
    this.runDuration.observe({ name: run.job }, run.durationMs / 1000);
    this.dirty = true;
    const state = this.state(run.job);
    const ended = (Date.parse(run.startedAt) + run.durationMs) / 1000;
    if (run.outcome === 'succeeded') {
      state.lastSuccess = ended;
      state.consecutiveFailures = 0;
    } else if (FAILED.has(run.outcome)) {
      state.lastFailure = ended;
      state.consecutiveFailures += 1;
    }
  }

  private eventLine(text: string): void {
    const event = parseEventLine(text);
    if (event === undefined) return;
    const outcome = event.fields['outcome'];
    if (event.event === 'deploy.finished' && typeof outcome === 'string' && (DEPLOY_OUTCOMES as readonly string[]).includes(outcome)) {
      this.deploys.inc({ outcome });
      this.dirty = true;
      const duration = event.fields['durationMs'];
      if (typeof duration === 'number' && Number.isFinite(duration)) this.deployDuration.observe(duration / 1000);
    } else if (event.event === 'notebooks.finished' && typeof outcome === 'string' && (NOTEBOOK_OUTCOMES as readonly string[]).includes(outcome)) {
      this.notebooks.inc({ outcome });
      this.dirty = true;
      const version = event.fields['version'];
      if (typeof version === 'string') this.notebookSetAt = notebookSetTime(version) ?? this.notebookSetAt;
    }
  }

  /** Gauges from the scheduler's memory, as they are at this scrape. */
  private refresh(): void {
    const now = this.now();
    const timings = this.scheduler.jobTimings?.() ?? [];
    const present = new Set(timings.map((t) => t.name));
    for (const job of this.jobsWithSeries) if (!present.has(job)) this.dropJob(job);
    for (const t of timings) {
      const job = { name: t.name };
      if (!this.jobsWithSeries.has(t.name)) {
        this.jobsWithSeries.add(t.name);
        for (const outcome of RUN_OUTCOMES) this.runs.inc({ name: t.name, outcome }, 0);
        this.dirty = true;
      }
      const state = this.state(t.name);
      const key = t.name;
      if (state.lastSuccess === undefined) this.unset(this.lastSuccess, job, key);
      else this.put(this.lastSuccess, job, key, state.lastSuccess);
      if (state.lastFailure === undefined) this.unset(this.lastFailure, job, key);
      else this.put(this.lastFailure, job, key, state.lastFailure);
      this.put(this.consecutiveFailures, job, key, state.consecutiveFailures);
      if (t.nextRun === undefined) this.unset(this.nextRun, job, key);
      else this.put(this.nextRun, job, key, seconds(t.nextRun));
      if (t.intervalSeconds === undefined) this.unset(this.interval, job, key);
      else this.put(this.interval, job, key, t.intervalSeconds);
      this.put(this.since, job, key, seconds(t.since));
      this.put(this.running, job, key, t.running ? 1 : 0);
    }

    const status = this.scheduler.deployStatus();
    this.put(this.lastCheck, {}, '', status.checkedAt === undefined ? 0 : Date.parse(status.checkedAt) / 1000);
    const checkouts = new Set(status.checkouts.map((c) => c.path));
    for (const path of this.checkoutsWithSeries) {
      if (checkouts.has(path)) continue;
      this.checkoutsWithSeries.delete(path);
      for (const verdict of VERDICTS) this.unset(this.verdict, { checkout: path, verdict }, `${path}\u0000${verdict}`);
      this.unset(this.behind, { checkout: path }, path);
      this.unset(this.ahead, { checkout: path }, path);
    }
    for (const c of status.checkouts) {
      this.checkoutsWithSeries.add(c.path);
      for (const verdict of VERDICTS) this.put(this.verdict, { checkout: c.path, verdict }, `${c.path}\u0000${verdict}`, c.verdict === verdict ? 1 : 0);
      this.put(this.behind, { checkout: c.path }, c.path, c.behind);
      this.put(this.ahead, { checkout: c.path }, c.path, c.ahead);
    }
    const deployed = status.history.find((e) => e.outcome === 'deployed');
    this.put(this.lastDeploy, {}, '', deployed === undefined ? 0 : Date.parse(deployed.endedAt) / 1000);
    const last = status.history[0];
    for (const outcome of DEPLOY_OUTCOMES) this.put(this.lastDeployOutcome, { outcome }, outcome, last?.outcome === outcome ? 1 : 0);

    const health = this.scheduler.configHealth?.();
    if (health !== undefined) {
      this.put(this.configValid, {}, '', health.valid ? 1 : 0);
      this.put(this.configProblems, {}, '', health.problems);
      this.put(this.refused, {}, '', health.refused);
    }

    if (this.notebookSetAt === undefined) {
      this.put(this.notebookSet, {}, '', 0);
      this.notebookAge.set(Number.NaN);
    } else {
      this.put(this.notebookSet, {}, '', seconds(this.notebookSetAt));
      this.notebookAge.set(Math.max(0, seconds(now) - seconds(this.notebookSetAt)));
    }
  }

  private put(gauge: Gauge<string>, labels: Record<string, string>, key: string, value: number): void {
    let values = this.written.get(gauge);
    if (values === undefined) {
      values = new Map();
      this.written.set(gauge, values);
    }
    if (values.get(key) === value) return;
    values.set(key, value);
    gauge.set(labels, value);
    this.dirty = true;
  }

  private unset(gauge: Gauge<string>, labels: Record<string, string>, key: string): void {
    const values = this.written.get(gauge);
    if (values?.delete(key) !== true) return;
    gauge.remove(labels);
    this.dirty = true;
  }

  private dropJob(job: string): void {
    this.jobsWithSeries.delete(job);
    this.jobStates.delete(job);
    for (const outcome of COUNTED_RUN_OUTCOMES) this.runs.remove({ name: job, outcome });
    for (const gauge of [this.lastSuccess, this.lastFailure, this.consecutiveFailures, this.nextRun, this.interval, this.since, this.running]) this.unset(gauge, { name: job }, job);
    this.runDuration.remove({ name: job });
    this.dirty = true;
  }
}
