// What runs beside the daemon: the deploy status learned from the autodeploy job's event lines,
// notifications, and the HTTP server (loaded only when its port is set). Wired here, with the
// daemon, by `autodeploy start`.

import type { Logger } from 'pino';
import { DeployStatusTracker } from '../core/deploy-snapshot.js';
import { parseEventLine } from '../core/event-line.js';
import { formatIssue, type ConfigIssue } from '../core/issues.js';
import { createMasker, type Masker } from '../core/mask.js';
import { configNotification, deployNotification, jobNotification } from '../core/notification.js';
import type { OutputLine } from '../core/run.js';
import type { ApiToken } from '../core/api-tokens.js';
import { TokenFile } from '../config/api-tokens-file.js';
import type { HttpServer } from '../http/server.js';
import { Notifier } from '../http/notify.js';
import type { Daemon } from '../scheduler/daemon.js';
import type { RunReport } from '../scheduler/run-job.js';
import { DeployStatusFile } from '../state/deploy-status-file.js';
import { DEPLOY_JOB, schedulerPort } from './scheduler-port.js';

export interface DaemonServicesOptions {
  readonly now?: () => Date;
  /** overrides the configured address (tests listen on 127.0.0.1, port 0) */
  readonly http?: { readonly host: string; readonly port: number };
  /** retries of notifications (tests shorten the backoff) */
  readonly notify?: { readonly attempts?: number; readonly backoffMs?: number; readonly timeoutMs?: number };
}

export class DaemonServices {
  readonly tracker = new DeployStatusTracker();
  private daemon: Daemon | undefined;
  private statusFile: DeployStatusFile | undefined;
  private notifier: Notifier | undefined;
  private http: HttpServer | undefined;
  private tokenFile: TokenFile | undefined;
  private tokenFileOpening: Promise<void> = Promise.resolve();
  private masker: { secrets: readonly string[]; mask: Masker } = { secrets: [], mask: createMasker([]) };
  /** deploy runs whose end was notified from their events, so that the run's exit is not told twice */
  private readonly toldDeploys = new Set<string>();
  private lastHeld: string | undefined;

  constructor(private readonly options: DaemonServicesOptions = {}) {}

  /** For the daemon's `onOutput`: reads the autodeploy job's event lines. */
  onOutput(run: { readonly job: string; readonly run: string }, line: OutputLine): void {
    if (run.job !== DEPLOY_JOB || line.stream !== 'stdout') return;
    const event = parseEventLine(line.text);
    if (event === undefined) return;
    const change = this.tracker.observe(run.run, event, this.now());
    if (change === undefined) return;
    void this.statusFile?.save(this.tracker.snapshot());
    if (change.kind === 'finished') {
      // A held deploy is held again by every run until a newer commit arrives: told once.
      const held = change.entry.outcome === 'held' ? change.entry.message : undefined;
      const repeated = held !== undefined && held === this.lastHeld;
      this.lastHeld = held;
      const notification = repeated ? undefined : deployNotification(change.entry, this.platform());
      if (notification !== undefined) {
        this.toldDeploys.add(run.run);
        this.notifier?.send(notification);
      }
    }
  }

  get port(): number | undefined {
    return this.http?.port;
  }

  get server(): HttpServer | undefined {
    return this.http;
  }

  async attach(daemon: Daemon): Promise<void> {
    this.daemon = daemon;
    const log = daemon.logger;
    const settings = daemon.config?.settings;
    if (settings !== undefined) {
      this.statusFile = new DeployStatusFile(settings.stateDir);
      this.tracker.restore(await this.statusFile.read());
    }
    this.notifier = new Notifier({ ...this.options.notify, targets: () => daemon.config?.settings.notifyTargets ?? [], mask: () => this.mask(), log: log.child({ notify: true }) });
    daemon.on('run', (report) => this.onRun(report));
    daemon.on('reload-failed', (issues) => this.onRefused(issues));
    daemon.on('reload', () => void this.followTokenFile(log));
    await this.followTokenFile(log);

    const port = this.options.http?.port ?? settings?.httpPort;
    if (port === undefined) return;
    // Loaded only now: a scheduler without a port never holds the server's code.
    const { startHttpServer } = await import('../http/server.js');
    // A port taken or an address refused must not stop the jobs: the scheduler runs without it.
    this.http = await startHttpServer({
      host: this.options.http?.host ?? settings?.httpHost ?? '0.0.0.0',
      port,
      scheduler: schedulerPort(daemon, this.tracker),
      webhookSecret: () => daemon.config?.settings.webhookSecret,
      checkouts: () => {
        const s = daemon.config?.settings;
        return s === undefined ? [] : [...(s.composeDir === undefined ? [] : [s.composeDir]), ...s.extraRepos];
      },
      tokens: () => this.tokens(),
      mask: () => this.mask(),
      log: log.child({ http: true }),
      now: () => this.now(),
    }).catch((error: unknown) => {
      log.error({ err: error, port }, `the HTTP server cannot listen on port ${port}: webhooks and the API are off until the scheduler restarts`);
      return undefined;
    });
  }

  async stop(): Promise<void> {
    this.notifier?.stop();
    this.tokenFile?.close();
    await this.http?.close();
  }

  /** Settles once every notification sent so far is delivered or given up (tests). */
  notified(): Promise<void> {
    return this.notifier?.idle() ?? Promise.resolve();
  }

  private tokens(): readonly ApiToken[] | undefined {
    return this.tokenFile?.current();
  }

  /** Opens the token file the configuration names, again when a reload names another. */
  private followTokenFile(log: Logger): Promise<void> {
    this.tokenFileOpening = this.tokenFileOpening.then(async () => {
      const path = this.daemon?.config?.settings.apiTokensFile;
      if (path === this.tokenFile?.path) return;
      this.tokenFile?.close();
      this.tokenFile = path === undefined ? undefined : await TokenFile.open(path, (read) => {
        if (read.ok) log.info({ file: path, tokens: read.tokens.length, names: read.tokens.map((t) => `${t.name}:${t.scope}`) }, `API tokens read from ${path}`);
        else for (const issue of read.issues) log.error({ file: issue.file, line: issue.line }, `${formatIssue(issue)}; the API keeps the tokens it had`);
      });
    }).catch((error: unknown) => log.error({ err: error }, 'cannot follow the API token file'));
    return this.tokenFileOpening;
  }

  private onRun(report: RunReport): void {
    if (report.job === DEPLOY_JOB) {
      this.tracker.forget(report.run);
      if (this.toldDeploys.delete(report.run)) return;
    }
    const notification = jobNotification(report, this.platform());
    if (notification !== undefined) this.notifier?.send(notification);
  }

  private onRefused(issues: readonly ConfigIssue[]): void {
    this.notifier?.send(configNotification(issues.map(formatIssue), this.platform()));
  }

  private mask(): Masker {
    const secrets = this.daemon?.config?.secrets ?? [];
    if (secrets !== this.masker.secrets) this.masker = { secrets, mask: createMasker(secrets) };
    return this.masker.mask;
  }

  private platform(): string {
    return this.daemon?.instanceName || 'scheduler';
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
