// A birdhouse-deploy checkout reads its configuration with its own shell functions:
// read_configs in birdhouse/read-configs.include.sh reads birdhouse's default.env, env.local,
// every component's default.env, env.local again, puts the caller's environment back over
// them, applies the deprecated names, then expands DELAYED_EVAL. No parser of env files
// computes what that does, so on such a checkout the values are taken from that reader, run by
// /bin/sh as the platform's compose wrapper runs it.
// https://github.com/bird-house/birdhouse-deploy/blob/master/birdhouse/read-configs.include.sh

import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { quote } from 'shell-quote';
import { parseEnvFile } from './env-file.js';
import { defined, type EnvFileText } from './load.js';
import { evaluateWithShell, type ShellEvalResult } from './shell-eval.js';

/** The script of a birdhouse-deploy compose directory that defines read_configs. */
export const BIRDHOUSE_READER = 'read-configs.include.sh';

/** read_configs starts a few hundred processes (grep, sed, subshells): seconds, not milliseconds. */
export const BIRDHOUSE_EVAL_TIMEOUT_MS = 30_000;

/**
 * COMPOSE_DIR as the files set it over the process environment, when it holds birdhouse's
 * reader. Only that directory's script is ever run: none found elsewhere (beside env.local, in
 * the working directory) is.
 */
export function birdhouseReaderDir(files: readonly EnvFileText[], processEnv: Readonly<Record<string, string | undefined>>): string | undefined {
  const env = defined(processEnv);
  // Lines this reader cannot parse are skipped: COMPOSE_DIR is then the process environment's.
  for (const file of files) for (const a of parseEnvFile(file.text, file.path, env).assignments) env[a.key] = a.value;
  const dir = env['COMPOSE_DIR']?.trim();
  if (dir === undefined || !isAbsolute(dir)) return undefined;
  return existsSync(join(dir, BIRDHOUSE_READER)) ? dir : undefined;
}

export interface BirdhouseEvalOptions {
  /** COMPOSE_DIR, holding read-configs.include.sh */
  readonly composeDir: string;
  /** env.local as configured: read_configs is told this path in BIRDHOUSE_LOCAL_ENV */
  readonly envFile: string;
  /** where env.local really is, when links lead there: read_configs resolves them, and sh names that path in its errors */
  readonly envFileTarget?: string | undefined;
  /** the environment the shell starts from (the caller's, which read_configs puts back over the files) */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** the variables env.local assigns: their final values are returned even when the environment already had them */
  readonly assigned: readonly string[];
  readonly timeoutMs?: number;
  readonly shell?: string;
}

/**
 * Runs read_configs from `composeDir` on `envFile` and returns the variables it leaves (those it
 * set or changed, and the ones env.local assigns), exported or not; errors sh names in env.local
 * are issues at their line, a failure of the reader is an issue naming env.local.
 */
export async function evaluateWithBirdhouse(options: BirdhouseEvalOptions): Promise<ShellEvalResult> {
  const dir = quote([options.composeDir]);
  const reader = quote([join(options.composeDir, BIRDHOUSE_READER)]);
  const commands = [
    // As birdhouse-compose.sh does: relative paths (BIRDHOUSE_EXTRA_CONF_DIRS) start from COMPOSE_DIR.
    `cd ${dir} || exit 1`,
    `COMPOSE_DIR=${dir}; export COMPOSE_DIR`,
    `BIRDHOUSE_LOCAL_ENV=${quote([options.envFile])}; export BIRDHOUSE_LOCAL_ENV`,
    // Only errors on stderr, and no terminal codes (tput). Left unexported: read_configs puts the
    // caller's exported variables back over env.local's, and these are not the caller's.
    '[ -n "${BIRDHOUSE_LOG_LEVEL+set}" ] || BIRDHOUSE_LOG_LEVEL=ERROR',
    '[ -n "${BIRDHOUSE_COLOR+set}" ] || BIRDHOUSE_COLOR=0',
    `. ${reader} || exit $?`,
    // Its exit handler (scripts/error-handling.include.sh) adds a line of its own to every
    // failure; sh's own message, at its line, is the one to report.
    'trap - EXIT',
    `command -v read_configs >/dev/null || { printf '%s defines no read_configs function\\n' ${reader} >&2; exit 3; }`,
    'read_configs',
  ].join('\n');
  const files = [...(options.envFileTarget === undefined ? [] : [options.envFileTarget]), options.envFile];
  const result = await evaluateWithShell({
    files,
    baseEnv: options.baseEnv,
    commands,
    keep: options.assigned,
    timeoutMs: options.timeoutMs ?? BIRDHOUSE_EVAL_TIMEOUT_MS,
    ...(options.shell === undefined ? {} : { shell: options.shell }),
  });
  // The operator knows env.local by the path they configured, not by where its links lead; and
  // read_configs reads env.local twice, so sh says the same thing twice.
  const seen = new Set<string>();
  const issues = result.issues
    .map((issue) => (issue.file === options.envFileTarget ? { ...issue, file: options.envFile } : issue))
    .filter((issue) => {
      const key = `${issue.file}\0${issue.line ?? ''}\0${issue.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  return { variables: result.variables, issues };
}
