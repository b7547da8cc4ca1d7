// Running the platform's compose command. The only place compose is run:
// v1 (`docker-compose`), v2 (`docker compose`) or a platform wrapper such as
// birdhouse-deploy's pavics-compose.sh are all just an argv prefix here.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseDotEnv } from 'dotenv';
import { splitWords } from '../core/shell-words.js';
import type { ComposeContainers } from '../core/ports.js';
import { parseComposeConfig } from '../core/compose-services.js';
import { signalGroup } from '../process/group.js';

export type ComposeCommandSource = 'setting' | 'pavics-compose.sh' | 'birdhouse-compose.sh' | 'docker compose' | 'docker-compose';

export interface ComposeCommand {
  /** the program and the arguments that come before compose's own, e.g. `["docker", "compose"]` */
  readonly argv: readonly string[];
  /** why this command: the setting, a wrapper found in COMPOSE_DIR, or the compose found on this host */
  readonly source: ComposeCommandSource;
}

export interface ResolveComposeOptions {
  /** AUTODEPLOY_COMPOSE: a command, possibly with arguments, split as sh would; empty or unset: look for one */
  readonly setting?: string | undefined;
  readonly composeDir: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** The compose command setting cannot be used as it is written. */
export class ComposeSettingError extends Error {
  readonly setting: string;
  constructor(setting: string, problem: string) {
    super(`AUTODEPLOY_COMPOSE="${setting}" ${problem}`);
    this.name = 'ComposeSettingError';
    this.setting = setting;
  }
}

// The wrapper scripts of birdhouse-deploy: they read env.local and add every
// component's compose file; running compose without them would deploy a different stack.
// https://github.com/bird-house/birdhouse-deploy/blob/master/birdhouse/deployment/deploy.sh
export async function resolveComposeCommand(options: ResolveComposeOptions): Promise<ComposeCommand> {
  const setting = options.setting?.trim() ?? '';
  if (setting !== '') {
    const split = splitWords(setting);
    if (!split.ok) throw new ComposeSettingError(setting, split.problem);
    if (split.words.length === 0) throw new ComposeSettingError(setting, 'is empty');
    return { argv: split.words, source: 'setting' };
  }
  const pavics = join(options.composeDir, 'pavics-compose.sh');
  if (await isExecutableFile(pavics)) return { argv: [pavics], source: 'pavics-compose.sh' };
  const birdhouse = join(options.composeDir, 'birdhouse-compose.sh');
  if (await isExecutableFile(birdhouse)) return { argv: [birdhouse], source: 'birdhouse-compose.sh' };
  // A checkout that lost its mode bits still holds a good script.
  if (await isFile(birdhouse)) return { argv: ['sh', birdhouse], source: 'birdhouse-compose.sh' };
  if (await dockerComposeV2Works(options.env ?? process.env)) return { argv: ['docker', 'compose'], source: 'docker compose' };
  return { argv: ['docker-compose'], source: 'docker-compose' };
}

async function isExecutableFile(path: string): Promise<boolean> {
  if (!(await isFile(path))) return false;
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function dockerComposeV2Works(env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('docker', ['compose', 'version'], { env, stdio: 'ignore', timeout: 15_000 });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}

export interface ComposeRunOptions {
  /** COMPOSE_DIR */
  readonly cwd: string;
  /** the environment compose sees; default: this process's */
  readonly env?: NodeJS.ProcessEnv;
  /** stop compose (SIGTERM, then SIGKILL) after this long; default: no limit */
  readonly timeoutMs?: number;
  /** each line of output as it comes, for the deploy log */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface ComposeResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** A compose command that could not start, failed, or ran out of time. */
export class ComposeError extends Error {
  /** the whole argv that was run */
  readonly command: readonly string[];
  readonly cwd: string;
  /** undefined when the command did not start or was killed by a signal */
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  /** the last lines compose wrote to stderr */
  readonly stderrTail: string;
  constructor(init: {
    command: readonly string[];
    cwd: string;
    exitCode: number | undefined;
    signal: string | undefined;
    timedOut: boolean;
    timeoutMs?: number | undefined;
    stderrTail: string;
    cause?: unknown;
  }) {
    const shown = init.command.join(' ');
    const tail = init.stderrTail === '' ? '' : `: ${init.stderrTail.split('\n').filter((l) => l.trim() !== '').slice(-3).join(' | ')}`;
    let what: string;
    if (init.timedOut) what = `did not finish within ${seconds(init.timeoutMs ?? 0)} and was stopped`;
    else if (init.cause !== undefined) what = `could not be run (${(init.cause as Error).message ?? String(init.cause)})`;
    else if (init.signal !== undefined) what = `was killed by ${init.signal}`;
    else what = `exited with code ${init.exitCode}`;
    super(`compose command "${shown}" in ${init.cwd} ${what}${tail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ComposeError';
    this.command = init.command;
    this.cwd = init.cwd;
    this.exitCode = init.exitCode;
    this.signal = init.signal;
    this.timedOut = init.timedOut;
    this.stderrTail = init.stderrTail;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

const STDERR_TAIL_LINES = 20;
const KILL_GRACE_MS = 10_000;

/** Runs `<cmd> <args>`; resolves on exit code 0, throws ComposeError otherwise. */
export function composeRun(cmd: ComposeCommand, args: readonly string[], options: ComposeRunOptions): Promise<ComposeResult> {
  const [program, ...prefix] = cmd.argv;
  const command = [...cmd.argv, ...args];
  if (program === undefined) return Promise.reject(new ComposeSettingError('', 'is empty'));
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      // Own process group: a wrapper script's compose child is stopped with it on a timeout.
      child = spawn(program, [...prefix, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (error) {
      reject(new ComposeError({ command, cwd: options.cwd, exitCode: undefined, signal: undefined, timedOut: false, stderrTail: '', cause: error }));
      return;
    }
    const stdout: string[] = [];
    const stderr: string[] = [];
    const splitStdout = lineSplitter((line) => options.onLine?.(line, 'stdout'));
    const splitStderr = lineSplitter((line) => options.onLine?.(line, 'stderr'));
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      stdout.push(text);
      splitStdout.push(text);
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr.push(text);
      splitStderr.push(text);
    });

    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    // Only while compose runs: once it has exited, its group is left alone.
    const signal = (name: NodeJS.Signals): void => {
      if (child.exitCode === null && child.signalCode === null) signalGroup(child, name);
    };
    const stop = (): void => {
      signal('SIGTERM');
      killTimer = setTimeout(() => signal('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs);

    let startError: unknown;
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (killTimer !== undefined) clearTimeout(killTimer);
      splitStdout.end();
      splitStderr.end();
      const errText = stderr.join('');
      if (startError === undefined && code === 0 && !timedOut) {
        resolve({ exitCode: 0, stdout: stdout.join(''), stderr: errText, durationMs: Date.now() - startedAt });
        return;
      }
      reject(
        new ComposeError({
          command,
          cwd: options.cwd,
          exitCode: code ?? undefined,
          signal: signal ?? undefined,
          timedOut,
          timeoutMs: options.timeoutMs,
          stderrTail: errText.split('\n').slice(-STDERR_TAIL_LINES - 1).join('\n').trim(),
          ...(startError !== undefined ? { cause: startError } : {}),
        }),
      );
    };
    child.once('error', (error) => {
      startError = error;
      // Never started (no such program): there will be no exit to wait for.
      if (child.pid === undefined) finish(null, null);
    });
    child.once('close', finish);
  });
}

/** Splits streamed text into lines; a carriage return (progress redraw) ends a line too. */
function lineSplitter(emit: (line: string) => void): { push(text: string): void; end(): void } {
  let partial = '';
  return {
    push(text) {
      const pieces = (partial + text).split(/\r\n|\n|\r/);
      partial = pieces.pop() ?? '';
      for (const piece of pieces) if (piece.trim() !== '') emit(piece);
    },
    end() {
      if (partial.trim() !== '') emit(partial);
      partial = '';
    },
  };
}

/** `up -d --remove-orphans`: creates what is missing, recreates what changed. */
export function composeUp(cmd: ComposeCommand, options: ComposeRunOptions): Promise<ComposeResult> {
  return composeRun(cmd, ['up', '-d', '--remove-orphans'], options);
}

export interface StopOptions extends ComposeRunOptions {
  /** seconds a container gets between SIGTERM and SIGKILL; default: compose's (10) */
  readonly graceSeconds?: number;
}

/** `stop`: every service of the project. */
export function composeStop(cmd: ComposeCommand, options: StopOptions): Promise<ComposeResult> {
  return composeRun(cmd, ['stop', ...graceArgs(options)], options);
}

/**
 * `restart <services>`. With no service it does nothing: compose itself would
 * restart the whole project.
 */
export async function composeRestart(cmd: ComposeCommand, services: readonly string[], options: StopOptions): Promise<ComposeResult | undefined> {
  if (services.length === 0) return undefined;
  return composeRun(cmd, ['restart', ...graceArgs(options), ...services], options);
}

function graceArgs(options: StopOptions): string[] {
  return options.graceSeconds === undefined ? [] : ['--timeout', String(options.graceSeconds)];
}

/** The resolved configuration (`config`): every file merged, variables substituted, relative paths made absolute. */
export async function composeConfig(cmd: ComposeCommand, options: ComposeRunOptions): Promise<string> {
  return (await composeRun(cmd, ['config'], options)).stdout;
}

/** `ps -q [service]`: ids of the project's running containers (a wrapper's log lines are left out). */
export async function composeContainerIds(cmd: ComposeCommand, options: ComposeRunOptions & { readonly service?: string }): Promise<string[]> {
  const args = options.service === undefined ? ['ps', '-q'] : ['ps', '-q', options.service];
  const { stdout } = await composeRun(cmd, args, options);
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[0-9a-f]{12,64}$/.test(line));
}

export type ProjectNameSource = 'config' | 'containers' | 'environment' | 'env-file' | 'directory';

export interface ProjectName {
  readonly name: string;
  readonly source: ProjectNameSource;
}

export interface ProjectNameOptions extends ComposeRunOptions {
  /** output of `composeConfig`, when the caller has it already */
  readonly configText?: string;
  /** asks the engine which project a running container belongs to */
  readonly containers?: Pick<ComposeContainers, 'projectOf'>;
}

/**
 * The compose project name, as compose itself decides it
 * (https://docs.docker.com/compose/how-tos/project-name/):
 * v2 prints it as `name:` in `config`. v1 does not, and a wrapper may pass `-p`,
 * so the next best answer is the label on one of the project's containers; then
 * COMPOSE_PROJECT_NAME from the environment or the project's `.env`, then the
 * directory's name, normalised as v1 does.
 */
export async function composeProjectName(cmd: ComposeCommand, options: ProjectNameOptions): Promise<ProjectName> {
  const configText = options.configText ?? (await composeConfig(cmd, options));
  const fromConfig = parseComposeConfig(configText).projectName;
  if (fromConfig !== undefined) return { name: fromConfig, source: 'config' };

  if (options.containers !== undefined) {
    for (const id of await composeContainerIds(cmd, options)) {
      const project = await options.containers.projectOf(id);
      if (project !== undefined) return { name: project, source: 'containers' };
    }
  }

  const env = options.env ?? process.env;
  const fromEnv = env['COMPOSE_PROJECT_NAME']?.trim();
  if (fromEnv) return { name: normalizeProjectName(fromEnv), source: 'environment' };
  const fromFile = await dotEnvValue(join(options.cwd, '.env'), 'COMPOSE_PROJECT_NAME');
  if (fromFile) return { name: normalizeProjectName(fromFile), source: 'env-file' };
  return { name: normalizeProjectName(basename(options.cwd)) || 'default', source: 'directory' };
}

/** docker-compose v1: lower case, then only `a-z 0-9 - _` are kept. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^-_a-z0-9]/g, '');
}

/** A value from compose's `.env` file; undefined when the file or the key is absent. */
async function dotEnvValue(path: string, key: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseDotEnv(text)[key];
}
