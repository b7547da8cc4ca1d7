import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shellEvalMode } from '../../src/config/eval-mode.js';
import { formatIssue } from '../../src/core/issues.js';
import { readConfig } from '../../src/config/read.js';
import { evaluateWithShell } from '../../src/config/shell-eval.js';
import { BUILTIN_JOB_KINDS } from '../../src/cli/job-kinds.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/env/${name}`, import.meta.url));
const DEFAULTS = fileURLToPath(new URL('../../config/default.env', import.meta.url));
const BASE = { HOME: '/home/op', PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

describe('evaluateWithShell (real /bin/sh)', () => {
  it('returns what the files set, with their shell logic applied', async () => {
    const result = await evaluateWithShell({ files: [DEFAULTS, fixture('shell-logic.env.local')], baseEnv: BASE });
    expect(result.issues).toEqual([]);
    expect(result.variables).toMatchObject({
      BASE_DIR: '/srv/platform',
      AUTODEPLOY_LOG_DIR: '/srv/platform/logs',
      AUTODEPLOY_EXTRA_REPOS: '/opt/a /opt/b ',
      GREETING: 'HELLO',
      AUTODEPLOY_JOB_HELLO_COMMAND: 'echo HELLO',
      // from default.env
      AUTODEPLOY_PLATFORM_FREQUENCY: '7 5 * * *',
    });
    // not set by the files: neither the base nor what the shell sets for itself
    expect(result.variables).not.toHaveProperty('HOME');
    expect(result.variables).not.toHaveProperty('PWD');
    expect(result.variables).not.toHaveProperty('SHLVL');
  });

  it('sees the base environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'autodeploy-sh-'));
    try {
      const file = join(dir, 'env.local');
      await writeFile(file, 'export AUTODEPLOY_STATE_DIR="$HOME/state"\nUNCHANGED="$HOME"\nHOME="$HOME"\n');
      const result = await evaluateWithShell({ files: [file], baseEnv: BASE });
      expect(result).toEqual({ variables: { AUTODEPLOY_STATE_DIR: '/home/op/state', UNCHANGED: '/home/op' }, issues: [] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports the errors sh names with their file and line', async () => {
    const file = fixture('command-not-found.env.local');
    const result = await evaluateWithShell({ files: [DEFAULTS, file], baseEnv: BASE });
    expect(result.issues.map(formatIssue)).toEqual([`${file}:3: /bin/sh: no_such_command_here: not found`]);
    expect(result.variables['AUTODEPLOY_LOG_KEEP']).toBe('3');
  });

  it('reports a syntax error at its line', async () => {
    const file = fixture('syntax-error.env.local');
    const result = await evaluateWithShell({ files: [DEFAULTS, file], baseEnv: BASE });
    expect(result.variables).toEqual({});
    expect(result.issues.map(formatIssue)).toEqual([`${file}:4: /bin/sh: Syntax error: end of file unexpected (expecting "fi")`]);
  });

  it('fails clearly when a file exits the shell', async () => {
    const file = fixture('exits.env.local');
    const result = await evaluateWithShell({ files: [DEFAULTS, file], baseEnv: BASE });
    expect(result).toEqual({
      variables: {},
      issues: [
        {
          file,
          line: undefined,
          message: '/bin/sh evaluated the env files but their variables could not be read back (does a file call exit?)',
        },
      ],
    });
  });

  it('stops a file that takes too long, with what it started', async () => {
    const file = fixture('slow.env.local');
    const started = Date.now();
    const result = await evaluateWithShell({ files: [file], baseEnv: BASE, timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.issues.map(formatIssue)).toEqual([
      `${file}: /bin/sh did not finish evaluating the env files within 0.5s; remove slow or interactive commands`,
    ]);
  });

  it('says so when the shell does not exist', async () => {
    const file = fixture('exits.env.local');
    const result = await evaluateWithShell({ files: [file], baseEnv: BASE, shell: '/nonexistent/sh' });
    expect(result.issues.map(formatIssue)).toEqual([
      `${file}: /nonexistent/sh is not available to evaluate the env files; unset AUTODEPLOY_ENV_EVAL`,
    ]);
  });
});

describe('shellEvalMode', () => {
  it('is off by default', () => {
    expect(shellEvalMode('A=1\n# autodeploy: eval=sh', {})).toEqual({ shell: false });
    expect(shellEvalMode(undefined, {})).toEqual({ shell: false });
  });

  it('is on with the marker as the first non-blank line of env.local', () => {
    expect(shellEvalMode('\n\n  # autodeploy: eval=sh\nA=1', {})).toEqual({ shell: true });
    expect(shellEvalMode('#autodeploy:eval=sh\n', {})).toEqual({ shell: true });
  });

  it('is on with AUTODEPLOY_ENV_EVAL=sh (either spelling) in the process environment', () => {
    expect(shellEvalMode('A=1', { AUTODEPLOY_ENV_EVAL: 'sh' })).toEqual({ shell: true });
    expect(shellEvalMode('A=1', { BIRDHOUSE_AUTODEPLOY_ENV_EVAL: 'sh' })).toEqual({ shell: true });
    expect(shellEvalMode('A=1', { AUTODEPLOY_ENV_EVAL: 'dotenv' })).toEqual({ shell: false });
  });

  it('refuses a value it does not understand', () => {
    expect(shellEvalMode('A=1', { AUTODEPLOY_ENV_EVAL: 'bash' })).toEqual({
      issue: {
        file: 'process environment',
        line: undefined,
        key: 'AUTODEPLOY_ENV_EVAL',
        message: 'AUTODEPLOY_ENV_EVAL="bash" is not understood: use sh to have /bin/sh evaluate env.local, or leave it empty',
      },
    });
  });
});

describe('readConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autodeploy-read-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads default.env and env.local without a shell', async () => {
    const envFile = fixture('operator.env.local');
    const result = await readConfig({ builtins: BUILTIN_JOB_KINDS,  envFile, defaultsFile: DEFAULTS, processEnv: BASE });
    if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
    expect(result.config.settings).toMatchObject({ composeDir: '/home/op/birdhouse-deploy/birdhouse', timezone: 'America/Montreal', logKeep: 20 });
    expect(result.config.env['AUTODEPLOY_EXTRA_REPOS']).toBe('/opt/private-config');
    // the built-in autodeploy job comes first, defined where env.local sets AUTODEPLOY_PLATFORM_FREQUENCY
    expect(result.config.jobs.map((j) => [j.name, j.source])).toEqual([
      ['autodeploy', { file: envFile, line: 7 }],
      ['clean_logs', { file: envFile, line: 12 }],
    ]);
    expect(result.config.secrets).toEqual(['s3cr3t$pass']);
    expect(result.config.files).toEqual([DEFAULTS, envFile]);
  });

  it('evaluates with /bin/sh when env.local asks for it', async () => {
    const envFile = fixture('shell-logic.env.local');
    const result = await readConfig({ builtins: BUILTIN_JOB_KINDS,  envFile, defaultsFile: DEFAULTS, processEnv: BASE });
    if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
    expect(result.config.settings.logDir).toBe('/srv/platform/logs');
    expect(result.config.jobs).toMatchObject([
      {
        name: 'hello',
        schedule: { kind: 'every', intervalMs: 300_000 },
        container: { image: 'busybox', command: ['echo', 'HELLO'] },
        source: { file: envFile, line: 12 },
      },
    ]);
  });

  it('evaluates with /bin/sh when the process environment asks for it', async () => {
    const envFile = join(dir, 'env.local');
    await writeFile(envFile, 'export AUTODEPLOY_LOG_KEEP=$(( 2 + 3 ))\n');
    const result = await readConfig({ builtins: BUILTIN_JOB_KINDS,  envFile, defaultsFile: DEFAULTS, processEnv: { ...BASE, AUTODEPLOY_ENV_EVAL: 'sh' } });
    if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
    expect(result.config.settings.logKeep).toBe(5);
    const plain = await readConfig({ builtins: BUILTIN_JOB_KINDS,  envFile, defaultsFile: DEFAULTS, processEnv: BASE });
    expect(plain.ok ? [] : plain.issues.map(formatIssue)).toEqual([
      `${envFile}:1: arithmetic expansion $((...)) is not supported in env.local; put the literal value, or set AUTODEPLOY_ENV_EVAL=sh to have /bin/sh evaluate env.local`,
    ]);
  });

  it('refuses the configuration when sh reports an error', async () => {
    const envFile = join(dir, 'env.local');
    await writeFile(envFile, '# autodeploy: eval=sh\nexport AUTODEPLOY_LOG_KEEP=4\nnot_a_command_at_all\n');
    const result = await readConfig({ builtins: BUILTIN_JOB_KINDS,  envFile, defaultsFile: DEFAULTS, processEnv: BASE });
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([`${envFile}:3: /bin/sh: not_a_command_at_all: not found`]);
  });

  it('names a missing env.local and says how to create it', async () => {
    const envFile = join(dir, 'env.local');
    const result = await readConfig({ builtins: BUILTIN_JOB_KINDS,  envFile, defaultsFile: DEFAULTS, processEnv: BASE });
    expect(result).toEqual({
      ok: false,
      issues: [{ file: envFile, line: undefined, message: `${envFile} does not exist; create it from env.local.example` }],
      warnings: [],
    });
  });

  it('names a missing defaults file', async () => {
    const defaultsFile = join(dir, 'default.env');
    const result = await readConfig({ builtins: BUILTIN_JOB_KINDS,  envFile: fixture('operator.env.local'), defaultsFile, processEnv: BASE });
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([
      `${defaultsFile}: the defaults file is missing; it ships with the scheduler (config/default.env)`,
    ]);
  });
});
