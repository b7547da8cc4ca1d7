// What is checked when the configuration is loaded rather than found broken at run time: the
// log and state directories, control characters, names in lower case, checkouts listed twice,
// a missing deploy-key directory.
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';
import { readConfig } from '../../src/config/read.js';
import { formatIssue } from '../../src/core/issues.js';
import { makeTempDir, removeTempDir } from '../fixtures/git-repos.js';
import { DEFAULTS_FILE } from '../helpers/scheduler-env.js';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await makeTempDir('config-at-load');
});

afterAll(async () => {
  await removeTempDir(dir);
});

async function read(lines: readonly string[]) {
  counter += 1;
  const envFile = join(dir, `env.local.${counter}`);
  await writeFile(envFile, `${lines.join('\n')}\n`);
  const result = await readConfig({ builtins: BUILTIN_JOB_KINDS, envFile, defaultsFile: DEFAULTS_FILE, processEnv: { HOME: '/root', PATH: process.env['PATH'] } });
  return { result, envFile };
}

async function problems(lines: readonly string[]): Promise<string[]> {
  const { result, envFile } = await read(lines);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.issues.map((i) => formatIssue(i).replace(envFile, 'env.local'));
}

async function warnings(lines: readonly string[]): Promise<string[]> {
  const { result, envFile } = await read(lines);
  if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
  return result.config.warnings.map((i) => formatIssue(i).replace(envFile, 'env.local'));
}

describe('the log and state directories', () => {
  it('are refused when a system directory or a regular file, and warned of when not writable', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory\n');
    const locked = join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o555);
    const state = join(dir, 'state');
    expect(await problems([`AUTODEPLOY_LOG_DIR=/`, `AUTODEPLOY_STATE_DIR=${state}`])).toEqual([
      'env.local:1: AUTODEPLOY_LOG_DIR="/" is a system directory; give the scheduler a directory of its own (e.g. /var/log/birdhouse, /var/lib/autodeploy)',
    ]);
    expect(await problems([`AUTODEPLOY_LOG_DIR=/etc`, `AUTODEPLOY_STATE_DIR=${state}`])).toEqual([
      'env.local:1: AUTODEPLOY_LOG_DIR="/etc" is a system directory; give the scheduler a directory of its own (e.g. /var/log/birdhouse, /var/lib/autodeploy)',
    ]);
    expect(await problems([`AUTODEPLOY_LOG_DIR=${file}`, `AUTODEPLOY_STATE_DIR=${state}`])).toEqual([
      `env.local:1: AUTODEPLOY_LOG_DIR: ${file} is not a directory; name a directory (it is created when missing)`,
    ]);
    expect(await problems([`AUTODEPLOY_LOG_DIR=${join(dir, 'logs')}`, `AUTODEPLOY_STATE_DIR=${file}`])).toEqual([
      `env.local:2: AUTODEPLOY_STATE_DIR: ${file} is not a directory; name a directory (it is created when missing)`,
    ]);
    // Warned, not refused: the scheduler keeps running jobs through a log directory that fails.
    // root writes anywhere: only a scheduler run as another user would be told of a 0555 directory.
    if (process.getuid?.() !== 0) {
      expect(await warnings([`AUTODEPLOY_LOG_DIR=${locked}`])).toEqual([
        `env.local:1: AUTODEPLOY_LOG_DIR: ${locked} cannot be written to by this scheduler; give it write access, or name another directory`,
      ]);
    }
  });
});

describe('values and names', () => {
  it('refuses a control character in a value at its line, without the value', async () => {
    expect(await problems([`AUTODEPLOY_LOG_DIR=${join(dir, 'l')}`, 'DB_PASSWORD="abc\u0000def"', 'OTHER="x\u001by"'])).toEqual([
      'env.local:2: the value of DB_PASSWORD holds the control character U+0000 (NUL); remove it',
      'env.local:3: the value of OTHER holds the control character U+001B; remove it',
    ]);
  });

  it('warns of an autodeploy setting written in lower case', async () => {
    expect(await warnings([`AUTODEPLOY_LOG_DIR=${join(dir, 'l')}`, 'autodeploy_log_keep=3', 'birdhouse_autodeploy_restart=all'])).toEqual([
      'env.local:2: autodeploy_log_keep is ignored: setting names are upper case; did you mean AUTODEPLOY_LOG_KEEP?',
      'env.local:3: birdhouse_autodeploy_restart is ignored: setting names are upper case; did you mean BIRDHOUSE_AUTODEPLOY_RESTART?',
    ]);
  });
});

describe('checkouts and keys', () => {
  it('refuses a checkout listed twice, also through a symbolic link', async () => {
    const platform = join(dir, 'platform');
    const extra = join(dir, 'extra');
    await mkdir(join(platform, '.git'), { recursive: true });
    await mkdir(extra);
    await symlink(extra, join(dir, 'extra-link'));
    expect(await problems([`AUTODEPLOY_LOG_DIR=${join(dir, 'l')}`, `COMPOSE_DIR=${platform}`, `AUTODEPLOY_EXTRA_REPOS="${extra} ${join(dir, 'extra-link')} ${extra}"`])).toEqual([
      `env.local:3: AUTODEPLOY_EXTRA_REPOS lists the checkout ${extra} twice (${extra} and ${join(dir, 'extra-link')} are the same directory); list each checkout once`,
      `env.local:3: AUTODEPLOY_EXTRA_REPOS lists the checkout ${extra} twice; list each checkout once`,
    ]);
  });

  it('warns of a deploy-key directory that is not there', async () => {
    expect(await warnings([`AUTODEPLOY_LOG_DIR=${join(dir, 'l')}`, `AUTODEPLOY_DEPLOY_KEY_ROOT_DIR=${join(dir, 'no-keys')}`])).toEqual([
      `env.local:2: AUTODEPLOY_DEPLOY_KEY_ROOT_DIR: ${join(dir, 'no-keys')} is not a directory here, so no checkout gets a deploy key from it; create it, or mount it into the scheduler`,
    ]);
  });
});
