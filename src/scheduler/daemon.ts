// The scheduler's lifecycle in one place: loading and following the configuration, arming
// timers, launching and re-attaching runs, and the heartbeat all share one state (the job table
// in force, the runs in flight, the one abort signal), and each step's order matters against the
// others (watch before the first load, re-attach before onstart runs). Split, that state would
// be passed around instead of held; so this file is over 300 lines and stays one thing.

import { EventEmitter, setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { schedulerContext, type SchedulerContext } from '../config/builtin-job.js';
import type { Config, RefusedJob } from '../config/load.js';
import { formatIssue, place, type ConfigIssue } from '../core/issues.js';
import { jobFilesSignature, readConfig } from '../config/read.js';
import type { BuiltinJobKind } from '../config/builtin-job.js';
import { SETTING_VARIABLES } from '../config/settings.js';
import { settingFromEnvironment } from '../config/settings-declaration.js';
import type { ContainerExecs, JobContainers, LocalCommands } from '../core/ports.js';
import { schedulerInstance } from './instance.js';
import type { Job } from '../core/job.js';
import { endedWithScheduler, type OutputLine, type RunOrigin } from '../core/run.js';
import { resumeRun, runJob, type RunReport } from './run-job.js';
import { openLogFiles, type LogFiles } from '../logging/log-files.js';
import { JobTimers, type TimerChanges } from './timers.js';
import { RunHistory } from '../state/run-history.js';
import { readHeartbeat, writeHeartbeat } from '../state/heartbeat.js';
import { DeployState } from '../state/deploy-state.js';
import { describeCorrupt } from '../state/json-file.js';
import { watchDirectoryContent, watchFileContent, type FileWatch } from '../config/watch-file.js';

export interface DaemonOptions {
  readonly envFile: string;
  readonly defaultsFile: string;
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  readonly containers: JobContainers;
  /** runs commands in running containers (jobs with `container`) */
  readonly execs?: ContainerExecs;
  /** runs commands in the scheduler itself (jobs with neither `image` nor `container`) */
  readonly local?: LocalCommands;
  /** the built-in job kinds (autodeploy, notebookdeploy), handed over by the CLI that wires them */
  readonly builtins: readonly BuiltinJobKind[];
  /** this scheduler's version, for its log and heartbeat */
  readonly version: string;
  /** Copy the scheduler's own events to stdout (the container's log). */
  readonly stdout?: boolean;
  readonly heartbeatMs?: number;
  readonly stopGraceSeconds?: number;
  readonly now?: () => Date;
  /** Every output line of every run the daemon follows (the built-in jobs' event lines among them). */
  readonly onOutput?: (run: { readonly job: string; readonly run: string }, line: OutputLine) => void;
}

/** Who asks the daemon for a run outside of its schedule. */
export interface RunRequest {
  readonly origin: RunOrigin;
  readonly by?: string | undefined;
}

/** A run asked for: started, or not because one of the job is going (`current` ends with it). */
export type LaunchAnswer =
  | { readonly kind: 'started'; readonly result: Promise<RunReport> }
  | { readonly kind: 'busy'; readonly current: Promise<RunReport> }
  | { readonly kind: 'unknown' };

export interface DaemonEvents {
  run: [RunReport];
  reload: [TimerChanges];
  'reload-failed': [readonly ConfigIssue[]];
  /** a run came due while the previous run of the job was going: none was started */
  skipped: [string];
  /** each output line of each run the daemon follows (for metrics; `onOutput` sees them first) */
  output: [{ readonly job: string; readonly run: string }, OutputLine];
}

/**
 * The scheduler's lifecycle: load the job table, re-attach to runs a previous scheduler left,
 * arm one timer per job, run each due job in its own container, and follow env.local.
 * Signals are wired in the CLI, not here.
 */
export class Daemon extends EventEmitter<DaemonEvents> {
  private loaded: Config | undefined;
  private problems: readonly ConfigIssue[] = [];
  private readonly timers: JobTimers;
  private readonly inFlight = new Map<string, Promise<RunReport>>();
  private readonly abort = new AbortController();
  private watch: FileWatch | undefined;
  private jobFilesWatch: { readonly dir: string; readonly watch: FileWatch } | undefined;
  private jobFilesFollowing: Promise<void> = Promise.resolve();
  private booted = false;
  private context: SchedulerContext = {};
  private instance = '';
  private reloadWhenBooted = false;
  private logProblem: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly startedAt: Date;
  /** when each job of the table came into it: the scheduler's start, or the reload that added it */
  private readonly jobSince = new Map<string, Date>();
  private logs!: LogFiles;
  private log!: Logger;
  private history!: RunHistory;

  private constructor(private readonly options: DaemonOptions) {
    super();
    this.startedAt = this.now();
    // Every run under way listens on this one signal (its wait and its output stream): forty
    // jobs running at once are not a leak, and Node's warning at eleven would say they were.
    setMaxListeners(0, this.abort.signal);
    this.timers = new JobTimers({ onDue: (job) => this.due(job), now: () => this.now() });
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(options);
    await daemon.boot();
    return daemon;
  }

  /** The job table in force (the last valid one). */
  get jobs(): readonly Job[] {
    return this.loaded?.jobs ?? [];
  }

  nextRun(job: string): Date | undefined {
    return this.timers.nextRun(job);
  }

  /** Runs a job now, as its timer would. Resolves with the run's report. */
  trigger(jobName: string): Promise<RunReport> | undefined {
    const job = this.jobs.find((j) => j.name === jobName);
    return job ? this.launch(job) : undefined;
  }

  /**
   * Runs a job now for someone (a webhook, a caller of the API), or says that a run of it is
   * going. `variant` runs the job's definition changed (a command with another flag), under
   * the job's name and mutex.
   */
  start(jobName: string, request: RunRequest, variant?: (job: Job) => Job): LaunchAnswer {
    const job = this.jobs.find((j) => j.name === jobName);
    if (job === undefined) return { kind: 'unknown' };
    const current = this.inFlight.get(job.name);
    if (current !== undefined) return { kind: 'busy', current };
    return { kind: 'started', result: this.launch(variant === undefined ? job : variant(job), request) };
  }

  /** The problems of the last read of env.local; empty when it was valid. */
  get configIssues(): readonly ConfigIssue[] {
    return this.problems;
  }

  /** Since when this scheduler keeps the job (its start, or the reload that added it). */
  keptSince(jobName: string): Date | undefined {
    return this.jobSince.get(jobName);
  }

  /** The settings in force (of the last valid configuration). */
  get config(): Config | undefined {
    return this.loaded;
  }

  /** Whether a run of the job is going. */
  running(jobName: string): boolean {
    return this.inFlight.has(jobName);
  }

  /** The scheduler's own log (scheduler.log and stdout), for what is wired around the daemon. */
  get logger(): Logger {
    return this.log;
  }

  /** Which scheduler this is (see LABEL_INSTANCE): names the platform in notifications. */
  get instanceName(): string {
    return this.instance;
  }

  /** The run history kept in the state directory. */
  get runHistory(): RunHistory {
    return this.history;
  }

  /** Stops timers and stops following runs; running containers go on and are re-attached by the next scheduler. */
  async stop(): Promise<void> {
    this.timers.stop();
    this.watch?.close();
    await this.jobFilesFollowing;
    this.jobFilesWatch?.watch.close();
    clearInterval(this.heartbeat);
    this.abort.abort();
    await Promise.allSettled(this.inFlight.values());
    this.log.info({ running: [...this.inFlight.keys()] }, 'scheduler stopped');
    await this.logs.close();
  }

  private async boot(): Promise<void> {
    // The built-in jobs run the scheduler's own image and share its state volume.
    const self = await this.options.containers.self();
    this.context = schedulerContext(self);
    this.instance = schedulerInstance(this.options.processEnv, self, hostname());
    // Watch before the first load: an edit made while loading is then a change, never missed.
    this.watch = await watchFileContent(this.options.envFile, () => {
      if (this.booted) void this.reload();
      else this.reloadWhenBooted = true;
    });
    const result = await this.load();
    const settings = result.ok ? result.config.settings : undefined;
    const env = this.options.processEnv;
    this.logs = openLogFiles({
      dir: settings?.logDir ?? settingFromEnvironment(SETTING_VARIABLES.logDir, env),
      format: settings?.logFormat ?? (settingFromEnvironment(SETTING_VARIABLES.logFormat, env) === 'json' ? 'json' : 'text'),
      // Not from the environment: a bad value there would stop the scheduler from logging at all.
      maxSize: settings?.logMaxSize ?? SETTING_VARIABLES.logMaxSize.fallback ?? '10m',
      keep: settings?.logKeep ?? Number(SETTING_VARIABLES.logKeep.fallback),
      secrets: result.ok ? result.config.secrets : (result.secrets ?? []),
      stdout: this.options.stdout ?? false,
      onRecovered: (r) =>
        this.log.warn({ log: r.name, linesLost: r.lost, since: r.since.toISOString() }, `log ${r.name} is written again; ${r.lost} lines could not be written (${r.cause})`),
    });
    this.log = this.logs.scheduler();
    this.history = new RunHistory(settings?.stateDir ?? settingFromEnvironment(SETTING_VARIABLES.stateDir, env), {
      onCorrupt: (corrupt) => this.log.error({ file: corrupt.file, movedTo: corrupt.movedTo }, describeCorrupt(corrupt)),
    });
    this.log.info({ version: this.options.version, envFile: this.options.envFile, pid: process.pid, instance: this.instance }, 'scheduler starting');

    if (result.ok) {
      this.adopt(result.config);
    } else {
      this.reportProblems(result.issues);
      this.log.error({ problems: result.issues.length }, 'env.local is invalid: no job is scheduled until it is fixed');
    }

    // Read before this scheduler's first beat replaces it: when the previous one was last alive.
    const previous = await readHeartbeat(settings?.stateDir ?? settingFromEnvironment(SETTING_VARIABLES.stateDir, env)).catch(() => undefined);
    await this.reattach(previous === undefined ? undefined : new Date(previous.time));
    await this.endUnfinishedDeploy(settings?.stateDir);
    // docker-crontab's `onstart`: once when the scheduler starts, not on every reload.
    for (const job of this.jobs) if (job.onstart && job.enabled) void this.launch(job, 'onstart');

    this.booted = true;
    if (this.reloadWhenBooted) void this.reload();
    const beat = (): void => void this.beat().catch((error: unknown) => this.log.warn({ err: error }, 'could not write heartbeat'));
    beat();
    this.heartbeat = setInterval(beat, this.options.heartbeatMs ?? 15_000);
  }

  private load() {
    return readConfig({
      builtins: this.options.builtins,
      envFile: this.options.envFile,
      defaultsFile: this.options.defaultsFile,
      processEnv: { ...this.options.processEnv },
      context: this.context,
    });
  }

  private adopt(loaded: Config): TimerChanges {
    const config = this.keepLastGood(loaded);
    this.loaded = config;
    this.problems = [];
    void this.followJobFiles(config.settings.jobsDir);
    const names = new Set(config.jobs.map((job) => job.name));
    for (const name of this.jobSince.keys()) if (!names.has(name)) this.jobSince.delete(name);
    for (const name of names) if (!this.jobSince.has(name)) this.jobSince.set(name, this.now());
    this.logs.setSecrets(config.secrets);
    for (const warning of config.warnings) this.log.warn({ file: warning.file, line: warning.line }, formatIssue(warning));
    const changes = this.timers.apply(config.jobs);
    this.log.info({ jobs: config.jobs.length, ...changes }, 'job table loaded');
    for (const job of config.jobs) {
      const next = this.timers.nextRun(job.name)?.toISOString();
      this.log.info(
        { kind: job.kind, schedule: job.schedule?.text ?? '', enabled: job.enabled, ...(next === undefined ? {} : { next }) },
        `job ${job.name}${job.enabled ? '' : ' (disabled)'}`,
      );
    }
    return changes;
  }

  /**
   * A refused job keeps its last good definition, and a job file that could not be read keeps
   * the jobs it held: an edit that breaks one job stops nothing that ran before it.
   */
  private keepLastGood(config: Config): Config {
    for (const refused of config.refused) this.reportRefused(refused);
    const previous = this.loaded?.jobs ?? [];
    const present = new Set(config.jobs.map((job) => job.name));
    const kept = previous.filter((job) => {
      if (present.has(job.name)) return false;
      return config.refused.some((r) => (r.name === undefined ? r.source.file === job.source.file : r.name === job.name));
    });
    for (const job of kept) this.log.warn({ job: job.name }, `job ${job.name} keeps its last good definition (${place(job.source)}) until its problems are fixed`);
    return kept.length === 0 ? config : { ...config, jobs: [...config.jobs, ...kept] };
  }

  private reportRefused(refused: RefusedJob): void {
    const what = refused.name === undefined ? `the job list ${place(refused.source)} cannot be read` : `job ${refused.name} is refused`;
    for (const issue of refused.issues) this.log.error({ file: issue.file, line: issue.line, job: refused.name }, formatIssue(issue));
    this.log.error({ job: refused.name, problems: refused.issues.length }, `${what}; every other job runs`);
  }

  /** The job files' directory is a setting: follow the one the configuration names (one change at a time). */
  private followJobFiles(dir: string): Promise<void> {
    this.jobFilesFollowing = this.jobFilesFollowing.then(async () => {
      if (this.jobFilesWatch?.dir === dir) return;
      this.jobFilesWatch?.watch.close();
      const watch = await watchDirectoryContent(dir, jobFilesSignature, () => {
        if (this.booted) void this.reload();
        else this.reloadWhenBooted = true;
      });
      this.jobFilesWatch = { dir, watch };
    });
    return this.jobFilesFollowing;
  }

  /** env.local or a job file changed: adopt the new table if it is valid, else keep the last valid one and say why. */
  private async reload(): Promise<void> {
    const result = await this.load();
    if (!result.ok) {
      // The refused file's secrets are masked too: a message may quote one of its lines.
      this.logs.setSecrets([...(this.config?.secrets ?? []), ...(result.secrets ?? [])]);
      this.reportProblems(result.issues);
      this.log.error({ problems: result.issues.length, jobs: this.jobs.length }, 'env.local changed but is invalid: the previous job table keeps running');
      this.emit('reload-failed', result.issues);
      return;
    }
    const changes = this.adopt(result.config);
    this.emit('reload', changes);
  }

  /** Runs a previous scheduler started (or that ended while none was watching) are followed to their end. */
  private async reattach(previousAlive: Date | undefined): Promise<void> {
    // A beat's interval, then the engine's stop timeout (10 s by default) and some slack.
    const window = (this.options.heartbeatMs ?? 15_000) + 30_000;
    let found;
    try {
      found = await this.options.containers.list();
    } catch (error) {
      this.log.error({ err: error }, 'cannot list job containers: is the Docker socket mounted?');
      return;
    }
    for (const container of found) {
      // Another scheduler's run (a second platform on this engine) is that scheduler's to follow.
      if (container.instance !== this.instance) continue;
      // A manual run is followed by the `autodeploy run` that started it, unless it is long over.
      if (container.origin === 'manual' && container.running) continue;
      if (this.inFlight.has(container.job)) continue;
      const job = this.jobs.find((j) => j.name === container.job);
      const report = resumeRun(container, this.deps(), {
        origin: container.origin,
        by: container.by,
        onOutput: this.outputOf(container.job),
        interruptedBy: endedWithScheduler(container, previousAlive, window)
          ? 'the run was stopped together with the scheduler (the Docker engine or the host went down)'
          : undefined,
        signal: this.abort.signal,
        timeoutMs: job?.timeoutMs,
        stopGraceSeconds: this.options.stopGraceSeconds,
      });
      this.track(container.job, report);
    }
  }

  /**
   * A deploy that died midway (its container killed, the host rebooted) left its intent in the
   * state volume: the autodeploy job, run now rather than at its next slot, finishes or undoes
   * it. Only the intent is read here; what to do about it is the job's own business.
   */
  private async endUnfinishedDeploy(stateDir: string | undefined): Promise<void> {
    const job = this.jobs.find((j) => j.kind === 'autodeploy');
    // A deploy still going (re-attached above) is its own to finish.
    if (job === undefined || stateDir === undefined || this.inFlight.has(job.name)) return;
    const intent = await new DeployState(stateDir).inProgress();
    if (intent === undefined) return;
    this.log.warn({ job: job.name, startedAt: intent.startedAt, step: intent.step ?? 'pulling' }, `a deploy started at ${intent.startedAt} did not finish: running ${job.name} now to finish or undo it`);
    void this.launch(job);
  }

  private due(jobName: string): void {
    const job = this.jobs.find((j) => j.name === jobName);
    if (job === undefined || !job.enabled) return;
    void this.launch(job);
  }

  private launch(job: Job, origin: 'schedule' | 'onstart' | RunRequest = 'schedule'): Promise<RunReport> {
    const current = this.inFlight.get(job.name);
    if (current !== undefined) {
      // Same mutex as the container name, checked here first so that no engine round-trip is spent.
      this.logs.job(job.name).warn({ outcome: 'skipped' }, 'run skipped: the previous run is still running');
      this.log.warn({ job: job.name }, 'run skipped: the previous run is still running');
      this.emit('skipped', job.name);
      return current;
    }
    if (origin === 'onstart') this.logs.job(job.name).info({ onstart: true }, 'run on start (onstart: true)');
    const request: RunRequest = typeof origin === 'string' ? { origin: 'schedule' } : origin;
    const report = runJob(job, this.deps(), {
      origin: request.origin,
      by: request.by,
      signal: this.abort.signal,
      stopGraceSeconds: this.options.stopGraceSeconds,
      onOutput: this.outputOf(job.name),
    });
    return this.track(job.name, report);
  }

  private outputOf(job: string): ((line: OutputLine, run: string) => void) | undefined {
    const onOutput = this.options.onOutput;
    if (onOutput === undefined && this.listenerCount('output') === 0) return undefined;
    return (line, run) => {
      try {
        onOutput?.({ job, run }, line);
        this.emit('output', { job, run }, line);
      } catch (error) {
        // A listener's fault must not stop the run's output from being logged.
        this.log.error({ err: error, job }, 'a listener of run output failed');
      }
    };
  }

  private track(jobName: string, report: Promise<RunReport>): Promise<RunReport> {
    const tracked = report.then(
      (r) => {
        this.log[r.outcome === 'succeeded' || r.outcome === 'interrupted' ? 'info' : 'warn'](
          { job: r.job, run: r.run, outcome: r.outcome, exitCode: r.exitCode, durationMs: r.durationMs },
          `run of ${r.job} ${r.outcome}${r.message ? `: ${r.message}` : ''}`,
        );
        this.emit('run', r);
        return r;
      },
      (error: unknown) => {
        this.log.error({ job: jobName, err: error }, `run of ${jobName} failed inside the scheduler`);
        throw error;
      },
    );
    this.inFlight.set(jobName, tracked);
    void tracked.finally(() => {
      if (this.inFlight.get(jobName) === tracked) this.inFlight.delete(jobName);
    }).catch(() => undefined);
    return tracked;
  }

  private deps() {
    return {
      containers: this.options.containers,
      execs: this.options.execs,
      local: this.options.local,
      logs: this.logs,
      history: this.history,
      now: () => this.now(),
      instance: this.instance,
    };
  }

  private async beat(): Promise<void> {
    const logProblem = await this.logs.checkDirectory();
    if (logProblem !== this.logProblem) {
      // The scheduler's own log is in that directory: this line reaches stdout (the container's log) only.
      if (logProblem === undefined) this.log.info({}, 'the log directory is back: logs are written again');
      else this.log.error({}, `${logProblem}: job output is counted and dropped until it is back; health fails meanwhile`);
      this.logProblem = logProblem;
    }
    const stateDir = this.loaded?.settings.stateDir ?? settingFromEnvironment(SETTING_VARIABLES.stateDir, this.options.processEnv);
    await writeHeartbeat(stateDir, {
      pid: process.pid,
      version: this.options.version,
      time: this.now().toISOString(),
      startedAt: this.startedAt.toISOString(),
      configValid: this.problems.length === 0,
      configProblems: this.problems.map(formatIssue),
      jobs: this.timers.size,
      running: [...this.inFlight.keys()],
      ...(logProblem === undefined ? {} : { logProblem }),
    });
  }

  /** Keeps the problems of env.local for the heartbeat, and logs each at its file and line. */
  private reportProblems(issues: readonly ConfigIssue[]): void {
    this.problems = issues;
    for (const issue of issues) this.log.error({ file: issue.file, line: issue.line, job: issue.job }, formatIssue(issue));
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
