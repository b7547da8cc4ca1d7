import { describe, expect, it } from 'vitest';
import type { ServiceContainer } from '../../src/core/ports.js';
import { assessService, deadlineReports, type ServiceAssessment, type ServiceMemory } from '../../src/autodeploy/verify.js';

function container(overrides: Partial<ServiceContainer> = {}): ServiceContainer {
  return {
    id: 'c1',
    name: 'p-web-1',
    project: 'p',
    service: 'web',
    status: 'running',
    exitCode: undefined,
    health: undefined,
    failingStreak: 0,
    lastHealthOutput: undefined,
    restartPolicy: 'always',
    restartCount: 0,
    startedAt: '2024-01-01T00:00:00Z',
    oomKilled: false,
    error: undefined,
    ...overrides,
  };
}

/** Assesses `web` over successive polls, each a list of its containers. */
function polls(...seen: ServiceContainer[][]): ServiceAssessment[] {
  let memory: ServiceMemory | undefined;
  return seen.map((containers) => {
    const assessment = assessService('web', containers, memory);
    memory = assessment.memory;
    return assessment;
  });
}

describe('assessService, one poll', () => {
  it.each<[string, Partial<ServiceContainer>, string, boolean]>([
    ['running without a healthcheck', {}, 'running', true],
    ['healthy', { health: 'healthy' }, 'healthy', true],
    ['healthcheck still starting', { health: 'starting', failingStreak: 2 }, 'starting', false],
    ['unhealthy', { health: 'unhealthy', failingStreak: 3, lastHealthOutput: 'connection refused\n' }, 'unhealthy', false],
    ['restarting', { status: 'restarting', exitCode: 3, restartCount: 4 }, 'restarting', false],
    ['exited non-zero', { status: 'exited', exitCode: 3, restartPolicy: 'no' }, 'exited', false],
    ['one-shot: exited 0, restart "no"', { status: 'exited', exitCode: 0, restartPolicy: 'no' }, 'completed', true],
    ['one-shot: exited 0, restart "on-failure"', { status: 'exited', exitCode: 0, restartPolicy: 'on-failure' }, 'completed', true],
    ['stopped although it should always run', { status: 'exited', exitCode: 0, restartPolicy: 'always' }, 'exited', false],
    ['created, never started', { status: 'created' }, 'starting', false],
    ['dead', { status: 'dead', exitCode: 137, restartPolicy: 'no' }, 'exited', false],
  ])('%s', (_title, overrides, state, ok) => {
    const [first] = polls([container(overrides)]);
    expect(first?.report.state).toBe(state);
    expect(first?.report.ok).toBe(ok);
    expect(first?.fatal).toBe(false);
  });

  it('reports a missing service when no container of it exists', () => {
    const [first] = polls([container({ service: 'other' })]);
    expect(first?.report).toMatchObject({ service: 'web', state: 'missing', ok: false, containers: [] });
  });

  it('says what the last healthcheck printed', () => {
    const [first] = polls([container({ health: 'unhealthy', failingStreak: 3, lastHealthOutput: 'curl: (7) Failed to connect\n' })]);
    expect(first?.report.detail).toBe('unhealthy after 3 failed check(s); last check said: curl: (7) Failed to connect');
  });

  it('reports the worst container of a scaled service, naming it', () => {
    const [first] = polls([container(), container({ id: 'c2', name: 'p-web-2', status: 'exited', exitCode: 1, restartPolicy: 'no' })]);
    expect(first?.report).toMatchObject({ state: 'exited', ok: false, containers: ['p-web-1', 'p-web-2'] });
    expect(first?.report.detail).toBe('p-web-2: exited with code 1');
  });
});

describe('assessService, across polls', () => {
  it('is settled only when good on two polls with the same container, started at the same time', () => {
    const [a, b] = polls([container()], [container()]);
    expect(a?.settled).toBe(false);
    expect(b?.settled).toBe(true);
  });

  it('is not settled when the container restarted between two good polls', () => {
    const [, b] = polls([container()], [container({ startedAt: '2024-01-01T00:00:05Z', restartCount: 1 })]);
    expect(b?.report.ok).toBe(true);
    expect(b?.settled).toBe(false);
  });

  it('is not settled when the container was replaced', () => {
    const [, b] = polls([container()], [container({ id: 'c2' })]);
    expect(b?.settled).toBe(false);
  });

  it('fails fast when seen restarting twice', () => {
    const restarting = container({ status: 'restarting', exitCode: 3, restartCount: 5 });
    const [a, b] = polls([restarting], [restarting]);
    expect(a?.fatal).toBe(false);
    expect(b?.fatal).toBe(true);
    expect(b?.report.state).toBe('restarting');
    expect(b?.report.detail).toBe('restarting in a loop (restarted 5 time(s), last exit code 3)');
  });

  it('fails fast when seen exited non-zero twice', () => {
    const exited = container({ status: 'exited', exitCode: 2, restartPolicy: 'no' });
    const [a, b] = polls([exited], [exited]);
    expect(a?.fatal).toBe(false);
    expect(b?.fatal).toBe(true);
  });

  it('fails fast on a loop caught running each time, once it has restarted twice while watched', () => {
    const [a, b, c] = polls(
      [container({ restartCount: 7, exitCode: 3 })],
      [container({ restartCount: 8, exitCode: 3 })],
      [container({ restartCount: 9, exitCode: 3 })],
    );
    expect(a?.fatal).toBe(false);
    expect(b?.fatal).toBe(false);
    expect(c?.fatal).toBe(true);
    expect(c?.report).toMatchObject({ state: 'restarting', ok: false });
  });

  it('forgives a single crash that the service recovers from', () => {
    const [a, b, c, d] = polls(
      [container({ status: 'restarting', exitCode: 1 })],
      [container({ restartCount: 1, exitCode: 1, startedAt: '2024-01-01T00:00:01Z' })],
      [container({ restartCount: 1, exitCode: 1, startedAt: '2024-01-01T00:00:01Z' })],
      [container({ restartCount: 1, exitCode: 1, startedAt: '2024-01-01T00:00:01Z' })],
    );
    expect([a, b, c, d].map((x) => x?.fatal)).toEqual([false, false, false, false]);
    expect(b?.settled).toBe(false);
    expect(c?.settled).toBe(true);
    expect(d?.report.state).toBe('running');
  });

  it('does not count restarts that happened before the verification began', () => {
    const old = container({ restartCount: 12 });
    const [, b] = polls([old], [old]);
    expect(b?.fatal).toBe(false);
    expect(b?.settled).toBe(true);
  });
});

describe('deadlineReports', () => {
  it('says why each service that is not ok failed, and leaves good ones alone', () => {
    const reports = deadlineReports(
      [
        { service: 'a', state: 'starting', ok: false, detail: 'healthcheck not passed yet: 4 check(s) failed so far', containers: ['p-a-1'] },
        { service: 'b', state: 'missing', ok: false, detail: 'no container of this service exists', containers: [] },
        { service: 'c', state: 'unhealthy', ok: false, detail: 'unhealthy after 3 failed check(s)', containers: ['p-c-1'] },
        { service: 'd', state: 'running', ok: true, detail: 'running (no healthcheck)', containers: ['p-d-1'] },
      ],
      5000,
    );
    expect(reports.map((r) => r.detail)).toEqual([
      'still starting after 5s: healthcheck not passed yet: 4 check(s) failed so far',
      'no container after 5s: no container of this service exists',
      'not running and healthy after 5s: unhealthy after 3 failed check(s)',
      'running (no healthcheck)',
    ]);
  });
});
