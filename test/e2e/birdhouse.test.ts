import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildLogrotateStandIn, createBirdhouse, type BirdhousePlatform } from '../fixtures/birdhouse.js';
import { git } from '../fixtures/git-repos.js';
import { COMPONENT_DIR, requireImages, run, SCHEDULER_IMAGE } from '../fixtures/platform.js';
import { eventually, TEST_IMAGE } from '../helpers/scheduler-env.js';

// The real image in a real birdhouse-deploy 2.28.0 platform, run by birdhouse's own
// birdhouse-compose.sh with Docker Compose v2: this project's compose/scheduler in place of
// birdhouse's scheduler, three of birdhouse's scheduler-job-* components, and a component of
// the site's own that the pushed commits change.

const JOB_COMPONENTS = ['scheduler-job-logrotate', 'scheduler-job-deploy_xclim_testdata', 'scheduler-job-autodeploy'];
const XCLIM_JOB = 'deploy_xclim_testdata_to_thredds';
const WEB_COMPOSE = 'site-components/web/docker-compose-extra.yml';
const RUNNING = '["sh", "-c", "trap exit TERM; while true; do sleep 1; done"]';
const CRASHING = '["sh", "-c", "echo broken; exit 3"]';

function webComponent(revision: string, command = RUNNING): string {
  return [
    'services:',
    '  web:',
    `    image: ${TEST_IMAGE}`,
    `    command: ${command}`,
    '    restart: always',
    '    environment:',
    `      WEB_REVISION: "${revision}"`,
    '    healthcheck:',
    '      test: ["CMD", "true"]',
    '      interval: 1s',
    '      timeout: 2s',
    '      retries: 2',
    '',
  ].join('\n');
}

interface ContainerInfo {
  Id: string;
  Config: { Image: string; Env: string[]; Labels: Record<string, string> };
  State: { Status: string; Health?: { Status: string } };
  Mounts: { Source: string; Destination: string }[];
}

async function inspect(name: string): Promise<ContainerInfo | undefined> {
  const result = await run('docker', ['inspect', name]);
  return result.code === 0 ? (JSON.parse(result.stdout) as ContainerInfo[])[0] : undefined;
}

async function healthy(name: string, what: (info: ContainerInfo) => boolean = () => true): Promise<ContainerInfo> {
  return eventually(`${name} healthy`, async () => {
    const info = await inspect(name);
    return info?.State.Health?.Status === 'healthy' && what(info) ? info : undefined;
  }, 90_000);
}

/** The autodeploy job's log, read by the scheduler itself, wherever its log directory is. */
async function autodeployLog(): Promise<string> {
  const result = await run('docker', ['exec', 'scheduler', 'autodeploy', 'logs', 'autodeploy']);
  return result.code === 0 ? result.stdout : '';
}

/** The part of the autodeploy log from the run that names `commit` on. */
function runsFrom(log: string, commit: string): string {
  const at = log.indexOf(commit.slice(0, 8));
  return at < 0 ? '' : log.slice(log.lastIndexOf('run started', at));
}

describe('the scheduler as the scheduler component of birdhouse-deploy 2.28.0', () => {
  let platform: BirdhousePlatform;
  let web: string;

  beforeAll(async () => {
    await requireImages([SCHEDULER_IMAGE, TEST_IMAGE], 'run `make image test-images` (make test does)');
    const docker = await run('docker', ['compose', 'version']);
    if (docker.code !== 0) throw new Error('birdhouse 2.x needs Docker Compose v2 (`docker compose`): run scripts/ensure-docker.sh');
    platform = await createBirdhouse({
      components: [...JOB_COMPONENTS.map((c) => `./optional-components/${c}`), '../site-components/web'],
      images: {
        'stakater/logrotate:3.13.0': await buildLogrotateStandIn(),
        // DOCKER_CLI_IMAGE, which deploy_xclim_testdata runs
        'docker:28.5.1-cli': TEST_IMAGE,
        // birdhouse's autodeploy job runs in pavics/docker-compose: it has no stand-in, since
        // the scheduler's built-in autodeploy runs instead and the job must never start.
      },
      files: { [WEB_COMPOSE]: webComponent('1') },
      envLines: [
        'export BIRDHOUSE_AUTODEPLOY_PLATFORM_FREQUENCY="@every 5s"',
        `export SCHEDULER_JOB_XCLIM_DEPLOY_DATA_JOB_SCHEDULE="@every 5s"`,
        'export AUTODEPLOY_VERIFY_TIMEOUT="60s"',
      ],
    });
    web = `${platform.project}-web-1`;
    await platform.start();
  }, 300_000);

  afterAll(async () => {
    await platform?.destroy();
  }, 120_000);

  it('starts the scheduler from this component with birdhouse-compose.sh up -d; it becomes healthy and the checkout stays clean', async () => {
    const scheduler = await healthy('scheduler');
    expect(scheduler.Config.Image).toBe(SCHEDULER_IMAGE);
    expect(scheduler.Config.Labels['com.docker.compose.project']).toBe(platform.project);
    expect(scheduler.Config.Labels['com.docker.compose.project.config_files']).toContain(join(COMPONENT_DIR, 'docker-compose-extra.yml'));
    // The whole checkout (COMPOSE_DIR is <checkout>/birdhouse) and BIRDHOUSE_LOG_DIR, at their own paths.
    const mounts = scheduler.Mounts.map((m) => [m.Source, m.Destination]);
    expect(mounts).toContainEqual([platform.checkout, platform.checkout]);
    expect(mounts).toContainEqual([platform.logDir, platform.logDir]);
    await healthy(web);
    // Everything birdhouse-compose.sh wrote (rendered templates, env.local) is ignored by git:
    // autodeploy refuses a dirty checkout.
    expect(await git(platform.checkout, 'status', '--porcelain')).toBe('');
  });

  it('birdhouse-compose.sh config mounts the job components\' files at /scheduler-job-configs/ in the scheduler service', async () => {
    const config = await platform.compose('config');
    expect(config.code, config.stderr).toBe(0);
    // birdhouse-compose.sh prints its own log lines on stdout before compose's YAML.
    const yaml = parseYaml(config.stdout.slice(config.stdout.search(/^name: /m))) as {
      services: Record<string, { volumes?: { source: string; target: string; read_only?: boolean }[] }>;
    };
    const volumes = yaml.services['scheduler']?.volumes ?? [];
    const jobFiles = volumes.filter((v) => v.target.startsWith('/scheduler-job-configs/')).map((v) => [v.target, v.source, v.read_only]);
    expect(jobFiles.sort()).toEqual([
      ['/scheduler-job-configs/autodeploy.yml', join(platform.composeDir, 'optional-components/scheduler-job-autodeploy/config.yml'), true],
      ['/scheduler-job-configs/deploy_xclim_testdata.yml', join(platform.composeDir, 'optional-components/scheduler-job-deploy_xclim_testdata/config.yml'), true],
      ['/scheduler-job-configs/logrotate.yml', join(platform.composeDir, 'optional-components/scheduler-job-logrotate/config.yml'), true],
    ]);
    const inside = await run('docker', ['exec', 'scheduler', 'sh', '-c', 'cd /scheduler-job-configs && grep -h "^- name:" *.yml']);
    expect(inside.stdout.split('\n').filter(Boolean).sort()).toEqual(['- name: autodeploy', '- name: deploy_xclim_testdata_to_thredds', '- name: logrotate']);
  });

  it('lists the component jobs with their files, the built-in autodeploy in place of birdhouse\'s', async () => {
    const jobs = await run('docker', ['exec', 'scheduler', 'autodeploy', 'jobs', '--json']);
    expect(jobs.code, jobs.stderr).toBe(0);
    const rows = JSON.parse(jobs.stdout) as { name: string; kind: string; schedule: string; image: string; enabled: boolean }[];
    expect(rows.map((r) => r.name).sort()).toEqual(['autodeploy', XCLIM_JOB, 'logrotate']);
    const row = (name: string): (typeof rows)[number] | undefined => rows.find((r) => r.name === name);

    expect(row('logrotate')).toMatchObject({ kind: 'container', schedule: '@daily', image: 'stakater/logrotate:3.13.0', enabled: true });
    expect(JSON.stringify(row('logrotate'))).toMatch(/scheduler-job-configs\/logrotate\.yml|scheduler-job-logrotate\/config\.yml/);
    expect(row(XCLIM_JOB)).toMatchObject({ kind: 'container', schedule: '@every 5s', image: 'docker:28.5.1-cli', enabled: true });
    expect(JSON.stringify(row(XCLIM_JOB))).toMatch(/scheduler-job-configs\/deploy_xclim_testdata\.yml|scheduler-job-deploy_xclim_testdata\/config\.yml/);
    // birdhouse's job runs triggerdeploy.sh in pavics/docker-compose; the built-in one takes its place.
    expect(row('autodeploy')).toMatchObject({ kind: 'autodeploy', schedule: '@every 5s', image: SCHEDULER_IMAGE, enabled: true });
  });

  it('runs a component job on its schedule, as written, into its log under BIRDHOUSE_LOG_DIR', async () => {
    const text = await eventually(`two scheduled runs of ${XCLIM_JOB} in ${XCLIM_JOB}.log under BIRDHOUSE_LOG_DIR`, async () => {
      const current = await platform.readLog(XCLIM_JOB);
      return (current.match(/run finished/g)?.length ?? 0) >= 2 ? current : undefined;
    }, 60_000);
    // deploy-data, mounted from the checkout, wrote to its DEPLOY_DATA_LOGFILE through the job's
    // volume of the log directory (and stopped where the stand-in image has no docker CLI).
    expect(text.match(/datadeploy START_TIME=/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(await readFile(join(platform.logDir, 'scheduler.log'), 'utf8')).toContain('job table loaded');
  });

  it('runs logrotate as written: its image, its command and its volumes', async () => {
    await writeFile(join(platform.logDir, 'site.log'), 'a log for logrotate to find\n');
    const result = await eventually('autodeploy run logrotate', async () => {
      const attempt = await run('docker', ['exec', 'scheduler', 'autodeploy', 'run', 'logrotate']);
      // 75: a run is going; ask again when it is over.
      return attempt.code === 75 ? undefined : attempt;
    }, 60_000);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('logrotate stand-in: -v /etc/logrotate.conf');
    // birdhouse's deployment/birdhouse-deploy.logrotate, and BIRDHOUSE_LOG_DIR at /var/log/birdhouse
    expect(result.stdout).toContain('configuration: /var/log/birdhouse/*.log {');
    expect(result.stdout).toMatch(/logs: .*site\.log/);
    expect(await platform.readLog('logrotate')).toContain('configuration: /var/log/birdhouse/*.log {');
  });

  it('deploys a pushed commit with birdhouse-compose.sh and verifies it, recreating only what changed', async () => {
    const scheduler = await healthy('scheduler');
    const pushed = await platform.push({ [WEB_COMPOSE]: webComponent('2') }, 'Web revision 2');

    await eventually('the checkout at the pushed commit', async () => ((await platform.head()) === pushed ? true : undefined), 120_000);
    const log = await eventually('the deploy logged as succeeded', async () => {
      const text = runsFrom(await autodeployLog(), pushed);
      return /deploy succeeded/.test(text) ? text : undefined;
    }, 120_000);
    // birdhouse 2.x still ships pavics-compose.sh, which only hands over to birdhouse-compose.sh.
    const wrapper = /compose command: (\S+)/.exec(log)?.[1];
    expect([join(platform.composeDir, 'birdhouse-compose.sh'), join(platform.composeDir, 'pavics-compose.sh')]).toContain(wrapper);
    expect(log).toContain('compose: INFO:     Executing docker-compose with extra options: up -d');
    expect(log).toContain('Web revision 2');
    expect(log).toMatch(/verification passed/);

    await healthy(web, (info) => info.Config.Env.includes('WEB_REVISION=2'));
    expect((await inspect('scheduler'))?.Id).toBe(scheduler.Id);
  });

  it('rolls back a commit that breaks a service, and the platform runs the previous commit again', async () => {
    const good = await platform.head();
    const broken = await platform.push({ [WEB_COMPOSE]: webComponent('3', CRASHING) }, 'Web revision 3, which crashes');

    const log = await eventually('the rollback logged', async () => {
      const text = runsFrom(await autodeployLog(), broken);
      return /deploy failed and was rolled back/.test(text) ? text : undefined;
    }, 180_000);
    expect(log).toMatch(/web/);
    expect(await platform.head()).toBe(good);
    await healthy(web, (info) => info.Config.Env.includes('WEB_REVISION=2'));
  });
});
