import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLogLine } from '../../src/logging/format.js';
import { SCHEDULER_IMAGE, createPlatform, requireImages, run, type Platform } from '../fixtures/platform.js';
import { TEST_IMAGE, eventually } from '../helpers/scheduler-env.js';

// The real image, started by a real compose project through the component's fragment.
describe('the scheduler image as a compose component', () => {
  let platform: Platform;

  beforeAll(async () => {
    await requireImages([SCHEDULER_IMAGE, TEST_IMAGE], 'run `make image test-images` (make test does)');
    platform = await createPlatform({
      services: '  web:\n    image: autodeploy-test/busybox:latest\n    command: ["sleep", "3600"]\n',
      envLines: [
        'export AUTODEPLOY_PLATFORM_FREQUENCY=""',
        'export AUTODEPLOY_NOTEBOOK_FREQUENCY=""',
        `export AUTODEPLOY_JOB_GREET_SCHEDULE="@every 2s"`,
        `export AUTODEPLOY_JOB_GREET_IMAGE="${TEST_IMAGE}"`,
        `export AUTODEPLOY_JOB_GREET_COMMAND="echo hello from the greet job"`,
        'export AUTODEPLOY_JOB_GREET_ENV="API_TOKEN=s3cr3t-t0ken-value"',
        `export AUTODEPLOY_EXTRA_SCHEDULER_JOBS="
- name: shout
  comment: a job in the PAVICS format
  schedule: '@every 3s'
  command: 'sh -c \\"echo token is \\$API_TOKEN\\"'
  image: '${TEST_IMAGE}'
  dockerargs: >-
    --rm --name shout --env API_TOKEN=s3cr3t-t0ken-value
"`,
      ],
    });
    const up = await platform.compose('up', '-d');
    if (up.code !== 0) throw new Error(`compose up failed: ${up.stderr}`);
  });

  afterAll(async () => {
    await platform?.destroy();
  });

  it('runs the extra jobs of env.local in their own containers and writes their logs on the host', async () => {
    const greet = await eventually('the greet job output in its log on the host', async () => {
      const text = await platform.readLog('greet');
      return text.includes('hello from the greet job') ? text : undefined;
    }, 60_000);
    const record = greet.split('\n').map((l) => parseLogLine(l)).find((r) => r?.out === 'stdout');
    expect(record).toMatchObject({ job: 'greet', out: 'stdout', msg: 'hello from the greet job' });

    const shout = await eventually('the PAVICS-format job output', async () => {
      const text = await platform.readLog('shout');
      return text.includes('token is') ? text : undefined;
    }, 60_000);
    // The job printed a secret from env.local: the log has it masked.
    expect(shout).toContain('token is ***');
    expect(shout).not.toContain('s3cr3t-t0ken-value');

    const scheduler = await readFile(join(platform.logDir, 'scheduler.log'), 'utf8');
    expect(scheduler).toContain('job table loaded');
    expect(scheduler).not.toContain('s3cr3t-t0ken-value');
  });

  it('answers the CLI inside the container: jobs, health', async () => {
    const jobs = await run('docker', ['exec', 'scheduler', 'autodeploy', 'jobs', '--json']);
    expect(jobs.code, jobs.stderr).toBe(0);
    const rows = JSON.parse(jobs.stdout) as { name: string; kind: string; enabled: boolean; next: string[] }[];
    expect(rows.map((r) => [r.name, r.kind, r.enabled]).sort()).toEqual([
      // listed, but switched off by the empty AUTODEPLOY_PLATFORM_FREQUENCY
      ['autodeploy', 'autodeploy', false],
      ['greet', 'container', true],
      ['shout', 'container', true],
    ]);
    expect(rows.find((r) => r.name === 'greet')?.next).toHaveLength(3);

    const health = await eventually('a healthy scheduler', async () => {
      const result = await run('docker', ['exec', 'scheduler', 'autodeploy', 'health']);
      return result.code === 0 ? result.stdout : undefined;
    }, 30_000);
    expect(health).toMatch(/^ok: 2 jobs scheduled/);
  });
});
