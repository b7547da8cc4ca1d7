// env.local as birdhouse-deploy recommends keeping it: a symbolic link into a private config
// checkout in another directory. Real files and real links.

import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';
import { readConfig } from '../../src/config/read.js';
import { watchFileContent, type FileWatch } from '../../src/config/watch-file.js';
import { formatIssue } from '../../src/core/issues.js';
import { makeTempDir, removeTempDir } from '../fixtures/git-repos.js';
import { refusedIssues, validConfig } from '../helpers/config.js';
import { containerOf } from '../helpers/config.js';

const DEFAULTS = fileURLToPath(new URL('../../config/default.env', import.meta.url));
const BASE = { HOME: '/home/op', PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

let dir: string;
/** COMPOSE_DIR, holding the link */
let platform: string;
/** the private config checkout, holding the real file */
let config: string;

beforeEach(async () => {
  dir = await makeTempDir('autodeploy-symlink');
  platform = join(dir, 'birdhouse-deploy', 'birdhouse');
  config = join(dir, 'private-config');
  await mkdir(platform, { recursive: true });
  await mkdir(config, { recursive: true });
});
afterEach(async () => {
  await removeTempDir(dir);
});

const read = (envFile: string) => readConfig({ builtins: BUILTIN_JOB_KINDS, envFile, defaultsFile: DEFAULTS, processEnv: BASE });

describe('readConfig with env.local as a symbolic link', () => {
  it('reads the file the link leads to, and names the link in its problems', async () => {
    const real = join(config, 'env.local');
    await writeFile(real, [`export COMPOSE_DIR=${platform}`, 'export AUTODEPLOY_LOG_KEEP=7', 'export AUTODEPLOY_STATE_DIR=relative'].join('\n'));
    const link = join(platform, 'env.local');
    await symlink('../../private-config/env.local', link);
    expect(refusedIssues(await read(link))).toEqual([`${link}:3: AUTODEPLOY_STATE_DIR="relative" must be an absolute path`]);

    await writeFile(real, [`export COMPOSE_DIR=${platform}`, 'export AUTODEPLOY_LOG_KEEP=7', 'export AUTODEPLOY_NOTEBOOK_SOURCES=https://h/nb.git', 'export JUPYTERHUB_USER_DATA_DIR=/data/u'].join('\n'));
    const c = validConfig(await read(link));
    expect(c.settings.logKeep).toBe(7);
    expect(c.files).toEqual([DEFAULTS, link]);
    // the jobs that read env.local in their own container can follow the link there
    const volumes = Object.fromEntries(c.jobs.map((j) => [j.name, containerOf(j)?.volumes]));
    expect(volumes['autodeploy']).toContain(`${config}:${config}:ro`);
    expect(volumes['notebookdeploy']).toEqual(expect.arrayContaining([`${platform}:${platform}:ro`, `${config}:${config}:ro`]));
  });

  it('mounts nothing more for a link that stays inside the checkouts', async () => {
    await writeFile(join(platform, 'env.local.real'), `export COMPOSE_DIR=${platform}\n`);
    await symlink('env.local.real', join(platform, 'env.local'));
    const c = validConfig(await read(join(platform, 'env.local')));
    expect(containerOf(c.jobs.find((j) => j.name === 'autodeploy'))?.volumes.filter((v) => v.endsWith(':ro'))).toEqual([]);
  });

  it('says that a link leads nowhere, and where it leads, instead of calling it missing', async () => {
    const link = join(platform, 'env.local');
    await symlink(join(config, 'gone', 'env.local'), link);
    expect(refusedIssues(await read(link))).toEqual([
      `${link}: ${link} is a symbolic link to ${join(config, 'gone', 'env.local')}, which does not exist here; ` +
        `restore it, or, in a container, mount the directory it is in (${join(config, 'gone')}) at the same path`,
    ]);
  });

  it('says when the directory of env.local is missing too', async () => {
    const envFile = join(dir, 'not-mounted', 'env.local');
    expect((await read(envFile)).ok ? [] : refusedIssues(await read(envFile))).toEqual([
      `${envFile}: ${envFile} does not exist, nor does its directory ${join(dir, 'not-mounted')}; in a container, mount that directory at the same path`,
    ]);
    // a plain missing file keeps its plain message
    const missing = await read(join(platform, 'env.local'));
    expect(missing.ok ? [] : missing.issues.map(formatIssue)).toEqual([
      `${join(platform, 'env.local')}: ${join(platform, 'env.local')} does not exist; create it from env.local.example`,
    ]);
  });
});

describe('watchFileContent with a symbolic link', () => {
  let watcher: FileWatch | undefined;
  afterEach(() => {
    watcher?.close();
    watcher = undefined;
  });

  /** Resolves with the next text seen; fails if it takes the poll's 5 s or more, so only the watch can see it in time. */
  function nextChange(changes: (string | undefined)[]): Promise<string | undefined> {
    const seen = changes.length;
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const tick = setInterval(() => {
        if (changes.length > seen) {
          clearInterval(tick);
          resolve(changes[seen]);
        } else if (Date.now() - started > 4_000) {
          clearInterval(tick);
          reject(new Error('no change seen within 4 s'));
        }
      }, 20);
    });
  }

  it("notices an edit of the link's target, written in place or replaced by rename, and a link pointed elsewhere", async () => {
    const real = join(config, 'env.local');
    await writeFile(real, 'A=1\n');
    const link = join(platform, 'env.local');
    await symlink(real, link);
    const changes: (string | undefined)[] = [];
    watcher = await watchFileContent(link, (text) => changes.push(text));

    let next = nextChange(changes);
    await writeFile(real, 'A=2\n');
    expect(await next).toBe('A=2\n');

    // what git pull and most editors do
    next = nextChange(changes);
    await writeFile(join(config, '.env.local.tmp'), 'A=3\n');
    await rename(join(config, '.env.local.tmp'), real);
    expect(await next).toBe('A=3\n');

    // the link itself pointed at another file, in another directory: that one is followed from then on
    const other = join(dir, 'other-config');
    await mkdir(other);
    await writeFile(join(other, 'env.local'), 'A=4\n');
    next = nextChange(changes);
    await symlink(join(other, 'env.local'), `${link}.new`);
    await rename(`${link}.new`, link);
    expect(await next).toBe('A=4\n');
    next = nextChange(changes);
    await writeFile(join(other, 'env.local'), 'A=5\n');
    expect(await next).toBe('A=5\n');
  });
});
