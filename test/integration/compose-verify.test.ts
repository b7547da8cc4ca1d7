import { rm } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { composeConfig, composeUp, resolveComposeCommand } from '../../src/docker/compose.js';
import { expectedServices, parseComposeConfig } from '../../src/core/compose-services.js';
import { verifyServices, type ServiceReport } from '../../src/autodeploy/verify.js';
import { dockerComposeContainers } from '../../src/docker/compose-project.js';
import { connectDocker } from '../../src/docker/job-containers.js';
import { createPlatform, requireImages, type Platform } from '../fixtures/platform.js';
import { TEST_IMAGE } from '../helpers/scheduler-env.js';

const docker = connectDocker();
const containers = dockerComposeContainers(docker);
const platforms: Platform[] = [];

// Stops at once on SIGTERM (a shell as PID 1 ignores it otherwise).
const IDLE = `["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"]`;

beforeAll(async () => {
  await requireImages([TEST_IMAGE], 'run scripts/build-test-images.sh');
});

afterEach(async () => {
  for (const platform of platforms.splice(0)) {
    await platform.compose('down', '--volumes', '--remove-orphans', '--timeout', '1');
    await rm(platform.root, { recursive: true, force: true });
  }
});

/** Brings up a platform of the given services; returns it with the services `up -d` was expected to start. */
async function upPlatform(services: string): Promise<{ platform: Platform; expected: string[] }> {
  const platform = await createPlatform({ services, envLines: ['export EXTRA_CONF_DIRS=""'] });
  platforms.push(platform);
  const cmd = await resolveComposeCommand({ composeDir: platform.composeDir });
  const options = { cwd: platform.composeDir, timeoutMs: 120_000 };
  await composeUp(cmd, options);
  const expected = expectedServices(parseComposeConfig(await composeConfig(cmd, options)));
  return { platform, expected };
}

function states(reports: readonly ServiceReport[]): Record<string, string> {
  return Object.fromEntries(reports.map((r) => [r.service, r.state]));
}

describe('verifyServices against a real compose project', () => {
  it('passes once services are running, healthy where they have a healthcheck, and one-shots completed', async () => {
    const { platform, expected } = await upPlatform(
      [
        `  ready-later:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 2; touch /tmp/ready; while :; do sleep 1 & wait; done"]`,
        `    healthcheck:`,
        `      test: ["CMD", "test", "-f", "/tmp/ready"]`,
        `      interval: 1s`,
        `      timeout: 1s`,
        `      retries: 30`,
        `  plain:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ${IDLE}`,
        `  one-shot:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ["true"]`,
        `    restart: "no"`,
        `  debug-only:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ${IDLE}`,
        `    profiles: ["debug"]`,
        ``,
      ].join('\n'),
    );
    expect(expected).toEqual(['one-shot', 'plain', 'ready-later']);

    const polled: Record<string, string>[] = [];
    const report = await verifyServices({
      containers,
      project: platform.project,
      services: expected,
      timeoutMs: 30_000,
      pollMs: 500,
      onPoll: (reports) => polled.push(states(reports)),
    });
    expect(report).toMatchObject({ ok: true, outcome: 'settled', project: platform.project });
    expect(states(report.services)).toEqual({ 'one-shot': 'completed', plain: 'running', 'ready-later': 'healthy' });
    // It did wait for the healthcheck: the first polls saw the service still starting.
    expect(polled[0]?.['ready-later']).toBe('starting');
    expect(report.waitedMs).toBeGreaterThanOrEqual(1000);
    expect(report.waitedMs).toBeLessThan(30_000);
  });

  it('fails fast on a service that crashes in a loop, long before the deadline', async () => {
    const { platform, expected } = await upPlatform(
      [
        `  crashes:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ["sh", "-c", "exit 3"]`,
        `    restart: always`,
        `  fine:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ${IDLE}`,
        ``,
      ].join('\n'),
    );
    const report = await verifyServices({ containers, project: platform.project, services: expected, timeoutMs: 60_000, pollMs: 500 });
    expect(report.ok).toBe(false);
    expect(report.outcome).toBe('failed-fast');
    expect(report.waitedMs).toBeLessThan(15_000);
    const crashes = report.services.find((s) => s.service === 'crashes');
    expect(crashes).toMatchObject({ state: 'restarting', ok: false });
    expect(crashes?.detail).toMatch(/^restarting in a loop \(restarted \d+ time\(s\), last exit code 3\)$/);
    expect(report.services.find((s) => s.service === 'fine')).toMatchObject({ state: 'running', ok: true });
  });

  it('fails fast on a service that exited non-zero and stays down', async () => {
    const { platform, expected } = await upPlatform(
      [`  broken:`, `    image: ${TEST_IMAGE}`, `    command: ["sh", "-c", "echo cannot read config >&2; exit 2"]`, ``].join('\n'),
    );
    const report = await verifyServices({ containers, project: platform.project, services: expected, timeoutMs: 60_000, pollMs: 500 });
    expect(report).toMatchObject({ ok: false, outcome: 'failed-fast' });
    expect(report.waitedMs).toBeLessThan(10_000);
    expect(report.services).toMatchObject([{ service: 'broken', state: 'exited', ok: false, detail: 'exited with code 2' }]);
  });

  it('fails at the deadline for a service that never becomes healthy, and for one that has no container, saying why', async () => {
    const { platform, expected } = await upPlatform(
      [
        `  never-ready:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ${IDLE}`,
        `    healthcheck:`,
        `      test: ["CMD-SHELL", "echo not ready yet; test -f /tmp/never"]`,
        `      interval: 1s`,
        `      timeout: 1s`,
        `      retries: 100`,
        ``,
      ].join('\n'),
    );
    const started = Date.now();
    const report = await verifyServices({ containers, project: platform.project, services: [...expected, 'ghost'], timeoutMs: 4000, pollMs: 500 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    expect(report).toMatchObject({ ok: false, outcome: 'deadline' });
    const neverReady = report.services.find((s) => s.service === 'never-ready');
    expect(neverReady?.state).toBe('starting');
    expect(neverReady?.detail).toMatch(/^still starting after 4s: healthcheck not passed yet: \d+ check\(s\) failed so far; last check said: not ready yet$/);
    expect(report.services.find((s) => s.service === 'ghost')).toMatchObject({
      state: 'missing',
      detail: 'no container after 4s: no container of this service exists',
    });
  });

  it('reports an unhealthy service at the deadline with what its check said', async () => {
    const { platform, expected } = await upPlatform(
      [
        `  sick:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ${IDLE}`,
        `    healthcheck:`,
        `      test: ["CMD-SHELL", "echo backend unreachable; exit 1"]`,
        `      interval: 1s`,
        `      timeout: 1s`,
        `      retries: 1`,
        ``,
      ].join('\n'),
    );
    const report = await verifyServices({ containers, project: platform.project, services: expected, timeoutMs: 4000, pollMs: 500 });
    expect(report).toMatchObject({ ok: false, outcome: 'deadline' });
    expect(report.services).toMatchObject([{ service: 'sick', state: 'unhealthy', ok: false }]);
    expect(report.services[0]?.detail).toMatch(/^not running and healthy after 4s: unhealthy after \d+ failed check\(s\); last check said: backend unreachable$/);
  });
});
