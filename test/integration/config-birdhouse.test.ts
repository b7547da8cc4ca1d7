// The configuration read as birdhouse-deploy reads it: its own read_configs, run by /bin/sh on a
// throwaway copy of a real birdhouse-deploy checkout.

import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';
import { evaluateWithBirdhouse } from '../../src/config/birdhouse-eval.js';
import { readConfig } from '../../src/config/read.js';
import { formatIssue } from '../../src/core/issues.js';
import { COMPONENT_DIR, copyBirdhouse, type BirdhouseCopy } from '../fixtures/birdhouse-copy.js';
import { allSettings, validConfig } from '../helpers/config.js';
import { containerOf } from '../helpers/config.js';

const DEFAULTS = fileURLToPath(new URL('../../config/default.env', import.meta.url));

let copy: BirdhouseCopy;
/** a PATH whose `docker` leaves a mark: reading the configuration must not talk to Docker */
let fakeBin: string;
let base: Record<string, string>;

beforeAll(async () => {
  copy = await copyBirdhouse();
  fakeBin = join(copy.root, '..', 'bin');
  await mkdir(fakeBin);
  await writeFile(join(fakeBin, 'docker'), `#!/bin/sh\ntouch ${join(fakeBin, 'docker-was-run')}\nexit 1\n`);
  await chmod(join(fakeBin, 'docker'), 0o755);
  base = { HOME: '/home/op', PATH: `${fakeBin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
});
afterAll(async () => {
  expect(existsSync(join(fakeBin, 'docker-was-run'))).toBe(false);
  await copy.remove();
});

/** env.local of a small birdhouse platform with this component and JupyterHub, then `lines`. */
async function envLocal(lines: readonly string[], name?: string): Promise<string> {
  return copy.writeEnvLocal(
    [
      `export COMPOSE_DIR="${copy.composeDir}"`,
      'export BIRDHOUSE_FQDN=birdhouse.example.org',
      'export BIRDHOUSE_DATA_PERSIST_ROOT=/srv/birdhouse-data',
      `export BIRDHOUSE_EXTRA_CONF_DIRS="./components/jupyterhub ${COMPONENT_DIR}"`,
      ...lines,
    ],
    name,
  );
}

const read = (envFile: string, processEnv: Record<string, string> = {}) =>
  readConfig({ builtins: BUILTIN_JOB_KINDS, envFile, defaultsFile: DEFAULTS, processEnv: { ...base, ...processEnv } });

describe('readConfig in a birdhouse-deploy checkout', () => {
  it("takes the values birdhouse's read_configs computes, with the lines of env.local that set them", async () => {
    const envFile = await envLocal([
      'export BIRDHOUSE_AUTODEPLOY_PLATFORM_FREQUENCY="@every 10m"',
      'export AUTODEPLOY_NOTEBOOK_SOURCES="https://example.org/tutorials.git"',
      'UNEXPORTED_BUT_ASSIGNED=yes',
      '# shell logic this project\'s own reader refuses, and birdhouse runs',
      'if [ -n "$BIRDHOUSE_FQDN" ]; then export MY_SITE="https://$BIRDHOUSE_FQDN/"; fi',
    ]);
    const c = validConfig(await read(envFile));
    // birdhouse's default.env, with env.local's override and DELAYED_EVAL applied
    expect(c.env).toMatchObject({
      BIRDHOUSE_DATA_PERSIST_ROOT: '/srv/birdhouse-data',
      BIRDHOUSE_DATA_PERSIST_SHARED_ROOT: '/srv/birdhouse-data',
      BIRDHOUSE_WPS_OUTPUTS_DIR: '/srv/birdhouse-data/wps_outputs',
      BIRDHOUSE_LOG_DIR: '/var/log/birdhouse',
      BIRDHOUSE_FQDN_PUBLIC: 'birdhouse.example.org',
      JUPYTERHUB_USER_DATA_DIR: '/srv/birdhouse-data/jupyterhub_user_data',
      COMPOSE_PROJECT_NAME: 'birdhouse',
      BIRDHOUSE_LOCAL_ENV: envFile,
      MY_SITE: 'https://birdhouse.example.org/',
      UNEXPORTED_BUT_ASSIGNED: 'yes',
    });
    expect(allSettings(c)).toMatchObject({
      composeDir: copy.composeDir,
      logDir: '/var/log/birdhouse',
      platformFrequency: '@every 10m',
      notebookTargetDir: '/srv/birdhouse-data/jupyterhub_user_data/tutorial-notebooks',
    });
    expect(c.jobs.find((j) => j.name === 'autodeploy')?.source).toEqual({ file: envFile, line: 5 });
    expect(c.warnings).toEqual([]);
    // compose is run with where env.local is, not with values read before a pull
    expect(c.composeEnv).toEqual({ BIRDHOUSE_LOCAL_ENV: envFile });
    // the notebook job reads env.local again, with the same reader
    expect(containerOf(c.jobs.find((j) => j.name === 'notebookdeploy'))?.volumes).toContain(`${copy.composeDir}:${copy.composeDir}:ro`);
  });

  it('applies the deprecated names as birdhouse does, and the environment over env.local', async () => {
    const envFile = await envLocal(['export PAVICS_LOG_DIR=/srv/pavics-logs', 'export AUTODEPLOY_LOG_KEEP=3']);
    const c = validConfig(await read(envFile, { AUTODEPLOY_LOG_KEEP: '4' }));
    expect(c.env['BIRDHOUSE_LOG_DIR']).toBe('/srv/pavics-logs');
    expect(c.settings.logDir).toBe('/srv/pavics-logs');
    // read_configs puts the caller's environment back over env.local (reset_process_env)
    expect(c.settings.logKeep).toBe(4);
  });

  it('warns of a $NAME only when birdhouse leaves it empty too', async () => {
    const envFile = await envLocal([
      'export FROM_BIRDHOUSE="$BIRDHOUSE_LOG_DIR/mine"',
      'export NOWHERE="$NOT_SET_ANYWHERE/x"',
    ]);
    const c = validConfig(await read(envFile));
    expect(c.env['FROM_BIRDHOUSE']).toBe('/var/log/birdhouse/mine');
    expect(c.warnings.map(formatIssue)).toEqual([
      `${envFile}:6: NOT_SET_ANYWHERE is not set (by an earlier line, a default.env or the environment): $NOT_SET_ANYWHERE in the value of NOWHERE is replaced by ""; set NOT_SET_ANYWHERE before this line, or write \${NOT_SET_ANYWHERE:-} if empty is meant`,
    ]);
  });

  it('reports what sh says of env.local at its line, through a symbolic link too', async () => {
    await mkdir(join(copy.root, '..', 'private-config'), { recursive: true });
    const real = await envLocal(['export AUTODEPLOY_LOG_KEEP=3', 'no_such_command_here'], 'private-config/env.local');
    const link = join(copy.root, '..', 'env.local.link');
    await rm(link, { force: true });
    await symlink(real, link);
    const result = await read(link);
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([`${link}:6: /bin/sh: no_such_command_here: not found`]);
  });

  it('reports a syntax error at its line', async () => {
    const envFile = await envLocal(['if [ -n "$X" ]; then', '  export Y=1']);
    const result = await read(envFile);
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([`${envFile}:7: /bin/sh: Syntax error: end of file unexpected (expecting "fi")`]);
  });

  it("names env.local and says what birdhouse's reader said when it fails", async () => {
    // birdhouse's reader in a directory without the rest of birdhouse: it refuses that COMPOSE_DIR
    const broken = join(copy.root, '..', 'broken-birdhouse');
    await mkdir(broken, { recursive: true });
    await symlink(join(copy.composeDir, 'read-configs.include.sh'), join(broken, 'read-configs.include.sh'));
    const envFile = await copy.writeEnvLocal([`export COMPOSE_DIR=${broken}`], 'broken.env.local');
    const result = await read(envFile);
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([
      `${envFile}: /bin/sh failed while evaluating the env files (exit code 2): ` +
        `CRITICAL: [${broken}/birdhouse-compose.sh] not found, please set variable 'COMPOSE_DIR' to a valid location. Many features depend on this variable.`,
    ]);
  });

  it('stops the reader at its deadline', async () => {
    const envFile = await envLocal(['sleep 20']);
    const started = Date.now();
    const result = await evaluateWithBirdhouse({ composeDir: copy.composeDir, envFile, baseEnv: base, assigned: [], timeoutMs: 1_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.issues.map(formatIssue)).toEqual([
      `${envFile}: /bin/sh did not finish evaluating the env files within 1s; remove slow or interactive commands`,
    ]);
  });

  it('runs only the configured COMPOSE_DIR\'s reader, and none when AUTODEPLOY_ENV_EVAL says which reader to use', async () => {
    // a reader beside env.local and in a directory that is not COMPOSE_DIR: never run
    const elsewhere = join(copy.root, '..', 'not-compose-dir');
    await mkdir(elsewhere, { recursive: true });
    const mark = join(elsewhere, 'was-run');
    const trap = `touch ${mark}\nread_configs() { export AUTODEPLOY_LOG_KEEP=99; }\n`;
    await writeFile(join(elsewhere, 'read-configs.include.sh'), trap);
    const envFile = await copy.writeEnvLocal([`export COMPOSE_DIR=${elsewhere}/../not-compose-dir/missing`, 'export AUTODEPLOY_LOG_KEEP=3'], 'elsewhere.env.local');
    await writeFile(join(copy.root, '..', 'read-configs.include.sh'), trap);
    expect(validConfig(await read(envFile)).settings.logKeep).toBe(3);
    expect(existsSync(mark)).toBe(false);

    const birdhouseEnv = await envLocal(['export AUTODEPLOY_LOG_KEEP=3']);
    const plain = validConfig(await read(birdhouseEnv, { AUTODEPLOY_ENV_EVAL: 'dotenv' }));
    expect(plain.env['BIRDHOUSE_DATA_PERSIST_SHARED_ROOT']).toBeUndefined();
    expect(plain.composeEnv).toEqual({ BIRDHOUSE_LOCAL_ENV: birdhouseEnv });
  });
});
