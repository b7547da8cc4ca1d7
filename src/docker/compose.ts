// Running the platform's compose command. The only place compose is run:
// v1 (`docker-compose`), v2 (`docker compose`) or a platform wrapper such as
// birdhouse-deploy's pavics-compose.sh are all just an argv prefix here.

import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseDotEnv } from 'dotenv';
import { splitWords } from '../core/shell-words.js';
import type { ComposeContainers } from '../core/ports.js';
import { parseComposeConfig } from '../core/compose-services.js';
import { ProcessError, runProcess, type ProcessErrorInit } from '../process/run.js';

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

async function dockerComposeV2Works(env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    await runProcess({ argv: ['docker', 'compose', 'version'], env, timeoutMs: 15_000, maxOutputBytes: 64 * 1024 });
    return true;
  } catch {
    // Not there, not v2, or hung: the next candidate is tried.
    return false;
  }
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
export class ComposeError extends ProcessError {
  constructor(init: Omit<ProcessErrorInit, 'label'>) {
    super({ ...init, label: 'compose command' });
    this.name = 'ComposeError';
  }

  /** The runner's error, told as compose's: same data, same cause. */
  static from(error: ProcessError): ComposeError {
    return new ComposeError(ProcessError.dataOf(error));
  }
}

const KILL_GRACE_MS = 10_000;

/** Runs `<cmd> <args>`; resolves on exit code 0, throws ComposeError otherwise. */
export async function composeRun(cmd: ComposeCommand, args: readonly string[], options: ComposeRunOptions): Promise<ComposeResult> {
  if (cmd.argv.length === 0) throw new ComposeSettingError('', 'is empty');
  try {
    const result = await runProcess({
      argv: [...cmd.argv, ...args],
      cwd: options.cwd,
      env: options.env ?? process.env,
      timeoutMs: options.timeoutMs,
      onLine: options.onLine,
      // A wrapper script's compose child is stopped with it on a timeout.
      stopGroup: true,
      graceMs: KILL_GRACE_MS,
    });
    return { exitCode: 0, stdout: result.stdout, stderr: result.stderr, durationMs: result.durationMs };
  } catch (error) {
    throw error instanceof ProcessError ? ComposeError.from(error) : error;
  }
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
  /** where COMPOSE_PROJECT_NAME is looked up, when not in the environment compose runs with (a wrapper reads env.local itself) */
  readonly platformEnv?: Readonly<Record<string, string | undefined>>;
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
  const fromEnv = (env['COMPOSE_PROJECT_NAME'] ?? options.platformEnv?.['COMPOSE_PROJECT_NAME'])?.trim();
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
