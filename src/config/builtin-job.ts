// What a built-in job kind is given to build its job from, and the recipe every built-in
// job's container shares: the scheduler's own image, with paths mounted where they are on
// the host. Each kind (src/autodeploy/, src/notebooks/) owns its settings, the rest of its
// recipe and its command; the loader reads and builds the kinds the CLI or the daemon hands it.

import type { ConfigIssue } from '../core/issues.js';
import type { ContainerSpec, Job, Schedule } from '../core/job.js';
import type { SelfContainer } from '../core/run.js';
import { parseSchedule } from '../core/schedule.js';
import type { JobDraft, SettingEntry } from './job-draft.js';
import type { Settings } from './settings.js';
import type { SettingsDeclaration } from './settings-declaration.js';

/** What only the running scheduler knows about itself; absent when the CLI runs outside the container. */
export interface SchedulerContext {
  /** the image the scheduler runs from */
  readonly selfImage?: string;
  /** the scheduler container's mounts: destination → volume name or host path */
  readonly mounts?: ReadonlyMap<string, string>;
}

/** What the scheduler's own container says of itself; empty outside one. */
export function schedulerContext(self: SelfContainer | undefined): SchedulerContext {
  return self === undefined ? {} : { selfImage: self.image, mounts: self.mounts };
}

/** Used when neither the scheduler's own container nor AUTODEPLOY_IMAGE says which image to run. */
export const DEFAULT_SCHEDULER_IMAGE = 'autodeploy-scheduler:latest';
export const DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * The checkout that holds COMPOSE_DIR: COMPOSE_DIR itself, or its parent in birdhouse-deploy's
 * layout (`<checkout>/birdhouse`). Decided by the caller, who can look at the disk.
 */
export type CheckoutRootOf = (composeDir: string) => string;

/**
 * Which platform COMPOSE_DIR holds: birdhouse-deploy 2.x (`birdhouse-compose.sh`, jobs as
 * `scheduler-job-*` components) or PAVICS 1.x (`pavics-compose.sh` only). Decided by the
 * caller, who can look at the disk.
 */
export type Platform = 'birdhouse' | 'pavics';
export type PlatformOf = (composeDir: string) => Platform;

export interface BuiltinJobInput<S = unknown> {
  /** the scheduler's own settings */
  readonly settings: Settings;
  /** the kind's own settings, read from its declaration */
  readonly kindSettings: S;
  readonly entries: ReadonlyMap<string, SettingEntry>;
  /** env.local: also where a problem with a setting it does not set is reported */
  readonly envFile: string;
  /** the scheduler's own defaults (config/default.env): a value from there is not the operator's */
  readonly defaultsFile?: string | undefined;
  /** the platform COMPOSE_DIR holds; undefined without COMPOSE_DIR */
  readonly platform?: Platform | undefined;
  /** the operator's job definitions (job files, AUTODEPLOY_EXTRA_SCHEDULER_JOBS, AUTODEPLOY_JOB_*) */
  readonly listed?: readonly JobDraft[] | undefined;
  /**
   * Where env.local really is when it is a symbolic link (into a private config checkout, as
   * birdhouse-deploy recommends): a job that reads env.local mounts this file's directory too, or
   * the link would lead nowhere inside its container.
   */
  readonly envFileTarget?: string | undefined;
  /**
   * COMPOSE_DIR, when the values came from birdhouse-deploy's reader there: a job that reads
   * env.local again must find that reader too, or it would compute other values.
   */
  readonly platformReaderDir?: string | undefined;
  readonly context: SchedulerContext;
  readonly checkoutRootOf?: CheckoutRootOf | undefined;
  /** the resolved environment, for `-e NAME` in extra docker args */
  readonly env: Readonly<Record<string, string>>;
}

/** One kind of built-in job: its settings in, its job (when configured) or the problems out. */
export interface BuiltinJobKind<S = unknown> {
  readonly name: string;
  /** its own settings: read with the scheduler's, and a problem with them refuses the configuration as theirs does */
  readonly settings: SettingsDeclaration<S>;
  build(input: BuiltinJobInput<S>): BuiltinJobResult;
}

/** Each kind's settings as the loader read them from the kind's declaration. */
export type KindSettings = ReadonlyMap<BuiltinJobKind, unknown>;

/**
 * A kind's settings in a loaded configuration, for the code of that kind outside `build` (its
 * commands, its status). The kind must have been handed to the loader.
 */
export function settingsOf<S>(config: { readonly kindSettings: KindSettings }, kind: BuiltinJobKind<S>): S {
  if (!config.kindSettings.has(kind)) throw new Error(`the configuration was loaded without the ${kind.name} job kind, whose settings are asked for`);
  // Stored under the kind by the loader, from that kind's own declaration: an S.
  return config.kindSettings.get(kind) as S;
}

export interface BuiltinJobResult {
  readonly job: Job | undefined;
  readonly issues: readonly ConfigIssue[];
  /** names of the operator's jobs this built-in does the work of: they are not run as written */
  readonly claims?: readonly string[];
}

/** The operator's job of that name, if any (names compare as the job table does, in lower case). */
function listedJob(input: BuiltinJobInput, name: string): JobDraft | undefined {
  return input.listed?.find((draft) => draft.name.toLowerCase() === name);
}

/** A draft field as text ('' when absent): a command list is joined with spaces. */
function draftText(draft: JobDraft, field: 'command' | 'schedule'): string {
  const value = draft.fields[field]?.value;
  if (value === undefined || value === null) return '';
  return Array.isArray(value) ? value.join(' ') : String(value);
}

/**
 * The operator's job of that name when its command runs birdhouse-deploy's own script for the
 * built-in's work: the built-in then runs in its place, on that job's schedule.
 */
export function replacedJob(input: BuiltinJobInput, name: string, script: RegExp): JobDraft | undefined {
  const listed = listedJob(input, name);
  return listed !== undefined && script.test(draftText(listed, 'command')) ? listed : undefined;
}

/**
 * A built-in's schedule: the replaced job's when there is one, else its frequency setting's. A
 * problem names the one it came from, at the job's schedule line or else at `fallback`.
 */
export function builtinSchedule(
  input: BuiltinJobInput,
  job: string,
  replaced: JobDraft | undefined,
  setting: { readonly name: string; readonly value: string },
  fallback: { readonly file: string; readonly line: number | undefined },
): { readonly schedule: Schedule | null; readonly issue?: undefined } | { readonly schedule?: undefined; readonly issue: ConfigIssue } {
  const parsed = parseSchedule(replaced === undefined ? setting.value : draftText(replaced, 'schedule'), input.settings.timezone);
  if (parsed.ok) return { schedule: parsed.schedule };
  const where = replaced?.fields.schedule?.where ?? fallback;
  return replaced === undefined
    ? { issue: { ...where, key: setting.name, job, message: `${setting.name}: ${parsed.message}` } }
    : { issue: { ...where, key: 'schedule', job, message: `job "${job}": ${parsed.message}` } };
}

/** The setting was given by the operator (env.local or the environment), not by the scheduler's defaults. */
export function setByOperator(input: BuiltinJobInput, name: string): boolean {
  const entry = input.entries.get(name);
  return entry !== undefined && entry.value.trim() !== '' && entry.source.file !== input.defaultsFile;
}

/** A path mounted where it is on the host. */
export function sameMount(path: string, mode = 'rw'): string {
  return `${path}:${path}:${mode}`;
}

/** The state directory, a volume of the scheduler's container: the built-in jobs share it (lock, host keys, git cache). */
export function stateMount(input: BuiltinJobInput): string {
  const { stateDir } = input.settings;
  return `${input.context.mounts?.get(stateDir) ?? stateDir}:${stateDir}:rw`;
}

/** env.local and, when it is a symbolic link, the file it leads to: a job that reads env.local needs both. */
export function envFilePaths(input: BuiltinJobInput): string[] {
  return input.envFileTarget === undefined ? [input.envFile] : [input.envFile, input.envFileTarget];
}

/** The deploy keys and the pinned known_hosts, read-only, when set. */
export function credentialMounts(settings: Settings): string[] {
  return [settings.deployKeyRootDir, settings.knownHosts].filter((path) => path !== undefined).map((path) => sameMount(path, 'ro'));
}

/** A built-in job's container: the scheduler's own image, with what the job adds. */
export function schedulerImageContainer(
  input: BuiltinJobInput,
  job: Pick<ContainerSpec, 'command' | 'containerName' | 'env'> & Partial<Omit<ContainerSpec, 'volumes'>> & { readonly volumes: ReadonlySet<string> },
): ContainerSpec {
  return {
    image: input.context.selfImage ?? input.settings.image ?? DEFAULT_SCHEDULER_IMAGE,
    entrypoint: undefined,
    envFiles: [],
    user: undefined,
    workdir: undefined,
    network: undefined,
    extraHosts: [],
    labels: {},
    ...job,
    volumes: [...job.volumes],
  };
}
