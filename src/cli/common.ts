import { join } from 'node:path';
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

/** `--env-file`, else AUTODEPLOY_ENV_FILE, else `$COMPOSE_DIR/env.local`. */
export function resolveEnvFile(flag: string | undefined, env: CommandContext['env']): string {
  const file = flag ?? env['AUTODEPLOY_ENV_FILE'] ?? (env['COMPOSE_DIR'] ? join(env['COMPOSE_DIR'], 'env.local') : undefined);
  if (file === undefined) {
    throw new UsageError('no env.local to read: pass --env-file FILE, or set AUTODEPLOY_ENV_FILE or COMPOSE_DIR');
  }
  return file;
}

export function defaultsFile(env: CommandContext['env']): string {
  return env['AUTODEPLOY_DEFAULTS_FILE'] ?? join(PACKAGE_ROOT, 'config', 'default.env');
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

