import { existsSync } from 'node:fs';
import { constants } from 'node:fs';
import { access, lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BuiltinJobKind, Platform, SchedulerContext } from './builtin-job.js';
import { birdhouseReaderDir, evaluateWithBirdhouse } from './birdhouse-eval.js';
import { parseEnvFile } from './env-file.js';
import { evalSetting, shellEvalMode } from './eval-mode.js';
import type { JobFileText } from './jobs.js';
import type { ConfigIssue } from '../core/issues.js';
import { defined, loadConfig, type Config, type EnvFileText, type LoadInput, type LoadResult } from './load.js';
import { evaluateWithShell } from './shell-eval.js';

export interface ReadConfigOptions {
  /** the operator's env.local */
  readonly envFile: string;
  /** the scheduler's config/default.env */
  readonly defaultsFile: string;
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  /** the built-in job kinds to build from the settings */
  readonly builtins: readonly BuiltinJobKind[];
  /** what the running scheduler knows of itself */
  readonly context?: SchedulerContext;
}

/**
 * COMPOSE_DIR is the checkout itself, or a directory inside it: birdhouse-deploy's compose
 * directory is `<checkout>/birdhouse`. The deploy container needs the whole checkout.
 */
export function checkoutRootOf(composeDir: string): string {
  for (let dir = composeDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return composeDir;
  }
}

/** birdhouse-deploy 2.x ships birdhouse-compose.sh in COMPOSE_DIR; PAVICS 1.x only pavics-compose.sh. */
export function platformOf(composeDir: string): Platform {
  return existsSync(join(composeDir, 'birdhouse-compose.sh')) ? 'birdhouse' : 'pavics';
}

const JOB_FILE = /\.(ya?ml|json)$/i;

/**
 * The job files of a directory, in name order: `*.yml`, `*.yaml`, `*.json`. A missing directory
 * holds none (birdhouse mounts it only when a job component is enabled); a file that cannot be
 * read is a problem of that file alone.
 */
export async function readJobFiles(dir: string): Promise<{ files: JobFileText[]; issues: ConfigIssue[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => JOB_FILE.test(name) && !name.startsWith('.')).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { files: [], issues: [] };
    return { files: [], issues: [{ file: dir, line: undefined, message: `the job files directory cannot be read (${code ?? (error as Error).message}); check AUTODEPLOY_JOBS_DIR and its permissions` }] };
  }
  const files: JobFileText[] = [];
  const issues: ConfigIssue[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const read = await readText(path, `${path} disappeared while it was read`);
    if ('text' in read) files.push({ path, text: read.text });
    else issues.push(read.issue);
  }
  return { files, issues };
}

/** The job files of a directory as one text, names and contents: what a watch compares. */
export async function jobFilesSignature(dir: string): Promise<string> {
  const { files, issues } = await readJobFiles(dir);
  return JSON.stringify([files, issues.map((i) => i.message)]);
}

async function readText(path: string, missing: string): Promise<{ text: string } | { issue: ConfigIssue }> {
  try {
    // Through a symbolic link, as sh's `.` reads it: birdhouse-deploy recommends env.local be a
    // link into a private config checkout (discover_env_local in read-configs.include.sh).
    return { text: await readFile(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? await whyMissing(path, missing) : `cannot be read (${code ?? (error as Error).message}); check its permissions`;
    return { issue: { file: path, line: undefined, message } };
  }
}

/**
 * Why a file cannot be found. A symbolic link whose target is gone, or a file whose directory is
 * not there, is usually a missing mount in a container, not a missing file.
 */
async function whyMissing(path: string, missing: string): Promise<string> {
  const link = await lstat(path).then(
    async (stats) => (stats.isSymbolicLink() ? readlink(path) : undefined),
    () => undefined,
  );
  if (link !== undefined) {
    return (
      `${path} is a symbolic link to ${link}, which does not exist here; ` +
      `restore it, or, in a container, mount the directory it is in (${dirname(resolve(dirname(path), link))}) at the same path`
    );
  }
  if (!existsSync(dirname(path))) {
    return `${path} does not exist, nor does its directory ${dirname(path)}; in a container, mount that directory at the same path`;
  }
  return missing;
}

/** Where a file really is when it is reached through symbolic links; undefined when it is not. */
async function linkTarget(path: string): Promise<string | undefined> {
  const real = await realpath(path).catch(() => undefined);
  return real === undefined || real === resolve(path) ? undefined : real;
}

/**
 * Reads default.env and env.local and loads the configuration from them: with this project's
 * reader, with /bin/sh when asked to (AUTODEPLOY_ENV_EVAL=sh, or the marker line), or, in a
 * birdhouse-deploy checkout, with birdhouse's own reader.
 */
export async function readConfig(options: ReadConfigOptions): Promise<LoadResult> {
  const result = await readConfigFiles(options);
  if (!result.ok) return result;
  const found = await checkOnDisk(result.config);
  if (found.issues.length > 0) return { ok: false, issues: found.issues, warnings: [...result.config.warnings, ...found.warnings], secrets: result.config.secrets };
  return found.warnings.length === 0 ? result : { ok: true, config: { ...result.config, warnings: [...result.config.warnings, ...found.warnings] } };
}

/**
 * What only the disk can say of the settings, said at load rather than when a run fails: the
 * log and state directories are directories and writable (when they exist yet), no checkout is
 * listed twice (links resolved), and the deploy-key directory exists. A file in place of either
 * directory and a checkout listed twice refuse the configuration; the others are warnings at
 * their line.
 */
async function checkOnDisk(config: Config): Promise<{ issues: ConfigIssue[]; warnings: ConfigIssue[] }> {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const at = (name: string): { file: string; line: number | undefined } => config.sources[name] ?? { file: config.files.at(-1) ?? '', line: undefined };
  const { settings } = config;
  for (const [name, dir] of [['AUTODEPLOY_LOG_DIR', settings.logDir], ['AUTODEPLOY_STATE_DIR', settings.stateDir]] as const) {
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined) continue;
    // A file where the directory should be is a mistake in the configuration: refused.
    if (!info.isDirectory()) issues.push({ ...at(name), key: name, message: `${name}: ${dir} is not a directory; name a directory (it is created when missing)` });
    // Warned, not refused: a directory the kernel remounted read-only after a disk error must
    // not stop every job at the next start; the scheduler runs them through it, and counts the
    // lines and records it could not write.
    else if (!(await access(dir, constants.W_OK).then(() => true, () => false))) {
      warnings.push({ ...at(name), key: name, message: `${name}: ${dir} cannot be written to by this scheduler; give it write access, or name another directory` });
    }
  }
  if (settings.composeDir !== undefined) {
    const seen = new Map<string, string>();
    for (const path of [checkoutRootOf(settings.composeDir), ...settings.extraRepos]) {
      const real = await realpath(path).catch(() => resolve(path));
      const earlier = seen.get(real);
      if (earlier === undefined) {
        seen.set(real, path);
        continue;
      }
      const name = 'AUTODEPLOY_EXTRA_REPOS';
      const how = earlier === path ? 'twice' : `twice (${earlier} and ${path} are the same directory)`;
      issues.push({ ...at(name), key: name, message: `${name} lists the checkout ${real} ${how}; list each checkout once` });
    }
  }
  const keys = settings.deployKeyRootDir;
  if (keys !== undefined && !(await stat(keys).then((i) => i.isDirectory(), () => false))) {
    const name = 'AUTODEPLOY_DEPLOY_KEY_ROOT_DIR';
    warnings.push({ ...at(name), key: name, message: `${name}: ${keys} is not a directory here, so no checkout gets a deploy key from it; create it, or mount it into the scheduler` });
  }
  return { issues, warnings };
}

async function readConfigFiles(options: ReadConfigOptions): Promise<LoadResult> {
  const [defaults, local] = await Promise.all([
    readText(options.defaultsFile, 'the defaults file is missing; it ships with the scheduler (config/default.env)'),
    readText(options.envFile, `${options.envFile} does not exist; create it from env.local.example`),
  ]);
  const issues: ConfigIssue[] = [];
  if ('issue' in defaults) issues.push(defaults.issue);
  if ('issue' in local) issues.push(local.issue);
  if ('issue' in defaults || 'issue' in local) return { ok: false, issues, warnings: [] };

  const files: EnvFileText[] = [
    { path: options.defaultsFile, text: defaults.text },
    { path: options.envFile, text: local.text },
  ];
  const mode = shellEvalMode(local.text, options.processEnv);
  if ('issue' in mode) return { ok: false, issues: [mode.issue], warnings: [] };
  const envFileTarget = await linkTarget(options.envFile);
  const common: LoadInput = {
    files,
    processEnv: options.processEnv,
    checkoutRootOf,
    platformOf,
    builtins: options.builtins,
    ...(options.context ? { context: options.context } : {}),
    ...(envFileTarget === undefined ? {} : { envFileTarget }),
  };
  let input: LoadInput = common;
  // Unless the environment says which reader to use, a birdhouse-deploy checkout's own reader
  // computes the values, the platform's way, shell logic and all.
  const readerDir = evalSetting(options.processEnv).setting === '' ? birdhouseReaderDir(files, options.processEnv) : undefined;
  if (readerDir !== undefined) {
    const assigned = [...new Set(parseEnvFile(local.text, options.envFile, {}).assignments.map((a) => a.key))];
    const evaluated = await evaluateWithBirdhouse({ composeDir: readerDir, envFile: options.envFile, envFileTarget, baseEnv: options.processEnv, assigned });
    if (evaluated.issues.length > 0) return { ok: false, issues: evaluated.issues, warnings: [] };
    // The scheduler's own defaults are not birdhouse's: they stand under what birdhouse computed,
    // as they stand under env.local otherwise.
    const defaultValues: Record<string, string> = {};
    for (const a of parseEnvFile(defaults.text, options.defaultsFile, defined(options.processEnv)).assignments) defaultValues[a.key] = a.value;
    input = { ...common, evaluated: { ...defaultValues, ...evaluated.variables }, platformReaderDir: readerDir };
  } else if (mode.shell) {
    const evaluated = await evaluateWithShell({ files: files.map((f) => f.path), baseEnv: options.processEnv });
    if (evaluated.issues.length > 0) return { ok: false, issues: evaluated.issues, warnings: [] };
    input = { ...common, evaluated: evaluated.variables };
  }
  // The job files' directory is a setting: the settings come first, then the files they name.
  const first = loadConfig(input);
  if (!first.ok) return first;
  const jobFiles = await readJobFiles(first.config.settings.jobsDir);
  if (jobFiles.files.length === 0 && jobFiles.issues.length === 0) return first;
  const result = loadConfig({ ...input, jobFiles: jobFiles.files });
  if (!result.ok || jobFiles.issues.length === 0) return result;
  const unreadable = jobFiles.issues.map((issue) => ({ name: undefined, source: { file: issue.file, line: issue.line }, issues: [issue] }));
  return { ok: true, config: { ...result.config, refused: [...result.config.refused, ...unreadable] } };
}
