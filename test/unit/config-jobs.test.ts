import { describe, expect, it } from 'vitest';
import { parseDockerArgs, SUPPORTED_DOCKER_OPTIONS } from '../../src/config/docker-args.js';
import { formatIssue } from '../../src/core/issues.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { splitJobVariable } from '../../src/config/native-jobs.js';
import { commandArgv } from '../../src/core/shell-words.js';
import type { ContainerJob } from '../../src/core/job.js';
import { refusedIssues, validConfig } from '../helpers/config.js';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';

const DEFAULTS = { path: 'default.env', text: 'export AUTODEPLOY_LOG_DIR="/var/log/PAVICS"\nexport AUTODEPLOY_JOB_TIMEOUT=""\n' };

function load(envLocal: string, processEnv: Record<string, string> = {}) {
  return loadConfig({ builtins: BUILTIN_JOB_KINDS,  files: [DEFAULTS, { path: 'env.local', text: envLocal }], processEnv: { HOME: '/root', ...processEnv } });
}

function config(envLocal: string, processEnv: Record<string, string> = {}): Config {
  return validConfig(load(envLocal, processEnv));
}

function problems(envLocal: string): string[] {
  return refusedIssues(load(envLocal));
}

function job(c: Config, name: string): ContainerJob {
  const found = c.jobs.find((j) => j.name === name);
  if (found === undefined || found.kind !== 'container') throw new Error(`no job ${name}`);
  return found;
}

const PAVICS_EXAMPLE = `# extra jobs
export AUTODEPLOY_EXTRA_SCHEDULER_JOBS="
- name: clean_logs
  comment: remove old thredds logs
  schedule: '@daily'
  command: 'sh -c \\"find /logs -mtime +30 -delete\\"'
  image: 'busybox:latest'
  dockerargs: >-
    --rm --name clean_logs
    --volume /data/thredds/logs:/logs:rw
    --env KEEP_DAYS=30
"
`;

describe('PAVICS YAML jobs', () => {
  it('reads the birdhouse-deploy example', () => {
    const c = config(PAVICS_EXAMPLE);
    expect(c.jobs).toEqual([
      {
        kind: 'container',
        name: 'clean_logs',
        comment: 'remove old thredds logs',
        schedule: { kind: 'cron', text: '@daily', expression: '@daily', timezone: undefined },
        enabled: true,
        timeoutMs: undefined,
        source: { file: 'env.local', line: 3 },
        triggers: [],
        onstart: false,
        container: {
          image: 'busybox:latest',
          command: ['sh', '-c', 'find /logs -mtime +30 -delete'],
          entrypoint: undefined,
          volumes: ['/data/thredds/logs:/logs:rw'],
          env: { KEEP_DAYS: '30' },
          envFiles: [],
          user: undefined,
          workdir: undefined,
          network: undefined,
          extraHosts: [],
          labels: {},
          containerName: 'clean_logs',
        },
      },
    ]);
  });

  it('accepts a list starting on the assignment line, timeout, enabled, and a command list', () => {
    const c = config(
      [
        'TZ=Europe/Paris',
        "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='- name: Report",
        '  schedule: 0 6 * * 1',
        '  command: [python, /app/report.py, --all]',
        '  image: python:3.12',
        '  timeout: 90',
        '  enabled: false',
        '- name: sweep',
        '  schedule: "@every 15m"',
        '  command: echo "$HOME" > /tmp/x',
        '  image: alpine',
        '  timeout: 1h30m',
        "'",
      ].join('\n'),
    );
    const report = job(c, 'report');
    expect(report.enabled).toBe(false);
    expect(report.timeoutMs).toBe(90_000);
    expect(report.schedule).toEqual({ kind: 'cron', text: '0 6 * * 1', expression: '0 6 * * 1', timezone: 'Europe/Paris' });
    expect(report.container.command).toEqual(['python', '/app/report.py', '--all']);
    expect(report.source).toEqual({ file: 'env.local', line: 2 });
    const sweep = job(c, 'sweep');
    expect(sweep.schedule).toEqual({ kind: 'every', text: '@every 15m', intervalMs: 900_000 });
    expect(sweep.container.command).toEqual(['sh', '-c', 'echo "$HOME" > /tmp/x']);
    expect(sweep.timeoutMs).toBe(5_400_000);
    expect(sweep.source).toEqual({ file: 'env.local', line: 8 });
  });

  it('lists a job with an empty schedule as disabled', () => {
    const c = config(["AUTODEPLOY_EXTRA_SCHEDULER_JOBS='", '- name: later', '  schedule: ""', '  command: true', '  image: alpine', "'"].join('\n'));
    expect(job(c, 'later')).toMatchObject({ schedule: null, enabled: false });
  });

  it('takes the default timeout from AUTODEPLOY_JOB_TIMEOUT', () => {
    const c = config(['AUTODEPLOY_JOB_TIMEOUT=30m', `AUTODEPLOY_EXTRA_SCHEDULER_JOBS='- {name: a, schedule: "@hourly", command: "true", image: alpine}'`].join('\n'));
    expect(job(c, 'a').timeoutMs).toBe(1_800_000);
  });

  it('treats an empty list as no jobs', () => {
    expect(config('AUTODEPLOY_EXTRA_SCHEDULER_JOBS="\n"').jobs).toEqual([]);
  });
});

describe('native AUTODEPLOY_JOB_* jobs', () => {
  it('reads every key', () => {
    const c = config(
      [
        'DATA=/data',
        'export AUTODEPLOY_JOB_DB_BACKUP_SCHEDULE="30 2 * * *"',
        'AUTODEPLOY_JOB_DB_BACKUP_IMAGE=postgres:16',
        'AUTODEPLOY_JOB_DB_BACKUP_COMMAND="pg_dumpall -f \'/backup/all of it.sql\'"',
        'AUTODEPLOY_JOB_DB_BACKUP_VOLUMES="$DATA/backup:/backup:rw',
        '  /etc/localtime:/etc/localtime:ro"',
        'AUTODEPLOY_JOB_DB_BACKUP_ENV="PGHOST=postgres \'GREETING=hello world\' HOME"',
        'AUTODEPLOY_JOB_DB_BACKUP_USER=999:999',
        'AUTODEPLOY_JOB_DB_BACKUP_TIMEOUT=2h',
        'AUTODEPLOY_JOB_DB_BACKUP_ENABLED=yes',
        'AUTODEPLOY_JOB_DB_BACKUP_COMMENT="nightly dump"',
        'AUTODEPLOY_JOB_DB_BACKUP_WORKDIR=/backup',
        'AUTODEPLOY_JOB_DB_BACKUP_ENTRYPOINT="/usr/bin/env -i"',
        'AUTODEPLOY_JOB_DB_BACKUP_NETWORK=birdhouse_default',
        'AUTODEPLOY_JOB_DB_BACKUP_DOCKERARGS="--label team=data --add-host db.local:10.0.0.5 --env-file /etc/backup.env"',
      ].join('\n'),
    );
    expect(c.jobs).toEqual([
      {
        kind: 'container',
        name: 'db_backup',
        comment: 'nightly dump',
        schedule: { kind: 'cron', text: '30 2 * * *', expression: '30 2 * * *', timezone: undefined },
        enabled: true,
        timeoutMs: 7_200_000,
        source: { file: 'env.local', line: 2 },
        triggers: [],
        onstart: false,
        container: {
          image: 'postgres:16',
          command: ['pg_dumpall', '-f', '/backup/all of it.sql'],
          entrypoint: ['/usr/bin/env', '-i'],
          volumes: ['/data/backup:/backup:rw', '/etc/localtime:/etc/localtime:ro'],
          env: { PGHOST: 'postgres', GREETING: 'hello world', HOME: '/root' },
          envFiles: ['/etc/backup.env'],
          user: '999:999',
          workdir: '/backup',
          network: 'birdhouse_default',
          extraHosts: ['db.local:10.0.0.5'],
          labels: { team: 'data' },
          containerName: 'db_backup',
        },
      },
    ]);
  });

  it('accepts the BIRDHOUSE_ spelling and names jobs in lower case', () => {
    const c = config(
      ['BIRDHOUSE_AUTODEPLOY_JOB_Sync_SCHEDULE=@hourly', 'AUTODEPLOY_JOB_SYNC_IMAGE=alpine', 'AUTODEPLOY_JOB_SYNC_COMMAND=true'].join('\n'),
    );
    expect(c.jobs.map((j) => [j.name, j.source.line])).toEqual([['sync', 1]]);
  });

  it('splits variable names on the longest known key', () => {
    expect(splitJobVariable('AUTODEPLOY_JOB_MY_ENV_USER')).toEqual({ name: 'MY_ENV', key: 'USER' });
    expect(splitJobVariable('AUTODEPLOY_JOB_A_DOCKERARGS')).toEqual({ name: 'A', key: 'DOCKERARGS' });
    expect(splitJobVariable('AUTODEPLOY_JOB_IMAGE')).toBeUndefined();
    expect(splitJobVariable('AUTODEPLOY_JOB_X_IMAGES')).toBeUndefined();
  });

  it('lists jobs of both formats, YAML first, native in the order they appear', () => {
    const c = config(
      [
        'AUTODEPLOY_JOB_ZED_IMAGE=alpine',
        'AUTODEPLOY_JOB_ZED_COMMAND=true',
        'AUTODEPLOY_JOB_ZED_SCHEDULE=@daily',
        'AUTODEPLOY_JOB_ALPHA_SCHEDULE=@daily',
        'AUTODEPLOY_JOB_ALPHA_IMAGE=alpine',
        'AUTODEPLOY_JOB_ALPHA_COMMAND=true',
        PAVICS_EXAMPLE,
      ].join('\n'),
    );
    expect(c.jobs.map((j) => j.name)).toEqual(['clean_logs', 'zed', 'alpha']);
  });
});

describe('job problems', () => {
  const cases: readonly (readonly [string, string, readonly string[]])[] = [
    [
      'YAML syntax error, at its line in env.local',
      ['A=1', 'AUTODEPLOY_EXTRA_SCHEDULER_JOBS="', '- name: a', '  schedule: @daily', '"'].join('\n'),
      ['env.local:4: AUTODEPLOY_EXTRA_SCHEDULER_JOBS is not valid YAML: Plain value cannot start with reserved character @'],
    ],
    [
      'YAML that is not a list',
      "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='name: a'",
      ['env.local:1: AUTODEPLOY_EXTRA_SCHEDULER_JOBS must be a YAML list of jobs, each starting with "- name:"'],
    ],
    [
      'a list item that is not a mapping',
      "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- just a string'",
      ['env.local:2: job #1 of AUTODEPLOY_EXTRA_SCHEDULER_JOBS must be a mapping (name:, schedule:, command:, image:, ...)'],
    ],
    [
      'unknown YAML key',
      "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: a\n  schedule: \"@daily\"\n  command: x\n  image: y\n  ports: 80'",
      ['env.local:6: job "a": unknown key "ports"; a job has name, comment, schedule, command, image, container, project, dockerargs, trigger, onstart, timeout, enabled, host-access'],
    ],
    [
      'YAML values of the wrong type',
      "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: a\n  schedule: 5\n  command: {x: 1}\n  image: y\n  enabled: [1]'",
      [
        'env.local:3: job "a": schedule must be a string (quote cron expressions and @-forms)',
        'env.local:4: job "a": command must be a string or a list of strings',
        'env.local:6: job "a": enabled must be true or false',
      ],
    ],
    [
      'missing command (YAML; without an image, it runs in the scheduler)',
      "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: a\n  schedule: \"@daily\"'",
      [
        'env.local:2: job "a": command is required (what to run in the container)',
        'env.local:2: job "a": it runs in the scheduler\'s own container, which holds the Docker socket, which gives it the host; if the job needs that, add host-access: true to it',
      ],
    ],
    [
      'missing schedule (YAML)',
      "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: a\n  command: x\n  image: y'",
      ['env.local:2: job "a": schedule is required'],
    ],
    [
      'bad schedule, timeout and enabled (native)',
      [
        'AUTODEPLOY_JOB_X_SCHEDULE="61 * * * *"',
        'AUTODEPLOY_JOB_X_IMAGE=alpine',
        'AUTODEPLOY_JOB_X_COMMAND=true',
        'AUTODEPLOY_JOB_X_TIMEOUT=soon',
        'AUTODEPLOY_JOB_X_ENABLED=maybe',
      ].join('\n'),
      [
        'env.local:1: job "x": schedule "61 * * * *" is not valid: the minute field "61" is not valid',
        'env.local:4: job "x": AUTODEPLOY_JOB_X_TIMEOUT must be a duration like 90s, 30m, 2h or a number of seconds, not "soon"',
        'env.local:5: job "x": AUTODEPLOY_JOB_X_ENABLED must be true or false (or yes/no, 1/0), not "maybe"',
      ],
    ],
    [
      'a job variable without a known key',
      ['AUTODEPLOY_JOB_X_SCHEDULE=@daily', 'AUTODEPLOY_JOB_X_IMAGE=alpine', 'AUTODEPLOY_JOB_X_COMMAND=true', 'AUTODEPLOY_JOB_X_IMAGES=alpine'].join('\n'),
      [
        'env.local:4: AUTODEPLOY_JOB_X_IMAGES does not end in a job key; job variables are AUTODEPLOY_JOB_<NAME>_<KEY> with KEY one of SCHEDULE, IMAGE, COMMAND, VOLUMES, ENV, USER, TIMEOUT, ENABLED, COMMENT, WORKDIR, ENTRYPOINT, NETWORK, DOCKERARGS, HOST_ACCESS',
      ],
    ],
    [
      'a job variable without a name',
      'AUTODEPLOY_JOB_IMAGE=alpine',
      [
        'env.local:1: AUTODEPLOY_JOB_IMAGE does not end in a job key; job variables are AUTODEPLOY_JOB_<NAME>_<KEY> with KEY one of SCHEDULE, IMAGE, COMMAND, VOLUMES, ENV, USER, TIMEOUT, ENABLED, COMMENT, WORKDIR, ENTRYPOINT, NETWORK, DOCKERARGS, HOST_ACCESS',
      ],
    ],
    [
      'a name that cannot name a container',
      "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: clean logs\n  schedule: \"@daily\"\n  command: x\n  image: y'",
      ['env.local:2: job "clean logs": the name cannot be used for containers: use letters, digits, "_", "-" and ".", starting with a letter or digit'],
    ],
    [
      'duplicate names across formats',
      [
        "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='",
        '- name: backup',
        '  schedule: "@daily"',
        '  command: x',
        '  image: y',
        "'",
        'AUTODEPLOY_JOB_BACKUP_SCHEDULE=@daily',
        'AUTODEPLOY_JOB_BACKUP_IMAGE=y',
        'AUTODEPLOY_JOB_BACKUP_COMMAND=x',
      ].join('\n'),
      ['env.local:7: job "backup" is defined twice, at env.local:2 and at env.local:7; rename or remove one'],
    ],
    [
      'two jobs with one container name',
      [
        'AUTODEPLOY_JOB_A_SCHEDULE=@daily',
        'AUTODEPLOY_JOB_A_IMAGE=y',
        'AUTODEPLOY_JOB_A_COMMAND=x',
        'AUTODEPLOY_JOB_B_SCHEDULE=@daily',
        'AUTODEPLOY_JOB_B_IMAGE=y',
        'AUTODEPLOY_JOB_B_COMMAND=x',
        'AUTODEPLOY_JOB_B_DOCKERARGS="--name a"',
      ].join('\n'),
      [
        'env.local:4: jobs "a" (env.local:1) and "b" use the same container name "a", so they could never run at the same time; give one another --name',
      ],
    ],
    [
      'unsupported docker options, a missing value, bad volumes and env',
      "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='\n- name: a\n  schedule: \"@daily\"\n  command: x\n  image: y\n  dockerargs: --privileged -it -v relative -e 1X=2 stray --name'",
      [
        `env.local:6: job "a": docker option --privileged is not supported in dockerargs; supported: ${SUPPORTED_DOCKER_OPTIONS}`,
        `env.local:6: job "a": docker option -it is not supported in dockerargs; supported: ${SUPPORTED_DOCKER_OPTIONS}`,
        'env.local:6: job "a": -v volume "relative" is not of the form host:container[:ro|rw]',
        'env.local:6: job "a": -e "1X=2" is not NAME=value',
        'env.local:6: job "a": unexpected "stray" in dockerargs: it holds docker run options only; put the program to run in the command',
        'env.local:6: job "a": docker option --name needs a value',
      ],
    ],
    [
      'a shell operator in dockerargs',
      'AUTODEPLOY_JOB_A_SCHEDULE=@daily\nAUTODEPLOY_JOB_A_IMAGE=y\nAUTODEPLOY_JOB_A_COMMAND=x\nAUTODEPLOY_JOB_A_DOCKERARGS="--rm && rm -rf /"',
      ['env.local:4: job "a": dockerargs shell operator "&&" is not allowed here'],
    ],
    [
      'a reserved label',
      'AUTODEPLOY_JOB_A_SCHEDULE=@daily\nAUTODEPLOY_JOB_A_IMAGE=y\nAUTODEPLOY_JOB_A_COMMAND=x\nAUTODEPLOY_JOB_A_DOCKERARGS="-l io.autodeploy.job=b"',
      ['env.local:4: job "a": -l io.autodeploy.job: this label is set by the scheduler itself'],
    ],
    [
      'native fields that contradict dockerargs',
      [
        'AUTODEPLOY_JOB_A_SCHEDULE=@daily',
        'AUTODEPLOY_JOB_A_IMAGE=y',
        'AUTODEPLOY_JOB_A_COMMAND=x',
        'AUTODEPLOY_JOB_A_USER=1000',
        'AUTODEPLOY_JOB_A_ENV="K=1"',
        'AUTODEPLOY_JOB_A_ENTRYPOINT=/bin/sh',
        'AUTODEPLOY_JOB_A_DOCKERARGS="--user 0 -e K=2 --entrypoint /bin/bash"',
      ].join('\n'),
      [
        'env.local:4: job "a": both AUTODEPLOY_JOB_A_USER and --user in AUTODEPLOY_JOB_A_DOCKERARGS set the user; keep one',
        'env.local:5: job "a": K is set both in AUTODEPLOY_JOB_A_ENV and by -e in AUTODEPLOY_JOB_A_DOCKERARGS; keep one',
        'env.local:6: job "a": both AUTODEPLOY_JOB_A_ENTRYPOINT and --entrypoint in AUTODEPLOY_JOB_A_DOCKERARGS set the entrypoint; keep one',
      ],
    ],
    [
      'bad native volumes, env and workdir',
      [
        'AUTODEPLOY_JOB_A_SCHEDULE=@daily',
        'AUTODEPLOY_JOB_A_IMAGE=y',
        'AUTODEPLOY_JOB_A_COMMAND=x',
        'AUTODEPLOY_JOB_A_VOLUMES="/a:/b /c:relative /d:/e:sometimes"',
        'AUTODEPLOY_JOB_A_ENV="OK=1 =bad"',
        'AUTODEPLOY_JOB_A_WORKDIR=relative/dir',
      ].join('\n'),
      [
        'env.local:4: job "a": AUTODEPLOY_JOB_A_VOLUMES: volume "/c:relative": the container path must be absolute',
        'env.local:4: job "a": AUTODEPLOY_JOB_A_VOLUMES: volume "/d:/e:sometimes": unknown mode "sometimes" (use ro or rw)',
        'env.local:5: job "a": AUTODEPLOY_JOB_A_ENV: "=bad" is not NAME=value',
        'env.local:6: job "a": AUTODEPLOY_JOB_A_WORKDIR must be an absolute path',
      ],
    ],
    [
      'a name that belongs to the scheduler',
      'AUTODEPLOY_JOB_SCHEDULER_SCHEDULE=@daily\nAUTODEPLOY_JOB_SCHEDULER_IMAGE=y\nAUTODEPLOY_JOB_SCHEDULER_COMMAND=x',
      ['env.local:1: job "scheduler": the name "scheduler" belongs to the scheduler itself; choose another name'],
    ],
    [
      'a container name that belongs to a built-in job',
      'AUTODEPLOY_JOB_A_SCHEDULE=@daily\nAUTODEPLOY_JOB_A_IMAGE=y\nAUTODEPLOY_JOB_A_COMMAND=x\nAUTODEPLOY_JOB_A_DOCKERARGS="--name autodeploy"',
      ['env.local:4: job "a": --name "autodeploy" is the container name of a built-in job; choose another'],
    ],
    [
      'a relative --env-file',
      'AUTODEPLOY_JOB_A_SCHEDULE=@daily\nAUTODEPLOY_JOB_A_IMAGE=y\nAUTODEPLOY_JOB_A_COMMAND=x\nAUTODEPLOY_JOB_A_DOCKERARGS="--env-file job.env"',
      ['env.local:4: job "a": --env-file "job.env": the file must be given by its absolute path'],
    ],
    [
      'an unterminated quote in a command',
      'AUTODEPLOY_JOB_A_SCHEDULE=@daily\nAUTODEPLOY_JOB_A_IMAGE=y\nAUTODEPLOY_JOB_A_COMMAND="echo \'oops"',
      ['env.local:3: job "a": command has an unterminated single quote'],
    ],
  ];

  it.each(cases)('%s', (_what, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it('names every missing field of a native job', () => {
    expect(problems('AUTODEPLOY_JOB_LONELY_COMMENT=nothing')).toEqual([
      'env.local:1: job "lonely": AUTODEPLOY_JOB_LONELY_SCHEDULE is required (leave it empty to disable the job)',
      'env.local:1: job "lonely": AUTODEPLOY_JOB_LONELY_IMAGE is required (the Docker image to run, e.g. busybox:latest)',
      'env.local:1: job "lonely": AUTODEPLOY_JOB_LONELY_COMMAND is required (what to run in the container)',
    ]);
  });

  it('collects the problems of every job at once, and refuses each bad job alone', () => {
    const result = load(
      [
        "AUTODEPLOY_EXTRA_SCHEDULER_JOBS='",
        '- name: good',
        '  schedule: "@daily"',
        '  command: x',
        '  image: y',
        '- name: bad1',
        '  schedule: "@every 0s"',
        '  command: x',
        '  image: y',
        "'",
        'AUTODEPLOY_JOB_BAD2_SCHEDULE=@daily',
        'AUTODEPLOY_JOB_BAD2_COMMAND=x',
      ].join('\n'),
    );
    if (!result.ok) throw new Error('the settings are valid: the configuration loads');
    expect(result.config.refused.flatMap((r) => r.issues.map((i) => [i.job, i.line]))).toEqual([
      ['bad1', 7],
      ['bad2', 11],
    ]);
    expect(result.config.refused.map((r) => r.name)).toEqual(['bad1', 'bad2']);
    expect(result.config.jobs.map((j) => j.name)).toEqual(['good']);
  });

  it('warns about -e NAME when NAME is not set, and passes it when it is', () => {
    const c = config(
      'AUTODEPLOY_JOB_A_SCHEDULE=@daily\nAUTODEPLOY_JOB_A_IMAGE=y\nAUTODEPLOY_JOB_A_COMMAND=x\nAUTODEPLOY_JOB_A_DOCKERARGS="-e HOME -e MISSING"',
    );
    expect(job(c, 'a').container.env).toEqual({ HOME: '/root' });
    expect(c.warnings.map(formatIssue)).toEqual(['env.local:4: job "a": -e MISSING: MISSING is not set, so the container does not get it']);
  });
});

describe('parseDockerArgs', () => {
  it('maps every supported option, in each spelling', () => {
    const result = parseDockerArgs(
      [
        '--rm --name=runner',
        '-v /a:/a:ro --volume /b:/b --volume=/c:/c',
        '-e A=1 --env B=2 --env=C=x=y -eD=4 -e HOME',
        '--env-file /x.env --env-file=/y.env',
        '-u 1000 --user=1001',
        '-w /work --workdir=/work2',
        "--entrypoint ''",
        '--net host --network=bridge',
        '--add-host a:1.2.3.4 --add-host=b=5.6.7.8',
        '-l a=1 --label b --label=c=3',
        '"--env=QUOTED=a b" -e \'$LITERAL=no\' -e "X=$KEEP"',
      ].join(' '),
      { HOME: '/root', KEEP: 'expanded-too-late' },
    );
    expect(result.problems).toEqual(['-e "$LITERAL=no" is not NAME=value']);
    expect(result.args).toEqual({
      containerName: 'runner',
      volumes: ['/a:/a:ro', '/b:/b', '/c:/c'],
      env: { A: '1', B: '2', C: 'x=y', D: '4', HOME: '/root', QUOTED: 'a b', X: '$KEEP' },
      envFiles: ['/x.env', '/y.env'],
      user: '1001',
      workdir: '/work2',
      entrypoint: [],
      network: 'bridge',
      extraHosts: ['a:1.2.3.4', 'b=5.6.7.8'],
      labels: { a: '1', b: '', c: '3' },
    });
  });

  it('accepts a named volume', () => {
    expect(parseDockerArgs('-v cache:/cache', {}).args.volumes).toEqual(['cache:/cache']);
  });
});

describe('commands', () => {
  it.each([
    ['echo hello world', ['echo', 'hello', 'world']],
    ['sh -c "find /logs -mtime +30 -delete"', ['sh', '-c', 'find /logs -mtime +30 -delete']],
    ["python -c 'print(1)'", ['python', '-c', 'print(1)']],
    ['echo a | tr a b', ['sh', '-c', 'echo a | tr a b']],
    ['cd /x && make', ['sh', '-c', 'cd /x && make']],
    ['a; b', ['sh', '-c', 'a; b']],
    ['date > /tmp/d', ['sh', '-c', 'date > /tmp/d']],
    ['echo $HOME', ['sh', '-c', 'echo $HOME']],
    ['echo `date`', ['sh', '-c', 'echo `date`']],
    ['ls *.log', ['sh', '-c', 'ls *.log']],
    ['ls ~', ['sh', '-c', 'ls ~']],
    ['echo a # comment', ['sh', '-c', 'echo a # comment']],
    ['echo one\necho two\n', ['sh', '-c', 'echo one\necho two']],
  ])('runs %j as %j', (command, argv) => {
    expect(commandArgv(command)).toEqual({ ok: true, argv });
  });

  it('refuses an empty command', () => {
    expect(commandArgv('  ')).toEqual({ ok: false, problem: 'is empty' });
    expect(commandArgv([])).toEqual({ ok: false, problem: 'is an empty list' });
  });
});
