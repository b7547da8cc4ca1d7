import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/load.js';
import type { NotebookDeployJob } from '../../src/core/job.js';
import { localSourcePath, parseNotebookSources } from '../../src/core/notebook-source.js';
import { allSettings, refusedIssues, validConfig } from '../helpers/config.js';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';

const DEFAULTS = {
  path: 'default.env',
  text: [
    'export AUTODEPLOY_NOTEBOOK_FREQUENCY="@hourly"',
    'export AUTODEPLOY_NOTEBOOK_SOURCES=""',
    'export AUTODEPLOY_NOTEBOOK_TARGET_DIR=""',
    'export AUTODEPLOY_NOTEBOOK_OWNER=""',
    '',
  ].join('\n'),
};

function load(envLocal: string, processEnv: Record<string, string> = {}) {
  return loadConfig({ builtins: BUILTIN_JOB_KINDS,  files: [DEFAULTS, { path: 'env.local', text: envLocal }], processEnv: { HOME: '/root', ...processEnv } });
}

function config(envLocal: string): Config {
  return validConfig(load(envLocal));
}

function problems(envLocal: string): string[] {
  return refusedIssues(load(envLocal));
}

function notebookJob(c: Config): NotebookDeployJob | undefined {
  const found = c.jobs.find((j) => j.name === 'notebookdeploy');
  if (found !== undefined && found.kind !== 'notebookdeploy') throw new Error('notebookdeploy is not the built-in job');
  return found;
}

describe('parseNotebookSources', () => {
  it('reads every field, with - keeping a default and # starting a comment', () => {
    const parsed = parseNotebookSources(
      [
        '',
        '# the public tutorials',
        'https://github.com/Ouranosinc/pavics-sdi.git master docs/source/notebooks',
        '  git@github.com:org/private.git  v2.1  -  **/*.ipynb  private/ # kept apart',
        '/srv/git/local.git - ./nb/ {*.ipynb,*.png} -',
        'ssh://git@host:2222/x.git 0123456789abcdef0123456789abcdef01234567',
      ].join('\n'),
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.sources).toEqual([
      { offset: 2, url: 'https://github.com/Ouranosinc/pavics-sdi.git', ref: 'master', subdir: 'docs/source/notebooks', glob: '*.ipynb', dest: '' },
      { offset: 3, url: 'git@github.com:org/private.git', ref: 'v2.1', subdir: '', glob: '**/*.ipynb', dest: 'private' },
      { offset: 4, url: '/srv/git/local.git', ref: undefined, subdir: 'nb', glob: '{*.ipynb,*.png}', dest: '' },
      { offset: 5, url: 'ssh://git@host:2222/x.git', ref: '0123456789abcdef0123456789abcdef01234567', subdir: '', glob: '*.ipynb', dest: '' },
    ]);
  });

  it('says what is wrong with each line that cannot be used, and keeps the others', () => {
    const parsed = parseNotebookSources(
      [
        'relative/path main',
        'https://h/r.git main ../outside',
        'https://h/r.git ma..in',
        'https://h/r.git main - [abc',
        'https://h/r.git main - - ../up',
        'https://h/r.git main a b c d',
        'ftp://h/r.git',
        '-h main',
        'https://h/good.git',
      ].join('\n'),
    );
    expect(parsed.sources.map((s) => s.url)).toEqual(['https://h/good.git']);
    expect(parsed.problems.map((p) => [p.offset, p.message])).toEqual([
      [0, 'URL "relative/path" is not a git URL; expected a git URL (ssh://…, https://…, git@host:path) or an absolute path'],
      [1, 'sub-directory "../outside" must stay inside the repository (no ".." segments)'],
      [2, 'ref "ma..in" must not contain "..", "@{" or "//"'],
      [3, 'glob "[abc" has an unclosed "[" in "[abc"'],
      [4, 'destination "../up" must stay inside the target directory (no ".." segments)'],
      [5, 'has 6 fields; expected at most 5: <url> [<ref> [<sub-directory> [<glob> [<destination>]]]]'],
      [6, 'URL "ftp://h/r.git" has a scheme git cannot fetch from here; expected a git URL (ssh://…, https://…, git@host:path) or an absolute path'],
      [7, 'URL "-h" must not start with "-"'],
    ]);
  });

  it('knows which sources are on this host', () => {
    expect(localSourcePath('/srv/git/nb.git/')).toBe('/srv/git/nb.git');
    expect(localSourcePath('file:///srv/git/my%20nb.git')).toBe('/srv/git/my nb.git');
    expect(localSourcePath('https://h/r.git')).toBeUndefined();
    expect(localSourcePath('git@h:r.git')).toBeUndefined();
  });
});

describe('notebook settings in env.local', () => {
  it('points each bad source at its own line of env.local', () => {
    expect(
      problems(
        [
          'JUPYTERHUB_USER_DATA_DIR=/data/jupyterhub_user_data',
          'export AUTODEPLOY_NOTEBOOK_SOURCES="',
          'https://h/good.git main',
          'not-a-url',
          '',
          'https://h/r.git main - - ../x',
          '"',
        ].join('\n'),
      ),
    ).toEqual([
      'env.local:4: AUTODEPLOY_NOTEBOOK_SOURCES: the line "not-a-url" URL "not-a-url" is not a git URL; expected a git URL (ssh://…, https://…, git@host:path) or an absolute path',
      'env.local:6: AUTODEPLOY_NOTEBOOK_SOURCES: the line "https://h/r.git main - - ../x" destination "../x" must stay inside the target directory (no ".." segments)',
    ]);
  });

  it('publishes to ${JUPYTERHUB_USER_DATA_DIR}/tutorial-notebooks as root by default', () => {
    const c = config(['JUPYTERHUB_USER_DATA_DIR=/data/jupyterhub_user_data/', 'AUTODEPLOY_NOTEBOOK_SOURCES="https://h/nb.git"'].join('\n'));
    expect(allSettings(c).notebookTargetDir).toBe('/data/jupyterhub_user_data/tutorial-notebooks');
    expect(allSettings(c).notebookOwner).toEqual({ uid: 0, gid: 0 });
    expect(allSettings(c).notebookFrequency).toBe('@hourly');
    expect(allSettings(c).notebookSources).toEqual([{ url: 'https://h/nb.git', ref: undefined, subdir: '', glob: '*.ipynb', dest: '', line: 2 }]);
  });

  it('takes AUTODEPLOY_NOTEBOOK_TARGET_DIR over the default, and root:root or numbers as the owner', () => {
    const c = config(['JUPYTERHUB_USER_DATA_DIR=/data/u', 'AUTODEPLOY_NOTEBOOK_TARGET_DIR=/srv/notebooks/', 'AUTODEPLOY_NOTEBOOK_OWNER=root:root'].join('\n'));
    expect(allSettings(c).notebookTargetDir).toBe('/srv/notebooks');
    expect(allSettings(c).notebookOwner).toEqual({ uid: 0, gid: 0 });
    expect(allSettings(config('AUTODEPLOY_NOTEBOOK_OWNER=1000:100')).notebookOwner).toEqual({ uid: 1000, gid: 100 });
  });

  it('refuses an owner by name, a relative or top-level target, and a relative JUPYTERHUB_USER_DATA_DIR, at their lines', () => {
    expect(problems('\nAUTODEPLOY_NOTEBOOK_OWNER=jovyan:users')).toEqual([
      'env.local:2: AUTODEPLOY_NOTEBOOK_OWNER="jovyan:users" must be numeric uid:gid (e.g. 1000:1000), or root (names differ between the host and the job container)',
    ]);
    expect(problems('AUTODEPLOY_NOTEBOOK_TARGET_DIR=notebooks')).toEqual(['env.local:1: AUTODEPLOY_NOTEBOOK_TARGET_DIR="notebooks" must be an absolute path']);
    for (const top of ['/', '/tutorial-notebooks']) {
      expect(problems(`AUTODEPLOY_NOTEBOOK_TARGET_DIR=${top}`)).toEqual([
        `env.local:1: AUTODEPLOY_NOTEBOOK_TARGET_DIR="${top}" must be inside a directory other than / (that directory is mounted into the job and holds the published versions)`,
      ]);
    }
    expect(problems('AUTODEPLOY_NOTEBOOK_TARGET_DIR=/data/.hidden')).toEqual([
      'env.local:1: AUTODEPLOY_NOTEBOOK_TARGET_DIR="/data/.hidden" must not name a hidden directory (a name starting with ".")',
    ]);
    expect(problems('# user data\nJUPYTERHUB_USER_DATA_DIR=data')).toEqual([
      'env.local:2: AUTODEPLOY_NOTEBOOK_TARGET_DIR is not set, and its default from JUPYTERHUB_USER_DATA_DIR ("data/tutorial-notebooks") must be an absolute path',
    ]);
  });
});

describe('the notebookdeploy job', () => {
  const base = [
    'COMPOSE_DIR=/opt/birdhouse',
    'JUPYTERHUB_USER_DATA_DIR=/data/jupyterhub_user_data',
    'AUTODEPLOY_STATE_DIR=/var/lib/autodeploy',
    'AUTODEPLOY_DEPLOY_KEY_ROOT_DIR=/root/.ssh/deploy',
    'AUTODEPLOY_KNOWN_HOSTS=/etc/autodeploy/known_hosts',
    'TZ=UTC',
  ];

  it('runs `autodeploy notebooks` in the scheduler image, with the target\'s parent, state, keys and host sources mounted', () => {
    const c = loadConfig({ builtins: BUILTIN_JOB_KINDS, 
      files: [DEFAULTS, { path: '/opt/birdhouse/env.local', text: [...base, 'AUTODEPLOY_NOTEBOOK_SOURCES="', 'git@github.com:org/nb.git main', 'file:///srv/git/local.git', '"'].join('\n') }],
      processEnv: { HOME: '/root' },
      context: { selfImage: 'autodeploy-scheduler:1.0', mounts: new Map([['/var/lib/autodeploy', 'birdhouse_autodeploy_state']]) },
    });
    const job = notebookJob(validConfig(c));
    expect(job).toMatchObject({
      kind: 'notebookdeploy',
      name: 'notebookdeploy',
      enabled: true,
      schedule: { kind: 'cron', text: '@hourly' },
      timeoutMs: 3_600_000,
      source: { file: '/opt/birdhouse/env.local', line: 7 },
    });
    expect(job?.container).toEqual({
      image: 'autodeploy-scheduler:1.0',
      command: ['autodeploy', 'notebooks'],
      entrypoint: undefined,
      volumes: [
        '/var/run/docker.sock:/var/run/docker.sock',
        '/data/jupyterhub_user_data:/data/jupyterhub_user_data:rw',
        'birdhouse_autodeploy_state:/var/lib/autodeploy:rw',
        '/opt/birdhouse:/opt/birdhouse:ro',
        '/root/.ssh/deploy:/root/.ssh/deploy:ro',
        '/etc/autodeploy/known_hosts:/etc/autodeploy/known_hosts:ro',
        '/srv/git/local.git:/srv/git/local.git:ro',
      ],
      env: { AUTODEPLOY_ENV_FILE: '/opt/birdhouse/env.local', COMPOSE_DIR: '/opt/birdhouse', TZ: 'UTC' },
      envFiles: [],
      user: undefined,
      workdir: undefined,
      network: undefined,
      extraHosts: [],
      labels: {},
      containerName: 'notebookdeploy',
    });
  });

  it('is there, switched off, when its frequency is empty; absent without sources', () => {
    const off = config([...base, 'AUTODEPLOY_NOTEBOOK_FREQUENCY=""', 'AUTODEPLOY_NOTEBOOK_SOURCES="https://h/nb.git"'].join('\n'));
    expect(notebookJob(off)).toMatchObject({ enabled: false, schedule: null });
    expect(notebookJob(config(base.join('\n')))).toBeUndefined();
  });

  it('refuses sources with no place to publish them, and a schedule it cannot read', () => {
    expect(problems('\nAUTODEPLOY_NOTEBOOK_SOURCES="https://h/nb.git"')).toEqual([
      'env.local:2: notebook sources are set, but not where to publish them: set AUTODEPLOY_NOTEBOOK_TARGET_DIR, or JUPYTERHUB_USER_DATA_DIR (the notebooks then go to its tutorial-notebooks folder)',
    ]);
    const bad = problems([...base, 'AUTODEPLOY_NOTEBOOK_FREQUENCY="every hour"', 'AUTODEPLOY_NOTEBOOK_SOURCES="https://h/nb.git"'].join('\n'));
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^env\.local:7: AUTODEPLOY_NOTEBOOK_FREQUENCY: /);
  });
});

describe('notebook source transports', () => {
  it('are ssh, https and this host only: no remote helper, no plain http or git://', () => {
    const parsed = parseNotebookSources(['fd::0', 'ext::sh -c touch% /tmp/x', 'http://example.org/r.git', 'git://example.org/r.git', 'https://example.org/r.git', 'git@example.org:org/r.git', '/srv/notebooks'].join('\n'));
    expect(parsed.problems.map((p) => p.message)).toEqual([
      'URL "fd::…" names a git remote helper, which runs a program; expected a git URL (ssh://…, https://…, git@host:path) or an absolute path',
      'URL "ext::…" names a git remote helper, which runs a program; expected a git URL (ssh://…, https://…, git@host:path) or an absolute path',
      'URL "http://example.org/r.git" is neither ssh nor https: its content could be changed on the way; expected a git URL (ssh://…, https://…, git@host:path) or an absolute path',
      'URL "git://example.org/r.git" is neither ssh nor https: its content could be changed on the way; expected a git URL (ssh://…, https://…, git@host:path) or an absolute path',
    ]);
    expect(parsed.sources.map((s) => s.url)).toEqual(['https://example.org/r.git', 'git@example.org:org/r.git', '/srv/notebooks']);
  });
});
