import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PACKAGE_ROOT } from './version.js';

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Wrong words on the command line: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What a command gets: its arguments and the world it may touch, so tests can call it directly. */
export interface CommandContext {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(context: CommandContext): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util's parseArgs in strict mode, with its errors turned into UsageErrors. */
export function parseCommandArgs<T extends Options>(argv: readonly string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export const ENV_FILE_OPTION = { 'env-file': { type: 'string' } } as const;

/**
 * `--env-file`, else AUTODEPLOY_ENV_FILE, else BIRDHOUSE_LOCAL_ENV, else `$COMPOSE_DIR/env.local`;
 * an empty variable counts as unset.
 *
 * BIRDHOUSE_LOCAL_ENV is birdhouse-deploy's name for env.local
 * (discover_env_local in birdhouse/read-configs.include.sh); a relative one is read from
 * COMPOSE_DIR, where birdhouse's scripts resolve it.
 */
export function resolveEnvFile(flag: string | undefined, env: CommandContext['env']): string {
  const given = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const composeDir = given('COMPOSE_DIR');
  const birdhouse = given('BIRDHOUSE_LOCAL_ENV');
  const file =
    flag ??
    given('AUTODEPLOY_ENV_FILE') ??
    given('BIRDHOUSE_AUTODEPLOY_ENV_FILE') ??
    (birdhouse === undefined ? undefined : resolve(composeDir ?? '.', birdhouse)) ??
    (composeDir === undefined ? undefined : join(composeDir, 'env.local'));
  if (file === undefined) {
    throw new UsageError('no env.local to read: pass --env-file FILE, or set AUTODEPLOY_ENV_FILE, BIRDHOUSE_LOCAL_ENV or COMPOSE_DIR');
  }
  return file;
}

export function defaultsFile(env: CommandContext['env']): string {
  return env['AUTODEPLOY_DEFAULTS_FILE'] ?? join(PACKAGE_ROOT, 'config', 'default.env');
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

