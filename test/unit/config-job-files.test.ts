// Job files in docker-crontab's format (birdhouse 2.x's scheduler-job-* components), each job
// accepted or refused on its own, and the built-in jobs that replace birdhouse's own.
import { describe, expect, it } from 'vitest';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';
import type { Platform } from '../../src/config/builtin-job.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { formatIssue } from '../../src/core/issues.js';
import type { ContainerJob, ExecJob, Job, LocalJob } from '../../src/core/job.js';

const DEFAULTS = {
  path: 'default.env',
  text: 'export AUTODEPLOY_LOG_DIR="/var/log/PAVICS"\nexport AUTODEPLOY_PLATFORM_FREQUENCY="7 5 * * *"\nexport AUTODEPLOY_NOTEBOOK_FREQUENCY="@hourly"\n',
};
const DIR = '/scheduler-job-configs';

function load(files: Record<string, string>, envLocal = '', platform: Platform = 'birdhouse') {
  return loadConfig({
    builtins: BUILTIN_JOB_KINDS,
    files: [DEFAULTS, { path: 'env.local', text: envLocal }],
    processEnv: { HOME: '/root' },
    platformOf: () => platform,
    jobFiles: Object.entries(files).map(([name, text]) => ({ path: `${DIR}/${name}`, text })),
  });
}

function loaded(files: Record<string, string>, envLocal = '', platform: Platform = 'birdhouse'): Config {
  const result = load(files, envLocal, platform);
  if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
  return result.config;
}

function refused(c: Config): string[] {
  return c.refused.flatMap((r) => r.issues.map(formatIssue));
}

function named<K extends Job['kind']>(c: Config, name: string, kind: K): Extract<Job, { kind: K }> {
  const job = c.jobs.find((j) => j.name === name);
  if (job === undefined || job.kind !== kind) throw new Error(`no ${kind} job ${name}: ${c.jobs.map((j) => `${j.name}:${j.kind}`).join(', ')}`);
  return job as Extract<Job, { kind: K }>;
}

// The shapes of docker-crontab's config samples: a list, a mapping whose keys are ignored
// (one of them "null"), and JSON; -d in dockerargs, @every, container with project, trigger, onstart.
const LIST = `- comment: cron with triggered commands
  schedule: '* * * * *'
  command: echo hello
  project: crontab
  container: myapp
  trigger:
  - command: echo world
    container: crontab_myapp_1
- comment: map a volume
  schedule: '@every 2m'
  dockerargs: -d -v /tmp:/tmp
  command: echo new
  image: alpine:3.5
- schedule: '*/5 * * * *'
  command: /usr/sbin/logrotate /etc/logrotate.conf
- comment: regenerate then reload
  schedule: 43 6,18 * * *
  command: sh -c 'renew --out /etc/ssl'
  image: example/renew
  onstart: true
  trigger:
  - command: sh -c 'nginx -s reload'
    project: conduit
    container: nginx
`;

const MAPPING = `cron with triggered commands:
  comment: cron with triggered commands
  schedule: '* * * * *'
  command: echo hello
  project: crontab
  container: myapp
null:
  schedule: '*/5 * * * *'
  command: /usr/sbin/logrotate /etc/logrotate.conf
`;

const JSON_LIST = JSON.stringify(
  [
    { comment: 'use an ENV from inside a container', schedule: '@hourly', dockerargs: '-d -e FOO=BAR', command: "sh -c 'echo hourly ${FOO}'", image: 'alpine:3.5' },
    { schedule: '@every 2m', command: 'echo 2 minute', image: 'alpine:3.5', trigger: [{ command: 'echo world', container: 'crontab_myapp_1' }] },
  ],
  null,
  2,
);

describe('job files in docker-crontab format', () => {
  it('reads a list: image, container with project, neither, trigger and onstart', () => {
    const c = loaded({ 'samples.yml': LIST });
    expect(refused(c)).toEqual([]);
    expect(c.jobs.map((j) => [j.name, j.kind, j.source.line])).toEqual([
      ['cron-with-triggered-commands', 'exec', 1],
      ['map-a-volume', 'container', 9],
      ['usr-sbin-logrotate-etc-logrotate-conf', 'local', 14],
      ['regenerate-then-reload', 'container', 16],
    ]);
    const exec: ExecJob = named(c, 'cron-with-triggered-commands', 'exec');
    expect(exec.exec).toEqual({ container: 'myapp', project: 'crontab', command: ['echo', 'hello'], user: undefined, workdir: undefined, env: {} });
    expect(exec.triggers.map((t) => t.step)).toEqual([
      { kind: 'exec', exec: { container: 'crontab_myapp_1', project: undefined, command: ['echo', 'world'], user: undefined, workdir: undefined, env: {} } },
    ]);
    expect(exec.triggers[0]?.source).toEqual({ file: `${DIR}/samples.yml`, line: 7 });
    const volume: ContainerJob = named(c, 'map-a-volume', 'container');
    expect(volume.container.volumes).toEqual(['/tmp:/tmp']);
    expect(volume.schedule).toEqual({ kind: 'every', text: '@every 2m', intervalMs: 120_000 });
    const local: LocalJob = named(c, 'usr-sbin-logrotate-etc-logrotate-conf', 'local');
    expect(local.command).toEqual(['/usr/sbin/logrotate', '/etc/logrotate.conf']);
    const renew = named(c, 'regenerate-then-reload', 'container');
    expect(renew.onstart).toBe(true);
    expect(renew.triggers.map((t) => t.step.kind === 'exec' && t.step.exec)).toEqual([
      { container: 'nginx', project: 'conduit', command: ['sh', '-c', 'nginx -s reload'], user: undefined, workdir: undefined, env: {} },
    ]);
  });

  it('reads a mapping, whose keys are ignored, and JSON', () => {
    const c = loaded({ 'a-mapping.yaml': MAPPING, 'b.json': JSON_LIST });
    expect(refused(c)).toEqual([]);
    expect(c.jobs.map((j) => [j.name, j.kind, j.source.file, j.source.line])).toEqual([
      ['cron-with-triggered-commands', 'exec', `${DIR}/a-mapping.yaml`, 2],
      ['usr-sbin-logrotate-etc-logrotate-conf', 'local', `${DIR}/a-mapping.yaml`, 8],
      ['use-an-env-from-inside-a-container', 'container', `${DIR}/b.json`, 2],
      ['echo-2-minute', 'container', `${DIR}/b.json`, 9],
    ]);
    expect(named(c, 'use-an-env-from-inside-a-container', 'container').container.env).toEqual({ FOO: 'BAR' });
  });

  it('names a job without a name stably, and apart from its neighbours', () => {
    const twice = '- schedule: "@daily"\n  command: echo same\n- schedule: "@hourly"\n  command: echo same\n';
    const first = loaded({ 'x.yml': twice });
    expect(first.jobs.map((j) => j.name)).toEqual(['echo-same', 'echo-same-2']);
    expect(loaded({ 'x.yml': twice }).jobs.map((j) => j.name)).toEqual(['echo-same', 'echo-same-2']);
  });

  it('accepts the same format in AUTODEPLOY_EXTRA_SCHEDULER_JOBS', () => {
    const c = loaded({}, `AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: reload\n  schedule: "@daily"\n  command: nginx -s reload\n  container: proxy\n  onstart: true\n'`);
    const reload = named(c, 'reload', 'exec');
    expect([reload.exec.container, reload.onstart, reload.source]).toEqual(['proxy', true, { file: 'env.local', line: 2 }]);
  });

  it('an empty or comment-only file holds no job', () => {
    expect(loaded({ 'blank.config.yml': '# this file intentionally contains no content\n', 'empty.yml': '' }).jobs.filter((j) => j.kind !== 'autodeploy')).toEqual([]);
  });
});

describe('each job accepted or refused on its own', () => {
  const good = '- name: good\n  schedule: "@daily"\n  image: busybox\n  command: echo ok\n';

  it('a file that is not valid YAML is named at its line, and the other files load', () => {
    const c = loaded({ 'a.yml': good, 'b.yml': '- name: broken\n  schedule: "@daily\n  command: x\n' });
    expect(c.jobs.map((j) => j.name)).toEqual(['good']);
    expect(c.refused.map((r) => [r.name, r.source.file])).toEqual([[undefined, `${DIR}/b.yml`]]);
    expect(refused(c)).toEqual([expect.stringMatching(/^\/scheduler-job-configs\/b\.yml:\d+: \/scheduler-job-configs\/b\.yml is not valid YAML: Missing closing "quote/)]);
  });

  it('a file that is not valid JSON is named at its line', () => {
    const c = loaded({ 'a.yml': good, 'c.json': '[{"name": "x", "schedule": "@daily",, }]' });
    expect(c.jobs.map((j) => j.name)).toEqual(['good']);
    expect(refused(c)[0]).toMatch(/^\/scheduler-job-configs\/c\.json:1: \/scheduler-job-configs\/c\.json is not valid JSON: /);
  });

  it('a bad job is refused alone, with its file and line, and every other job runs', () => {
    const c = loaded({
      'a.yml': `${good}- name: bad\n  schedule: "every day"\n  image: busybox\n  command: echo\n- name: strange\n  schedule: "@daily"\n  command: x\n  colour: blue\n`,
    });
    expect(c.jobs.map((j) => j.name)).toEqual(['good']);
    expect(c.refused.map((r) => r.name)).toEqual(['bad', 'strange']);
    expect(refused(c)).toEqual([
      expect.stringMatching(/^\/scheduler-job-configs\/a\.yml:6: job "bad": schedule "every day" is not valid: /),
      '/scheduler-job-configs/a.yml:12: job "strange": unknown key "colour"; a job has name, comment, schedule, command, image, container, project, dockerargs, trigger, onstart, timeout, enabled, host-access',
    ]);
  });

  it('two files that define the same name are an error naming both places; the first runs', () => {
    const c = loaded({ 'a.yml': good, 'b.yml': good.replace('echo ok', 'echo other') });
    expect(c.jobs.filter((j) => j.name === 'good').map((j) => j.source.file)).toEqual([`${DIR}/a.yml`]);
    expect(refused(c)).toEqual([
      '/scheduler-job-configs/b.yml:1: job "good" is defined twice, at /scheduler-job-configs/a.yml:1 and at /scheduler-job-configs/b.yml:1; rename or remove one',
    ]);
  });

  it('a settings problem still refuses the whole configuration, with the jobs\' problems too', () => {
    const result = load({ 'a.yml': '- name: bad\n  schedule: "nope"\n  image: x\n  command: y\n' }, 'AUTODEPLOY_RESTART=sometimes');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([
      'env.local:1: AUTODEPLOY_RESTART="sometimes" must be changed or all',
      expect.stringMatching(/^\/scheduler-job-configs\/a\.yml:2: job "bad": schedule "nope" is not valid: /),
    ]);
  });

  it('dockerargs that mean nothing for a running container, and project without container, are refused', () => {
    const c = loaded({
      'a.yml': '- name: e\n  schedule: "@daily"\n  container: proxy\n  command: x\n  dockerargs: -v /a:/b -e A=1\n- name: p\n  schedule: "@daily"\n  project: birdhouse\n  command: x\n',
    });
    expect(c.jobs.map((j) => j.name)).toEqual([]);
    expect(refused(c)).toEqual([
      '/scheduler-job-configs/a.yml:5: job "e": --volume in dockerargs mean nothing for a command run in the running container "proxy" (docker exec takes -e/--env, -u/--user and -w/--workdir); to start a new container, give the job an image',
      '/scheduler-job-configs/a.yml:8: job "p": project needs container: the service whose running containers run the command',
    ]);
  });

  it('a trigger with a problem refuses its job, naming the trigger', () => {
    const c = loaded({ 'a.yml': '- name: t\n  schedule: "@daily"\n  image: x\n  command: y\n  trigger:\n    - container: proxy\n' });
    expect(refused(c)).toEqual(['/scheduler-job-configs/a.yml:6: job "t": trigger #1: command is required (what to run in the container)']);
  });
});

const BIRDHOUSE_AUTODEPLOY = `- name: autodeploy
  comment: Auto-deploy entire Birdhouse platform
  schedule: '*/15 * * * *'
  command: '/opt/birdhouse-deploy/birdhouse/deployment/triggerdeploy.sh /opt/birdhouse-deploy/birdhouse'
  dockerargs: >-
    --rm --name autodeploy
    --volume /var/run/docker.sock:/var/run/docker.sock:ro
  image: 'docker:24'
`;
const BIRDHOUSE_NOTEBOOKS = `- name: notebookdeploy
  comment: Auto-deploy tutorial notebooks
  schedule: '@daily'
  command: '/opt/birdhouse-deploy/birdhouse/deployment/trigger-deploy-notebook'
  dockerargs: >-
    --rm --name notebookdeploy
  image: 'docker:24'
`;
const COMPOSE_DIR = 'COMPOSE_DIR=/opt/birdhouse-deploy/birdhouse\n';
const SOURCES = "AUTODEPLOY_NOTEBOOK_SOURCES='https://example.org/notebooks.git main'\nAUTODEPLOY_NOTEBOOK_TARGET_DIR=/data/notebooks\n";

describe('birdhouse\'s own autodeploy and notebookdeploy jobs', () => {
  it('a job named autodeploy that runs triggerdeploy.sh turns the built-in on, on its schedule, in its place', () => {
    const c = loaded({ 'autodeploy.yml': BIRDHOUSE_AUTODEPLOY }, COMPOSE_DIR);
    expect(refused(c)).toEqual([]);
    const autodeploy = named(c, 'autodeploy', 'autodeploy');
    expect(autodeploy.schedule?.text).toBe('*/15 * * * *');
    expect(autodeploy.container.command).toEqual(['autodeploy', 'deploy']);
    expect(autodeploy.note).toEqual({
      rule: "birdhouse's autodeploy job at /scheduler-job-configs/autodeploy.yml:1 runs triggerdeploy.sh: the built-in autodeploy runs instead, on that job's schedule",
      replaces: { file: `${DIR}/autodeploy.yml`, line: 1 },
    });
    expect(c.jobs.filter((j) => j.name === 'autodeploy')).toHaveLength(1);
  });

  it('on birdhouse 2.x autodeploy is opt-in: off without its job or a frequency set by the operator', () => {
    expect(loaded({}, COMPOSE_DIR).jobs.map((j) => j.name)).toEqual([]);
    const on = loaded({}, `${COMPOSE_DIR}BIRDHOUSE_AUTODEPLOY_PLATFORM_FREQUENCY="@hourly"\n`);
    expect(named(on, 'autodeploy', 'autodeploy').note?.rule).toBe('birdhouse 2.x: AUTODEPLOY_PLATFORM_FREQUENCY is set by the operator');
    expect(named(on, 'autodeploy', 'autodeploy').schedule?.text).toBe('@hourly');
  });

  it('on PAVICS 1.x autodeploy stays on by default', () => {
    const c = loaded({}, COMPOSE_DIR, 'pavics');
    expect(named(c, 'autodeploy', 'autodeploy').note?.rule).toBe('PAVICS 1.x: on by default, on AUTODEPLOY_PLATFORM_FREQUENCY');
    expect(named(c, 'autodeploy', 'autodeploy').schedule?.text).toBe('7 5 * * *');
  });

  it('a job named autodeploy that does something else is not replaced, and not run under a built-in\'s name', () => {
    const other = '- name: autodeploy\n  schedule: "@daily"\n  image: busybox\n  command: echo mine\n';
    const pavics = loaded({ 'a.yml': other }, COMPOSE_DIR, 'pavics');
    expect(named(pavics, 'autodeploy', 'autodeploy').container.command).toEqual(['autodeploy', 'deploy']);
    expect(refused(pavics)).toEqual(['/scheduler-job-configs/a.yml:1: job "autodeploy": the name "autodeploy" belongs to the scheduler itself; choose another name']);
    // With the built-in off, the name is free: the operator's job runs as written.
    const birdhouse = loaded({ 'a.yml': other }, COMPOSE_DIR);
    expect(named(birdhouse, 'autodeploy', 'container').container.command).toEqual(['echo', 'mine']);
  });

  it('notebookdeploy is replaced by the built-in when notebook sources are set', () => {
    const c = loaded({ 'notebookdeploy.yml': BIRDHOUSE_NOTEBOOKS }, SOURCES);
    const job = named(c, 'notebookdeploy', 'notebookdeploy');
    expect(job.schedule?.text).toBe('@daily');
    expect(job.note?.replaces).toEqual({ file: `${DIR}/notebookdeploy.yml`, line: 1 });
    expect(refused(c)).toEqual([]);
  });

  it('notebookdeploy runs as written when no notebook source is set', () => {
    const c = loaded({ 'notebookdeploy.yml': BIRDHOUSE_NOTEBOOKS });
    const job = named(c, 'notebookdeploy', 'container');
    expect([job.container.image, job.container.containerName, job.container.command]).toEqual([
      'docker:24',
      'notebookdeploy',
      ['/opt/birdhouse-deploy/birdhouse/deployment/trigger-deploy-notebook'],
    ]);
    expect(refused(c)).toEqual([]);
  });

  it('a replaced job with a bad schedule refuses the built-in alone, at the job\'s line', () => {
    const c = loaded({ 'autodeploy.yml': BIRDHOUSE_AUTODEPLOY.replace("'*/15 * * * *'", "'sometimes'"), 'other.yml': '- name: ok\n  schedule: "@daily"\n  command: echo\n' }, COMPOSE_DIR);
    expect(c.jobs.map((j) => j.name)).toEqual(['ok']);
    expect(refused(c)).toEqual([expect.stringMatching(/^\/scheduler-job-configs\/autodeploy\.yml:3: job "autodeploy": schedule "sometimes" is not valid: /)]);
  });
});

describe('host access is explicit', () => {
  const HOSTILE: readonly (readonly [string, RegExp])[] = [
    ['-v /:/host', /--volume \/:\/host mounts the host's whole file system/],
    ['-v /etc:/host-etc:ro', /--volume \/etc:\/host-etc:ro mounts the host's \/etc/],
    ['-v /var/run/docker.sock:/var/run/docker.sock', /mounts the Docker socket \(root on the host\)/],
    ['-v /var/run:/run-host', /mounts the Docker socket/],
    ['-v /root/.ssh:/keys:ro', /mounts the host's \/root/],
    ['--network host', /--network host puts it on the host's network/],
    ['--network container:scheduler', /--network container:scheduler puts it in another container's network/],
    ['--env-file /etc/shadow', /--env-file \/etc\/shadow reads the host's \/etc\/shadow/],
    ['--label com.docker.compose.project=birdhouse', /--label com\.docker\.compose\.project makes it pass for the scheduler's or compose's own container/],
    ['--label io.autodeploy.instance=other', /--label io\.autodeploy\.instance makes it pass/],
  ];
  const job = (args: string, extra = ''): string =>
    `AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: h\n  schedule: "@daily"\n  image: busybox\n  command: "true"\n  dockerargs: ${args}\n${extra}'\n`;

  it.each(HOSTILE)('refuses %s in env.local unless the job says host-access', (args, why) => {
    const refusedJob = loaded({}, job(args));
    expect(refusedJob.jobs.map((j) => j.name)).toEqual([]);
    expect(refused(refusedJob)).toEqual([expect.stringMatching(new RegExp(`^env\\.local:6: job "h": .*${why.source}.*, which gives it the host; if the job needs that, add host-access: true to it$`))]);
    const allowed = loaded({}, job(args, '  host-access: true\n'));
    expect(refused(allowed)).toEqual([]);
    expect(named(allowed, 'h', 'container').hostAccess).toEqual([expect.stringMatching(why)]);
  });

  it('keeps harmless mounts plain: a file inside /etc, a data directory, a named volume', () => {
    const c = loaded({}, job('-v /etc/localtime:/etc/localtime:ro -v /data/logs:/logs -v cache:/cache --env-file /etc/backup.env'));
    expect(named(c, 'h', 'container').hostAccess).toBeUndefined();
  });

  it('asks a native job for AUTODEPLOY_JOB_<NAME>_HOST_ACCESS, and a command in the scheduler too', () => {
    const native = loaded({}, 'AUTODEPLOY_JOB_N_SCHEDULE=@daily\nAUTODEPLOY_JOB_N_IMAGE=busybox\nAUTODEPLOY_JOB_N_COMMAND=true\nAUTODEPLOY_JOB_N_VOLUMES=/:/host\n');
    expect(refused(native)).toEqual([expect.stringMatching(/add AUTODEPLOY_JOB_N_HOST_ACCESS=true to it$/)]);
    const local = loaded({}, `AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: l\n  schedule: "@daily"\n  command: docker ps\n'`);
    expect(refused(local)).toEqual([expect.stringMatching(/job "l": it runs in the scheduler's own container, which holds the Docker socket, which gives it the host/)]);
  });

  it("lets a job file's jobs drive Docker, as birdhouse's components do, and says so", () => {
    const c = loaded({ 'autodeploy-data.yml': '- name: deploy_data\n  schedule: "@hourly"\n  image: docker:24\n  command: /deploy-data x.yml\n  dockerargs: --volume /var/run/docker.sock:/var/run/docker.sock:ro\n' });
    expect(refused(c)).toEqual([]);
    expect(named(c, 'deploy_data', 'container').hostAccess).toEqual(['--volume /var/run/docker.sock:/var/run/docker.sock:ro mounts the Docker socket (root on the host)']);
  });

  it('covers triggers: a trigger that mounts the socket needs the job to say host-access', () => {
    const c = loaded({}, `AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: t\n  schedule: "@daily"\n  image: busybox\n  command: "true"\n  trigger:\n    - image: docker:24\n      command: docker ps\n      dockerargs: -v /var/run/docker.sock:/var/run/docker.sock\n'`);
    expect(refused(c)).toEqual([expect.stringMatching(/job "t": trigger #1: --volume \/var\/run\/docker\.sock/)]);
  });
});

describe('timers without overflow', () => {
  const every = (schedule: string, extra = ''): string => `- name: t\n  schedule: "${schedule}"\n  image: busybox\n  command: "true"\n${extra}`;
  it('accepts an interval and a timeout up to a year and a day, and refuses longer ones at their line', () => {
    expect(named(loaded({ 'a.yml': every('@every 8784h', '  timeout: 8784h\n') }), 't', 'container').schedule).toEqual({ kind: 'every', text: '@every 8784h', intervalMs: 8784 * 3_600_000 });
    expect(refused(loaded({ 'a.yml': every('@every 8785h') }))).toEqual([
      '/scheduler-job-configs/a.yml:2: job "t": schedule "@every 8785h" is not valid: the interval must be at most 366 days (8784h)',
    ]);
    expect(refused(loaded({ 'a.yml': every('@every 99999999999999999999h') }))).toEqual([
      '/scheduler-job-configs/a.yml:2: job "t": schedule "@every 99999999999999999999h" is not valid: the interval must be at most 366 days (8784h)',
    ]);
    expect(refused(loaded({ 'a.yml': every('@daily', '  timeout: 597h\n') }))).toEqual([]);
    expect(refused(loaded({ 'a.yml': every('@daily', '  timeout: 9000h\n') }))).toEqual(['/scheduler-job-configs/a.yml:5: job "t": timeout must be between 1s and 366 days (8784h), not "9000h"']);
    expect(refused(loaded({ 'a.yml': every('@daily', '  timeout: 0.0001\n') }))).toEqual(['/scheduler-job-configs/a.yml:5: job "t": timeout must be between 1s and 366 days (8784h), not "0.0001"']);
  });
});

describe('job names', () => {
  it('are at most 64 characters: a longer one would name a log file the disk refuses', () => {
    const long = 'a'.repeat(300);
    expect(refused(loaded({ 'a.yml': `- name: ${long}\n  schedule: "@daily"\n  image: busybox\n  command: "true"\n` }))).toEqual([
      `/scheduler-job-configs/a.yml:1: job "${long}": the name is 300 characters long; use at most 64`,
    ]);
    expect(loaded({ 'a.yml': `- name: ${'b'.repeat(64)}\n  schedule: "@daily"\n  image: busybox\n  command: "true"\n` }).jobs.map((j) => j.name)).toEqual(['b'.repeat(64)]);
  });
});
