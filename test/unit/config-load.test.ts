import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runsInContainer } from '../../src/core/job.js';
import { formatIssue } from '../../src/core/issues.js';
import { loadConfig, PROCESS_ENVIRONMENT, type LoadResult } from '../../src/config/load.js';
import { knownSettings } from '../../src/config/names.js';
import { SETTING_VARIABLES } from '../../src/config/settings.js';
import { settingFromEnvironment } from '../../src/config/settings-declaration.js';
import { AUTODEPLOY_SETTING_VARIABLES } from '../../src/autodeploy/settings.js';
import { isSecretName } from '../../src/core/secrets.js';
import { allSettings, refusedIssues as refused, validConfig as valid } from '../helpers/config.js';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';

const KNOWN_SETTINGS = knownSettings(BUILTIN_JOB_KINDS.map((kind) => kind.settings));

const root = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const DEFAULT_ENV = readFileSync(root('config/default.env'), 'utf8');
const EXAMPLE = readFileSync(root('env.local.example'), 'utf8');

function load(defaults: string, local: string, processEnv: Record<string, string | undefined> = {}): LoadResult {
  return loadConfig({ builtins: BUILTIN_JOB_KINDS, 
    files: [
      { path: 'default.env', text: defaults },
      { path: 'env.local', text: local },
    ],
    processEnv,
  });
}

/** The example with its "#export" examples (and the lines of their quoted values) uncommented. */
function uncommentExamples(text: string): string {
  const out: string[] = [];
  let inValue = false;
  for (const line of text.split('\n')) {
    if (inValue) {
      const code = line.replace(/^#/, '');
      out.push(code);
      if (code === '"') inValue = false;
    } else if (line.startsWith('#export ')) {
      const code = line.slice(1);
      out.push(code);
      inValue = (code.match(/(?<!\\)"/g) ?? []).length % 2 === 1;
    } else {
      out.push(line);
    }
  }
  return out.join('\n');
}

/** The 1-based line of env.local.example that starts with `start`. */
function exampleLine(start: string): number {
  return EXAMPLE.split('\n').findIndex((line) => line.startsWith(start)) + 1;
}

/** The deploy settings every load has when neither file sets them. */
const DEPLOY_DEFAULTS = {
  extraRepos: [],
  platformFrequency: '',
  restart: 'changed',
  verifyTimeoutMs: 300_000,
  composeTimeoutMs: 900_000,
  gitTimeoutMs: 120_000,
  triggerTimeoutMs: 60_000,
  notebookFetchTimeoutMs: 600_000,
  notebookFrequency: '',
  notebookSources: [],
  notebookOwner: { uid: 0, gid: 0 },
  httpHost: '0.0.0.0',
  notifyTargets: [],
} as const;

describe('loadConfig: precedence', () => {
  it('starts from the process environment, then default.env, then env.local', () => {
    const c = valid(
      load(
        ['export AUTODEPLOY_LOG_DIR="$HOME/logs"', 'export AUTODEPLOY_STATE_DIR=/var/lib/autodeploy', 'export AUTODEPLOY_LOG_KEEP=10'].join('\n'),
        ['AUTODEPLOY_STATE_DIR="$AUTODEPLOY_LOG_DIR/../state"', 'AUTODEPLOY_LOG_KEEP=4'].join('\n'),
        { HOME: '/home/op', AUTODEPLOY_LOG_KEEP: '99', UNDEFINED: undefined },
      ),
    );
    expect(allSettings(c)).toEqual({
      logDir: '/home/op/logs',
      logFormat: 'text',
      logMaxSize: '10m',
      logKeep: 4,
      stateDir: '/home/op/logs/../state',
      jobsDir: '/scheduler-job-configs',
      ...DEPLOY_DEFAULTS,
    });
    expect(c.env['HOME']).toBe('/home/op');
    expect(c.env).not.toHaveProperty('UNDEFINED');
    expect(c.files).toEqual(['default.env', 'env.local']);
  });

  it('lets env.local lines see default.env values', () => {
    const c = valid(load('export BASE=/srv', 'AUTODEPLOY_LOG_DIR=${BASE}/logs'));
    expect(c.settings.logDir).toBe('/srv/logs');
  });

  it('falls back to built-in defaults for settings that are unset or empty', () => {
    const c = valid(load('', 'AUTODEPLOY_LOG_DIR=\nAUTODEPLOY_JOB_TIMEOUT='));
    expect(allSettings(c)).toEqual({ logDir: '/var/log/PAVICS', logFormat: 'text', logMaxSize: '10m', logKeep: 10, stateDir: '/var/lib/autodeploy', jobsDir: '/scheduler-job-configs', ...DEPLOY_DEFAULTS });
  });

  it('reads every setting', () => {
    const c = valid(
      load(
        '',
        [
          'COMPOSE_DIR=/opt/birdhouse',
          'TZ=Europe/Paris',
          'AUTODEPLOY_LOG_DIR=/logs',
          'AUTODEPLOY_LOG_FORMAT=json',
          'AUTODEPLOY_LOG_MAX_SIZE=500K',
          'AUTODEPLOY_LOG_KEEP=3',
          'AUTODEPLOY_STATE_DIR=/state',
          'AUTODEPLOY_JOB_TIMEOUT=1h30m',
          'AUTODEPLOY_IMAGE=registry.example/autodeploy-scheduler:1.2.0',
          'AUTODEPLOY_EXTRA_REPOS="/opt/config-repo\n  /opt/other"',
          'AUTODEPLOY_DEPLOY_KEY_ROOT_DIR=/root/.ssh',
          'AUTODEPLOY_PLATFORM_FREQUENCY="@every 10m"',
          'AUTODEPLOY_COMPOSE="docker compose"',
          'AUTODEPLOY_CODE_OWNERSHIP=1000:1000',
          'AUTODEPLOY_KNOWN_HOSTS=/etc/autodeploy/known_hosts',
          'AUTODEPLOY_RESTART=all',
          'AUTODEPLOY_VERIFY_TIMEOUT=90s',
          'AUTODEPLOY_NOTEBOOK_FREQUENCY="@every 30m"',
          'AUTODEPLOY_NOTEBOOK_SOURCES="',
          '# tutorials',
          'https://example.org/tutorials.git v1 docs/notebooks/ - intro',
          '  /srv/git/extra.git - - **/*.ipynb  # everything',
          '"',
          'AUTODEPLOY_NOTEBOOK_TARGET_DIR=/data/notebooks/',
          'AUTODEPLOY_NOTEBOOK_OWNER=1000:100',
          'AUTODEPLOY_COMPOSE_TIMEOUT=20m',
          'AUTODEPLOY_GIT_TIMEOUT=45',
          'AUTODEPLOY_TRIGGER_TIMEOUT=30s',
          'AUTODEPLOY_NOTEBOOK_FETCH_TIMEOUT=1h',
        ].join('\n'),
      ),
    );
    expect(allSettings(c)).toEqual({
      composeDir: '/opt/birdhouse',
      timezone: 'Europe/Paris',
      logDir: '/logs',
      logFormat: 'json',
      logMaxSize: '500k',
      logKeep: 3,
      stateDir: '/state',
      jobsDir: '/scheduler-job-configs',
      defaultJobTimeoutMs: 5_400_000,
      image: 'registry.example/autodeploy-scheduler:1.2.0',
      extraRepos: ['/opt/config-repo', '/opt/other'],
      deployKeyRootDir: '/root/.ssh',
      platformFrequency: '@every 10m',
      compose: 'docker compose',
      codeOwnership: { uid: 1000, gid: 1000 },
      knownHosts: '/etc/autodeploy/known_hosts',
      restart: 'all',
      verifyTimeoutMs: 90_000,
      composeTimeoutMs: 1_200_000,
      gitTimeoutMs: 45_000,
      triggerTimeoutMs: 30_000,
      notebookFetchTimeoutMs: 3_600_000,
      notebookFrequency: '@every 30m',
      notebookSources: [
        { url: 'https://example.org/tutorials.git', ref: 'v1', subdir: 'docs/notebooks', glob: '*.ipynb', dest: 'intro', line: 22 },
        { url: '/srv/git/extra.git', ref: undefined, subdir: '', glob: '**/*.ipynb', dest: '', line: 23 },
      ],
      notebookTargetDir: '/data/notebooks',
      notebookOwner: { uid: 1000, gid: 100 },
      httpHost: '0.0.0.0',
      notifyTargets: [],
    });
    expect(valid(load('', 'AUTODEPLOY_JOB_TIMEOUT=45')).settings.defaultJobTimeoutMs).toBe(45_000);
  });
});

describe("loadConfig: the platform's own variables", () => {
  it('takes the log directory from AUTODEPLOY_LOG_DIR, else BIRDHOUSE_LOG_DIR, else PAVICS_LOG_DIR, else /var/log/PAVICS', () => {
    const logDir = (local: string, processEnv: Record<string, string> = {}): string => valid(load('export AUTODEPLOY_LOG_DIR=""', local, processEnv)).settings.logDir;
    expect(logDir('AUTODEPLOY_LOG_DIR=/a\nBIRDHOUSE_LOG_DIR=/b\nPAVICS_LOG_DIR=/c')).toBe('/a');
    expect(logDir('BIRDHOUSE_AUTODEPLOY_LOG_DIR=/a\nBIRDHOUSE_LOG_DIR=/b')).toBe('/a');
    expect(logDir('BIRDHOUSE_LOG_DIR=/b\nPAVICS_LOG_DIR=/c')).toBe('/b');
    expect(logDir('PAVICS_LOG_DIR=/c')).toBe('/c');
    expect(logDir('')).toBe('/var/log/PAVICS');
    // empty is unset, as for every setting
    expect(logDir('AUTODEPLOY_LOG_DIR=\nBIRDHOUSE_LOG_DIR=\nPAVICS_LOG_DIR=/c')).toBe('/c');
    expect(logDir('', { BIRDHOUSE_LOG_DIR: '/var/log/birdhouse' })).toBe('/var/log/birdhouse');
  });

  it('names the variable a bad value was read from, and the setting it stood for', () => {
    expect(refused(load('', 'BIRDHOUSE_LOG_DIR=logs'))).toEqual([
      'env.local:1: BIRDHOUSE_LOG_DIR="logs" (read for AUTODEPLOY_LOG_DIR, which is not set) must be an absolute path',
    ]);
    expect(refused(load('', 'PAVICS_LOG_DIR=/ok\nBIRDHOUSE_LOG_DIR=./no'))).toEqual([
      'env.local:2: BIRDHOUSE_LOG_DIR="./no" (read for AUTODEPLOY_LOG_DIR, which is not set) must be an absolute path',
    ]);
    // a good AUTODEPLOY_LOG_DIR hides a bad value of the variables it stands before
    expect(valid(load('', 'BIRDHOUSE_LOG_DIR=logs\nAUTODEPLOY_LOG_DIR=/logs')).settings.logDir).toBe('/logs');
  });
});

describe('loadConfig: the compose command', () => {
  it('is AUTODEPLOY_COMPOSE, else BIRDHOUSE_COMPOSE, else left to the deploy to find', () => {
    const compose = (local: string): string | undefined => allSettings(valid(load('export AUTODEPLOY_COMPOSE=""', local))).compose;
    expect(compose('AUTODEPLOY_COMPOSE="docker compose"\nBIRDHOUSE_COMPOSE=/srv/birdhouse/birdhouse-compose.sh')).toBe('docker compose');
    expect(compose('BIRDHOUSE_COMPOSE=/srv/birdhouse/birdhouse-compose.sh')).toBe('/srv/birdhouse/birdhouse-compose.sh');
    expect(compose('BIRDHOUSE_COMPOSE=')).toBeUndefined();
    expect(allSettings(valid(load('', '', { BIRDHOUSE_COMPOSE: '/usr/local/bin/birdhouse-compose.sh' }))).compose).toBe('/usr/local/bin/birdhouse-compose.sh');
  });

  it('is refused at its line when it cannot be split into words, under the name it was read from', () => {
    expect(refused(load('', 'AUTODEPLOY_COMPOSE=\'docker "compose\''))).toEqual(['env.local:1: AUTODEPLOY_COMPOSE="docker "compose" cannot be split into a command and its arguments (has an unterminated double quote)']);
    expect(refused(load('', 'BIRDHOUSE_COMPOSE="compose | tee"'))).toEqual([
      'env.local:1: BIRDHOUSE_COMPOSE="compose | tee" (read for AUTODEPLOY_COMPOSE, which is not set) cannot be split into a command and its arguments (shell operator "|" is not allowed here)',
    ]);
  });
});

describe('settingFromEnvironment', () => {
  it('reads the first variable set and not empty, under either spelling, else the fallback', () => {
    expect(settingFromEnvironment(SETTING_VARIABLES.logDir, {})).toBe('/var/log/PAVICS');
    expect(settingFromEnvironment(SETTING_VARIABLES.logDir, { PAVICS_LOG_DIR: '/p' })).toBe('/p');
    expect(settingFromEnvironment(SETTING_VARIABLES.logDir, { PAVICS_LOG_DIR: '/p', BIRDHOUSE_LOG_DIR: '/b' })).toBe('/b');
    expect(settingFromEnvironment(SETTING_VARIABLES.logDir, { BIRDHOUSE_LOG_DIR: '/b', BIRDHOUSE_AUTODEPLOY_LOG_DIR: '/ba' })).toBe('/ba');
    expect(settingFromEnvironment(SETTING_VARIABLES.logDir, { BIRDHOUSE_LOG_DIR: '/b', AUTODEPLOY_LOG_DIR: '' })).toBe('/b');
    expect(settingFromEnvironment(SETTING_VARIABLES.stateDir, { AUTODEPLOY_STATE_DIR: '/s' })).toBe('/s');
    expect(settingFromEnvironment(AUTODEPLOY_SETTING_VARIABLES.compose, {})).toBe('');
  });
});

describe('loadConfig: ownership', () => {
  it('reads AUTODEPLOY_CODE_OWNERSHIP as uid:gid, or a uid alone whose group chown leaves alone', () => {
    const owner = (local: string) => allSettings(valid(load('', local))).codeOwnership;
    expect(owner('AUTODEPLOY_CODE_OWNERSHIP=1000:100')).toEqual({ uid: 1000, gid: 100 });
    expect(owner('BIRDHOUSE_AUTODEPLOY_CODE_OWNERSHIP=1000')).toEqual({ uid: 1000, gid: undefined });
    expect(owner(`AUTODEPLOY_CODE_OWNERSHIP=${2 ** 32 - 2}:0`)).toEqual({ uid: 2 ** 32 - 2, gid: 0 });
    expect(owner('AUTODEPLOY_CODE_OWNERSHIP=')).toBeUndefined();
  });

  it('reads AUTODEPLOY_NOTEBOOK_OWNER as uid:gid or root, and nothing else', () => {
    const owner = (local: string) => allSettings(valid(load('', local))).notebookOwner;
    expect(owner('')).toEqual({ uid: 0, gid: 0 });
    expect(owner('AUTODEPLOY_NOTEBOOK_OWNER=root')).toEqual({ uid: 0, gid: 0 });
    expect(owner('AUTODEPLOY_NOTEBOOK_OWNER=1000:100')).toEqual({ uid: 1000, gid: 100 });
    expect(refused(load('', 'X=1\nAUTODEPLOY_NOTEBOOK_OWNER=1000'))).toEqual([
      'env.local:2: AUTODEPLOY_NOTEBOOK_OWNER="1000" must be numeric uid:gid (e.g. 1000:1000), or root (names differ between the host and the job container)',
    ]);
    expect(refused(load('', 'AUTODEPLOY_NOTEBOOK_OWNER=0:4294967295'))).toEqual([
      'env.local:1: AUTODEPLOY_NOTEBOOK_OWNER="0:4294967295" has gid 4294967295, over 4294967294, the largest id chown can give',
    ]);
  });
});

describe('loadConfig: BIRDHOUSE_ spelling', () => {
  it('accepts BIRDHOUSE_AUTODEPLOY_* for every setting, without a warning when only one spelling is used', () => {
    const c = valid(load('export AUTODEPLOY_LOG_KEEP=10', 'export BIRDHOUSE_AUTODEPLOY_LOG_KEEP=7\nBIRDHOUSE_AUTODEPLOY_PLATFORM_FREQUENCY=@daily'));
    expect(c.settings.logKeep).toBe(7);
    expect(c.env['AUTODEPLOY_LOG_KEEP']).toBe('7');
    expect(c.env['AUTODEPLOY_PLATFORM_FREQUENCY']).toBe('@daily');
    expect(c.warnings).toEqual([]);
  });

  it('warns when env.local sets both spellings, and the later one wins', () => {
    const later = valid(load('', ['BIRDHOUSE_AUTODEPLOY_LOG_KEEP=5', 'A=1', 'AUTODEPLOY_LOG_KEEP=6'].join('\n')));
    expect(later.settings.logKeep).toBe(6);
    expect(later.warnings.map(formatIssue)).toEqual([
      'env.local:3: AUTODEPLOY_LOG_KEEP is set under both spellings: BIRDHOUSE_AUTODEPLOY_LOG_KEEP at env.local:1 and AUTODEPLOY_LOG_KEEP at env.local:3; the later one (AUTODEPLOY_LOG_KEEP, env.local:3) wins — keep only one',
    ]);
    const earlier = valid(load('', ['AUTODEPLOY_LOG_KEEP=6', 'BIRDHOUSE_AUTODEPLOY_LOG_KEEP=5'].join('\n')));
    expect(earlier.settings.logKeep).toBe(5);
    expect(earlier.warnings.map(formatIssue)).toEqual([
      'env.local:2: AUTODEPLOY_LOG_KEEP is set under both spellings: AUTODEPLOY_LOG_KEEP at env.local:1 and BIRDHOUSE_AUTODEPLOY_LOG_KEEP at env.local:2; the later one (BIRDHOUSE_AUTODEPLOY_LOG_KEEP, env.local:2) wins — keep only one',
    ]);
  });

  it('takes the BIRDHOUSE_ spelling from the process environment when no file sets the setting', () => {
    const c = valid(load('', '', { BIRDHOUSE_AUTODEPLOY_STATE_DIR: '/from/env' }));
    expect(c.settings.stateDir).toBe('/from/env');
  });
});

describe('loadConfig: warnings', () => {
  it('suggests the nearest setting for a mistyped name', () => {
    const c = valid(load('', ['AUTODEPLOY_LOGDIR=/x', 'AUTODEPLOY_PLATFORM_FREQENCY=@daily', 'AUTODEPLOY_WHATEVER_ELSE=1'].join('\n')));
    expect(c.warnings.map(formatIssue)).toEqual([
      'env.local:1: AUTODEPLOY_LOGDIR is not a setting of this scheduler and is ignored; did you mean AUTODEPLOY_LOG_DIR?',
      'env.local:2: AUTODEPLOY_PLATFORM_FREQENCY is not a setting of this scheduler and is ignored; did you mean AUTODEPLOY_PLATFORM_FREQUENCY?',
      'env.local:3: AUTODEPLOY_WHATEVER_ELSE is not a setting of this scheduler and is ignored; see env.local.example for the settings',
    ]);
  });

  it('warns about unknown names from the process environment too, and knows every documented setting', () => {
    const env = Object.fromEntries(KNOWN_SETTINGS.filter((n) => n !== 'AUTODEPLOY_ENV_EVAL').map((n) => [n, '']));
    const c = valid(load('', '', { ...env, AUTODEPLOY_STATEDIR: '/x', AUTODEPLOY_EXTRA_REPOS_AS_DOCKER_VOLUMES: '-v /a:/a' }));
    expect(c.warnings).toEqual([
      {
        file: PROCESS_ENVIRONMENT,
        line: undefined,
        key: 'AUTODEPLOY_STATEDIR',
        message: 'AUTODEPLOY_STATEDIR is not a setting of this scheduler and is ignored; did you mean AUTODEPLOY_STATE_DIR?',
      },
    ]);
  });

  it('warns that AUTODEPLOY_ENV_EVAL in a file has no effect', () => {
    const c = valid(load('', 'AUTODEPLOY_ENV_EVAL=sh'));
    expect(c.warnings.map(formatIssue)).toEqual([
      'env.local:1: AUTODEPLOY_ENV_EVAL has no effect inside an env file, which is read before it is known; set it in the scheduler\'s environment, or make "# autodeploy: eval=sh" the first line of env.local',
    ]);
  });
});

describe('loadConfig: variables nothing sets', () => {
  it('warns at the line of a $NAME that no earlier line, default.env or the environment sets, naming it', () => {
    const c = valid(load('export BASE=/srv', ['A=1', 'AUTODEPLOY_LOG_DIR="$BASE/$LOG_SUBDIR"', 'B="$HOME/${ELSEWHERE}"'].join('\n'), { HOME: '/root' }));
    expect(c.settings.logDir).toBe('/srv/');
    expect(c.warnings.map(formatIssue)).toEqual([
      'env.local:2: LOG_SUBDIR is not set (by an earlier line, a default.env or the environment): $LOG_SUBDIR in the value of AUTODEPLOY_LOG_DIR is replaced by ""; set LOG_SUBDIR before this line, or write ${LOG_SUBDIR:-} if empty is meant',
      'env.local:3: ELSEWHERE is not set (by an earlier line, a default.env or the environment): $ELSEWHERE in the value of B is replaced by ""; set ELSEWHERE before this line, or write ${ELSEWHERE:-} if empty is meant',
    ]);
  });

  it('says nothing of ${NAME:-default} and ${NAME-default}, nor of a name set empty', () => {
    expect(valid(load('', ['EMPTY=', 'A="${U:-x}${U-y}$EMPTY"'].join('\n'))).warnings).toEqual([]);
  });

  it('when a shell computed the values, warns only of the names it left empty too', () => {
    const evaluated = (values: Record<string, string>) =>
      valid(loadConfig({ builtins: BUILTIN_JOB_KINDS, files: [{ path: 'env.local', text: 'A="$SET_BY_SH $EMPTY_IN_SH $UNSET_IN_SH"' }], processEnv: {}, evaluated: values }));
    expect(evaluated({ A: 'x  ', SET_BY_SH: 'x', EMPTY_IN_SH: '' }).warnings.map((w) => w.message.split(' ')[0])).toEqual(['EMPTY_IN_SH', 'UNSET_IN_SH']);
  });
});

describe('loadConfig: problems', () => {
  it.each([
    ['COMPOSE_DIR=relative/dir', 'env.local:1: COMPOSE_DIR="relative/dir" must be an absolute path'],
    ['AUTODEPLOY_LOG_DIR=logs', 'env.local:1: AUTODEPLOY_LOG_DIR="logs" must be an absolute path'],
    ['AUTODEPLOY_LOG_FORMAT=xml', 'env.local:1: AUTODEPLOY_LOG_FORMAT="xml" must be text or json'],
    ['AUTODEPLOY_LOG_MAX_SIZE=10mb', 'env.local:1: AUTODEPLOY_LOG_MAX_SIZE="10mb" must be a size like 500k, 10m or 1g'],
    ['AUTODEPLOY_LOG_KEEP=0', 'env.local:1: AUTODEPLOY_LOG_KEEP="0" must be a whole number of files, at least 1'],
    ['AUTODEPLOY_LOG_KEEP=many', 'env.local:1: AUTODEPLOY_LOG_KEEP="many" must be a whole number of files, at least 1'],
    ['AUTODEPLOY_STATE_DIR=./state', 'env.local:1: AUTODEPLOY_STATE_DIR="./state" must be an absolute path'],
    ['TZ=Mars/Olympus_Mons', 'env.local:1: TZ="Mars/Olympus_Mons" is not a time zone this system knows (use an IANA name such as UTC or Europe/Paris)'],
    ['AUTODEPLOY_JOB_TIMEOUT=soon', 'env.local:1: AUTODEPLOY_JOB_TIMEOUT="soon" must be a duration like 90s, 30m, 2h or a number of seconds'],
    ['AUTODEPLOY_CODE_OWNERSHIP=www-data', 'env.local:1: AUTODEPLOY_CODE_OWNERSHIP="www-data" must be a numeric uid or uid:gid (names differ between the host and the deploy container)'],
    ['AUTODEPLOY_CODE_OWNERSHIP=1000:', 'env.local:1: AUTODEPLOY_CODE_OWNERSHIP="1000:" must be a numeric uid or uid:gid (names differ between the host and the deploy container)'],
    ['AUTODEPLOY_CODE_OWNERSHIP=4294967295', 'env.local:1: AUTODEPLOY_CODE_OWNERSHIP="4294967295" has uid 4294967295, over 4294967294, the largest id chown can give'],
    ['AUTODEPLOY_CODE_OWNERSHIP=1000:99999999999', 'env.local:1: AUTODEPLOY_CODE_OWNERSHIP="1000:99999999999" has gid 99999999999, over 4294967294, the largest id chown can give'],
    ['AUTODEPLOY_JOB_TIMEOUT=0s', 'env.local:1: AUTODEPLOY_JOB_TIMEOUT="0s" must be a duration like 90s, 30m, 2h or a number of seconds'],
    ['AUTODEPLOY_COMPOSE_TIMEOUT=0', 'env.local:1: AUTODEPLOY_COMPOSE_TIMEOUT="0" must be a duration like 90s, 5m or a number of seconds'],
    ['AUTODEPLOY_GIT_TIMEOUT=forever', 'env.local:1: AUTODEPLOY_GIT_TIMEOUT="forever" must be a duration like 90s, 5m or a number of seconds'],
    ['AUTODEPLOY_TRIGGER_TIMEOUT=1d', 'env.local:1: AUTODEPLOY_TRIGGER_TIMEOUT="1d" must be a duration like 90s, 5m or a number of seconds'],
    ['AUTODEPLOY_NOTEBOOK_FETCH_TIMEOUT=-5', 'env.local:1: AUTODEPLOY_NOTEBOOK_FETCH_TIMEOUT="-5" must be a duration like 90s, 5m or a number of seconds'],
  ])('refuses %s', (line, message) => {
    expect(refused(load('', line))).toEqual([message]);
  });

  it('points a bad setting from default.env at default.env', () => {
    expect(refused(load('AUTODEPLOY_LOG_FORMAT=yaml', ''))).toEqual(['default.env:1: AUTODEPLOY_LOG_FORMAT="yaml" must be text or json']);
  });

  it('reports every problem of both files, in file and line order', () => {
    expect(refused(load('X=$(a)', 'B=ok\nC=`b`\nD=a b'))).toEqual([
      'default.env:1: command substitution is not supported in default.env; put the literal value, or set AUTODEPLOY_ENV_EVAL=sh to have /bin/sh evaluate default.env',
      'env.local:2: command substitution is not supported in env.local; put the literal value, or set AUTODEPLOY_ENV_EVAL=sh to have /bin/sh evaluate env.local',
      'env.local:3: the value of D is followed by "b", which sh would run as a command; quote the whole value (D="...") or start a comment with " #"',
    ]);
  });

  it('reports settings and job problems together', () => {
    expect(
      refused(load('', ['AUTODEPLOY_LOG_FORMAT=xml', 'AUTODEPLOY_JOB_A_SCHEDULE=@daily', 'AUTODEPLOY_JOB_A_IMAGE=alpine', 'AUTODEPLOY_LOG_KEEP=-1'].join('\n'))),
    ).toEqual([
      'env.local:1: AUTODEPLOY_LOG_FORMAT="xml" must be text or json',
      'env.local:2: job "a": AUTODEPLOY_JOB_A_COMMAND is required (what to run in the container)',
      'env.local:4: AUTODEPLOY_LOG_KEEP="-1" must be a whole number of files, at least 1',
    ]);
  });
});

describe('loadConfig: secrets', () => {
  it('recognizes secret-looking names', () => {
    for (const name of ['POSTGRES_PASSWORD', 'password_file', 'GITHUB_CLIENT_SECRET', 'SecretThing', 'API_TOKEN', 'tokens', 'SSH_KEY', 'aws_secret_key']) {
      expect(isSecretName(name)).toBe(true);
    }
    for (const name of ['HOME', 'KEYCLOAK_URL', 'AUTODEPLOY_DEPLOY_KEY_ROOT_DIR', 'MONKEY', 'PASSWD']) {
      expect(isSecretName(name)).toBe(false);
    }
  });

  it('collects values from the files, the process environment and job settings, longest first', () => {
    const c = valid(
      load(
        "DEFAULT_TOKEN='from-defaults'",
        [
          "MAGPIE_ADMIN_PASSWORD='s3cr3t$pass'",
          'MAGPIE_ADMIN_PASSWORD=second-value',
          'SHORT_SECRET=abc',
          'USE_TOKEN=true',
          'NOT_SENSITIVE=visible-value',
          'AUTODEPLOY_JOB_A_SCHEDULE=@daily',
          'AUTODEPLOY_JOB_A_IMAGE=alpine',
          'AUTODEPLOY_JOB_A_COMMAND=true',
          'AUTODEPLOY_JOB_A_ENV="DB_PASSWORD=job-db-pass"',
          'AUTODEPLOY_JOB_A_DOCKERARGS="-e S3_SECRET=job-s3-secret"',
        ].join('\n'),
        { GITHUB_TOKEN: 'ghp_fromenv', HOME: '/root' },
      ),
    );
    // by length, then alphabetically; 'abc' is too short to mask, 'true' is a switch, NOT_SENSITIVE is not secret
    expect(c.secrets).toEqual(['from-defaults', 'job-s3-secret', 'second-value', 'ghp_fromenv', 'job-db-pass', 's3cr3t$pass']);
  });
});

describe('the shipped config/default.env and env.local.example', () => {
  it('load as they are', () => {
    const c = valid(
      loadConfig({ builtins: BUILTIN_JOB_KINDS, 
        files: [
          { path: 'config/default.env', text: DEFAULT_ENV },
          { path: 'env.local', text: EXAMPLE },
        ],
        processEnv: { HOME: '/root' },
      }),
    );
    expect(c.warnings).toEqual([]);
    expect(c.jobs).toEqual([]);
    expect(allSettings(c)).toEqual({
      logDir: '/var/log/PAVICS',
      logFormat: 'text',
      logMaxSize: '10m',
      logKeep: 10,
      stateDir: '/var/lib/autodeploy',
      jobsDir: '/scheduler-job-configs',
      ...DEPLOY_DEFAULTS,
      platformFrequency: '7 5 * * *',
      notebookFrequency: '@hourly',
    });
    expect(c.env['AUTODEPLOY_PLATFORM_FREQUENCY']).toBe('7 5 * * *');
    expect(c.env['AUTODEPLOY_NOTEBOOK_FREQUENCY']).toBe('@hourly');
  });

  it('default.env sets every setting but COMPOSE_DIR and AUTODEPLOY_ENV_EVAL, each after a comment', () => {
    const lines = DEFAULT_ENV.split('\n');
    const set = lines.flatMap((line, i) => {
      const m = /^export (AUTODEPLOY_[A-Z_]+)=/.exec(line);
      return m?.[1] === undefined ? [] : [{ name: m[1], comment: lines[i - 1] ?? '' }];
    });
    expect(set.map((s) => s.name).sort()).toEqual(KNOWN_SETTINGS.filter((n) => n !== 'AUTODEPLOY_ENV_EVAL').sort());
    for (const s of set) expect(s.comment, s.name).toMatch(/^# \S/);
    expect(DEFAULT_ENV).not.toMatch(/^export COMPOSE_DIR=/m);
  });

  it('env.local.example documents every setting', () => {
    for (const name of [...KNOWN_SETTINGS, 'COMPOSE_DIR', 'TZ']) expect(EXAMPLE, name).toContain(name);
  });

  it('its examples, uncommented, load into one job of each format', () => {
    const c = valid(
      loadConfig({ builtins: BUILTIN_JOB_KINDS, 
        files: [
          { path: 'config/default.env', text: DEFAULT_ENV },
          { path: 'env.local', text: uncommentExamples(EXAMPLE) },
        ],
        processEnv: { HOME: '/root' },
      }),
    );
    expect(c.warnings).toEqual([]);
    expect(allSettings(c)).toEqual({
      composeDir: '/opt/birdhouse-deploy/birdhouse',
      timezone: 'America/Montreal',
      logDir: '/var/log/PAVICS',
      logFormat: 'json',
      logMaxSize: '50m',
      logKeep: 30,
      stateDir: '/var/lib/autodeploy',
      jobsDir: '/scheduler-job-configs',
      defaultJobTimeoutMs: 7_200_000,
      codeOwnership: { uid: 1000, gid: 1000 },
      compose: 'docker compose',
      deployKeyRootDir: '/root/.ssh/deploy_keys',
      extraRepos: ['/opt/private-config', '/opt/extra-components'],
      image: 'autodeploy-scheduler:latest',
      knownHosts: '/root/.ssh/known_hosts',
      platformFrequency: '*/30 * * * *',
      restart: 'all',
      verifyTimeoutMs: 600_000,
      composeTimeoutMs: 1_800_000,
      gitTimeoutMs: 300_000,
      triggerTimeoutMs: 120_000,
      notebookFetchTimeoutMs: 1_200_000,
      notebookFrequency: '@daily',
      notebookSources: [
        {
          url: 'https://github.com/Ouranosinc/pavics-sdi.git',
          ref: 'master',
          subdir: 'docs/source/notebooks',
          glob: '*.ipynb',
          dest: '',
          line: exampleLine('#https://github.com/Ouranosinc/pavics-sdi.git'),
        },
        {
          url: 'git@github.com:Ouranosinc/private-tutorials.git',
          ref: 'v2.1',
          subdir: '',
          glob: '**/*.ipynb',
          dest: 'private',
          line: exampleLine('#git@github.com:Ouranosinc/private-tutorials.git'),
        },
      ],
      notebookTargetDir: '/data/jupyterhub_user_data/tutorial-notebooks',
      notebookOwner: { uid: 0, gid: 0 },
      httpPort: 8090,
      httpHost: '0.0.0.0',
      webhookSecret: 'replace-with-a-long-random-secret',
      apiTokensFile: '/path/to/autodeploy-api-tokens',
      notifyTargets: [{ url: 'https://hooks.slack.com/services/T000/B000/XXXX', form: 'text' }],
    });
    expect(c.jobs.map((j) => [j.name, j.schedule?.text, runsInContainer(j) ? j.container.image : undefined])).toEqual([
      ['autodeploy', '*/30 * * * *', 'autodeploy-scheduler:latest'],
      ['notebookdeploy', '@daily', 'autodeploy-scheduler:latest'],
      ['clean_logs', '@daily', 'busybox:latest'],
      ['db_backup', '30 2 * * *', 'postgres:16'],
    ]);
    const exampleLines = EXAMPLE.split('\n');
    for (const j of c.jobs.filter((job) => job.kind === 'container')) {
      const line = exampleLines[(j.source.line ?? 0) - 1] ?? '';
      expect(line, j.name).toContain(j.name === 'clean_logs' ? '#- name: clean_logs' : 'AUTODEPLOY_JOB_DB_BACKUP_');
    }
    // The tokens file's path is not a secret, whatever its variable's name says: logs name it.
    expect(c.secrets).toEqual(['https://hooks.slack.com/services/T000/B000/XXXX', 'replace-with-a-long-random-secret', 'change-me']);
  });
});

describe('loadConfig: the HTTP settings', () => {
  const HTTP_ENV = 'config/default.env';
  const loadWith = (local: string) =>
    loadConfig({ builtins: [], files: [{ path: HTTP_ENV, text: readFileSync(root('config/default.env'), 'utf8') }, { path: 'env.local', text: local }], processEnv: {} });

  it('reads the port, the secret, the tokens file and the notify URLs with their forms', () => {
    const result = loadWith([
      'AUTODEPLOY_HTTP_PORT=8090',
      'BIRDHOUSE_AUTODEPLOY_WEBHOOK_SECRET=0123456789abcdef0123',
      'AUTODEPLOY_API_TOKENS_FILE=/etc/autodeploy/tokens',
      'AUTODEPLOY_NOTIFY_URLS="https://hooks.slack.com/services/A/B/C https://chat.example.org/hooks/abc json+https://mattermost.example.org/hooks/x https://example.org/notify"',
    ].join('\n'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const s = result.config.settings;
    expect(s.httpPort).toBe(8090);
    expect(s.webhookSecret).toBe('0123456789abcdef0123');
    expect(s.apiTokensFile).toBe('/etc/autodeploy/tokens');
    expect(s.notifyTargets.map((t) => t.form)).toEqual(['text', 'text', 'json', 'json']);
    expect(s.notifyTargets[2]?.url).toBe('https://mattermost.example.org/hooks/x');
    // The URLs are secrets: masked in every log line.
    expect(result.config.secrets).toContain('https://example.org/notify');
  });

  it('keeps the port of the scheduler environment and is off when empty', () => {
    const off = loadWith('');
    expect(off.ok && off.config.settings.httpPort).toBeUndefined();
    const fromEnv = loadConfig({ builtins: [], files: [{ path: HTTP_ENV, text: readFileSync(root('config/default.env'), 'utf8') }], processEnv: { AUTODEPLOY_HTTP_PORT: '9000' } });
    expect(fromEnv.ok && fromEnv.config.settings.httpPort).toBe(9000);
  });

  it('refuses bad values at their line, never quoting a secret', () => {
    const result = loadWith('AUTODEPLOY_HTTP_PORT=70000\nAUTODEPLOY_WEBHOOK_SECRET=short-secret\nAUTODEPLOY_NOTIFY_URLS="ftp://user:hunter2hunter2@example.org/x notaurl"');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const lines = result.issues.map((i) => `${i.file}:${i.line}: ${i.message}`);
    expect(lines).toEqual([
      'env.local:1: AUTODEPLOY_HTTP_PORT="70000" must be a port number from 1 to 65535, or empty for no HTTP server',
      'env.local:2: AUTODEPLOY_WEBHOOK_SECRET must be at least 16 characters (use e.g. openssl rand -hex 32)',
      'env.local:3: AUTODEPLOY_NOTIFY_URLS has URL #1 that is neither http nor https but ftp',
      'env.local:3: AUTODEPLOY_NOTIFY_URLS has URL #2 that is not a URL (write http(s)://…, optionally prefixed with text+ or json+)',
    ]);
    expect(lines.join('\n')).not.toMatch(/short-secret|hunter2/);
  });
});
