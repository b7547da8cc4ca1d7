// After `up -d`: is every service of the project running, and healthy where it
// has a healthcheck? The judgement of one poll is a plain function
// (`assessService`); `verifyServices` polls it until the services settle,
// one fails beyond doubt, or the deadline passes.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ComposeContainers, ServiceContainer } from '../core/ports.js';
import type { ServiceCheck, ServiceState, VerifyOutcome } from '../core/service-check.js';

export type { ServiceState, VerifyOutcome } from '../core/service-check.js';

export interface ServiceReport extends ServiceCheck {
  /** names of the service's containers */
  readonly containers: readonly string[];
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly project: string;
  readonly outcome: VerifyOutcome;
  readonly services: readonly ServiceReport[];
  readonly waitedMs: number;
}

export interface VerifyOptions {
  readonly containers: ComposeContainers;
  readonly project: string;
  /** the services `up -d` was expected to start */
  readonly services: readonly string[];
  readonly timeoutMs: number;
  /** default 1000 */
  readonly pollMs?: number;
  /** called with each poll's reports, e.g. to log progress */
  readonly onPoll?: (services: readonly ServiceReport[]) => void;
}

/** What is remembered of a service's containers from one poll to the next. */
export interface ServiceMemory {
  /** restart count of each container when first seen during this verification */
  readonly firstRestartCount: ReadonlyMap<string, number>;
  /** containers that were in a failed state (restarting, or exited when they should run) on the previous poll */
  readonly failedBefore: ReadonlySet<string>;
  /** container ids and start times of the previous poll, when the service was good then */
  readonly goodSignature: string | undefined;
}

export interface ServiceAssessment {
  readonly report: ServiceReport;
  readonly memory: ServiceMemory;
  /** failed beyond doubt: no point in waiting for the deadline */
  readonly fatal: boolean;
  /** good now and on the previous poll, with the same containers started at the same time */
  readonly settled: boolean;
}

// Worst first: a service with several containers reports its worst one.
const SEVERITY: readonly ServiceState[] = ['exited', 'restarting', 'unhealthy', 'missing', 'starting', 'running', 'healthy', 'completed'];

/** Restart policies under which a container that exited 0 stays stopped on purpose. */
const ONE_SHOT_POLICIES = new Set(['no', '', 'on-failure']);

interface ContainerVerdict {
  readonly state: ServiceState;
  readonly detail: string;
  readonly failed: boolean;
}

export function assessService(service: string, containers: readonly ServiceContainer[], previous: ServiceMemory | undefined): ServiceAssessment {
  const present = containers.filter((c) => c.service === service && c.status !== 'removing');
  if (present.length === 0) {
    return {
      report: { service, state: 'missing', ok: false, detail: 'no container of this service exists', containers: [] },
      memory: { firstRestartCount: new Map(), failedBefore: new Set(), goodSignature: undefined },
      fatal: false,
      settled: false,
    };
  }

  const firstRestartCount = new Map<string, number>();
  const failedNow = new Set<string>();
  let fatal = false;
  let worst: { verdict: ContainerVerdict; container: ServiceContainer } | undefined;
  for (const container of present) {
    const first = previous?.firstRestartCount.get(container.id) ?? container.restartCount;
    firstRestartCount.set(container.id, first);
    const restartsSeen = container.restartCount - first;
    let verdict = containerVerdict(container);
    // A loop that happens to be caught while running between two crashes.
    if (restartsSeen >= 2 && (verdict.state === 'running' || verdict.state === 'starting')) {
      verdict = { state: 'restarting', detail: restartingDetail(container), failed: true };
    }
    if (verdict.failed) {
      failedNow.add(container.id);
      if (previous?.failedBefore.has(container.id) || restartsSeen >= 2) fatal = true;
    }
    if (worst === undefined || rank(verdict.state) < rank(worst.verdict.state)) worst = { verdict, container };
  }
  const chosen = worst!;
  const ok = present.every((c) => isOk(c, firstRestartCount.get(c.id) ?? c.restartCount));
  const detail = present.length > 1 ? `${chosen.container.name}: ${chosen.verdict.detail}` : chosen.verdict.detail;
  const signature = ok ? present.map((c) => `${c.id}@${c.startedAt ?? ''}#${c.restartCount}`).join(',') : undefined;
  return {
    report: { service, state: chosen.verdict.state, ok, detail, containers: present.map((c) => c.name) },
    memory: { firstRestartCount, failedBefore: failedNow, goodSignature: signature },
    fatal,
    settled: signature !== undefined && signature === previous?.goodSignature,
  };
}

function isOk(container: ServiceContainer, firstRestartCount: number): boolean {
  if (container.restartCount - firstRestartCount >= 2) return false;
  const state = containerVerdict(container).state;
  return state === 'healthy' || state === 'running' || state === 'completed';
}

function rank(state: ServiceState): number {
  return SEVERITY.indexOf(state);
}

function containerVerdict(container: ServiceContainer): ContainerVerdict {
  switch (container.status) {
    case 'running':
      if (container.health === undefined) return { state: 'running', detail: 'running (no healthcheck)', failed: false };
      if (container.health === 'healthy') return { state: 'healthy', detail: 'healthy', failed: false };
      if (container.health === 'starting') {
        const streak = container.failingStreak > 0 ? `${container.failingStreak} check(s) failed so far` : 'no check has passed yet';
        return { state: 'starting', detail: `healthcheck not passed yet: ${streak}${lastOutput(container)}`, failed: false };
      }
      return { state: 'unhealthy', detail: `unhealthy after ${container.failingStreak} failed check(s)${lastOutput(container)}`, failed: false };
    case 'restarting':
      return { state: 'restarting', detail: restartingDetail(container), failed: true };
    case 'created':
      return { state: 'starting', detail: 'created but not started', failed: false };
    case 'paused':
      return { state: 'unhealthy', detail: 'paused', failed: false };
    case 'exited':
    case 'dead': {
      if (container.exitCode === 0 && ONE_SHOT_POLICIES.has(container.restartPolicy)) {
        return { state: 'completed', detail: 'completed (exit code 0)', failed: false };
      }
      return { state: 'exited', detail: exitedDetail(container), failed: true };
    }
    case 'removing':
      return { state: 'missing', detail: 'being removed', failed: false };
  }
}

function exitedDetail(container: ServiceContainer): string {
  const parts = [`exited with code ${container.exitCode ?? 'unknown'}`];
  if (container.oomKilled) parts.push('(killed: out of memory)');
  if (container.error !== undefined) parts.push(`(${container.error})`);
  if (container.exitCode === 0) parts.push(`but its restart policy "${container.restartPolicy}" says it should run`);
  return parts.join(' ');
}

function restartingDetail(container: ServiceContainer): string {
  const code = container.exitCode === undefined ? '' : `, last exit code ${container.exitCode}`;
  const oom = container.oomKilled ? ', killed: out of memory' : '';
  return `restarting in a loop (restarted ${container.restartCount} time(s)${code}${oom})`;
}

function lastOutput(container: ServiceContainer): string {
  const output = container.lastHealthOutput;
  if (output === undefined) return '';
  const line = output.split('\n').filter((l) => l.trim() !== '').at(-1) ?? '';
  return line === '' ? '' : `; last check said: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`;
}

/** The reports at the deadline: say plainly why each service that is not ok failed. */
export function deadlineReports(reports: readonly ServiceReport[], timeoutMs: number): ServiceReport[] {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return reports.map((report) => {
    if (report.ok) return report;
    const why =
      report.state === 'starting'
        ? `still starting after ${seconds}s`
        : report.state === 'missing'
          ? `no container after ${seconds}s`
          : `not running and healthy after ${seconds}s`;
    return { ...report, detail: `${why}: ${report.detail}` };
  });
}

export async function verifyServices(options: VerifyOptions): Promise<VerifyReport> {
  const pollMs = options.pollMs ?? 1000;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const memory = new Map<string, ServiceMemory>();
  const expected = [...new Set(options.services)].sort();

  for (;;) {
    const containers = await options.containers.list(options.project);
    const assessments = expected.map((service) => {
      const assessment = assessService(service, containers, memory.get(service));
      memory.set(service, assessment.memory);
      return assessment;
    });
    const reports = assessments.map((a) => a.report);
    options.onPoll?.(reports);
    const report = (outcome: VerifyOutcome, services: readonly ServiceReport[], ok: boolean): VerifyReport => ({
      ok,
      project: options.project,
      outcome,
      services,
      waitedMs: Date.now() - started,
    });

    if (assessments.some((a) => a.fatal)) return report('failed-fast', reports, false);
    if (assessments.every((a) => a.settled)) return report('settled', reports, true);
    const left = deadline - Date.now();
    if (left <= 0) {
      const allOk = reports.every((r) => r.ok);
      return report('deadline', allOk ? reports : deadlineReports(reports, options.timeoutMs), allOk);
    }
    await sleep(Math.min(pollMs, left));
  }
}
