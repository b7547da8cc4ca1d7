import { dirname } from 'node:path';
import type { AutodeployJob, ContainerSpec, Job, NotebookDeployJob } from '../jobs/job.js';
import { localSourcePath } from '../notebooks/source-spec.js';
import { parseSchedule } from '../schedule/parse.js';
import { parseDockerArgs, type DockerArgs } from './docker-args.js';
import type { ConfigIssue } from './issues.js';
import type { SettingEntry } from './job-draft.js';
import type { Settings } from './settings.js';
import type { SelfContainer } from '../docker/job-containers.js';

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
const DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * The checkout that holds COMPOSE_DIR: COMPOSE_DIR itself, or its parent in birdhouse-deploy's
 * layout (`<checkout>/birdhouse`). Decided by the caller, who can look at the disk.
 */
export type CheckoutRootOf = (composeDir: string) => string;

export interface BuiltinInput {
  readonly settings: Settings;
  readonly entries: ReadonlyMap<string, SettingEntry>;
  /** env.local: also where a problem with a setting it does not set is reported */
  readonly envFile: string;
  readonly context: SchedulerContext;
  readonly checkoutRootOf?: CheckoutRootOf;
  /** the resolved environment, for `-e NAME` in extra docker args */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The built-in jobs. `autodeploy` runs `autodeploy deploy` in the scheduler's own image, with the
 * checkouts, the Docker socket, the deploy keys and the state directory mounted at the same paths
 * as on the host, so that compose's relative paths mean the same inside and out. `notebookdeploy`
 * runs `autodeploy notebooks` the same way, when notebook sources are set.
 */
export function buildBuiltinJobs(input: BuiltinInput): { jobs: Job[]; issues: ConfigIssue[] } {
  const { settings } = input;
  const issues: ConfigIssue[] = [];
  const jobs: Job[] = [];
  const frequency = input.entries.get('AUTODEPLOY_PLATFORM_FREQUENCY');
  const source = frequency?.source ?? { file: input.envFile, line: undefined };

  if (settings.composeDir !== undefined) {
    const parsed = parseSchedule(settings.platformFrequency, settings.timezone);
    if (!parsed.ok) {
      issues.push({ ...source, key: 'AUTODEPLOY_PLATFORM_FREQUENCY', job: 'autodeploy', message: `AUTODEPLOY_PLATFORM_FREQUENCY: ${parsed.message}` });
    }
    // birdhouse-deploy's AUTODEPLOY_PLATFORM_EXTRA_DOCKER_ARGS: more mounts, env or a network for the deploy container.
    const extraEntry = input.entries.get(EXTRA_ARGS);
    const extra = parseDockerArgs(extraEntry?.value ?? '', input.env);
    for (const problem of extra.problems) {
      issues.push({ ...(extraEntry?.source ?? source), key: EXTRA_ARGS, job: 'autodeploy', message: `${EXTRA_ARGS}: ${problem}` });
    }
    if (parsed.ok && extra.problems.length === 0) {
      const job: AutodeployJob = {
        kind: 'autodeploy',
        name: 'autodeploy',
        comment: 'keep every checkout deployed',
        schedule: parsed.schedule,
        enabled: parsed.schedule !== null,
        // A deploy is never cut short: a half-done deploy is worse than a slow one.
        timeoutMs: undefined,
        source,
        container: autodeployContainer(input, settings.composeDir, extra.args),
      };
      jobs.push(job);
    }
  }
  const notebooks = notebookDeployJob(input);
  issues.push(...notebooks.issues);
  if (notebooks.job !== undefined) jobs.push(notebooks.job);
  return { jobs, issues };
}

const NOTEBOOK_FREQUENCY = 'AUTODEPLOY_NOTEBOOK_FREQUENCY';
const NOTEBOOK_SOURCES = 'AUTODEPLOY_NOTEBOOK_SOURCES';
/**
 * A run that outlives this is stopped. Safe at any point: a publish is staged beside the target
 * and swapped in by one rename, so a stopped run leaves the previous set in place.
 */
export const NOTEBOOK_DEPLOY_TIMEOUT_MS = 3_600_000;

/** The notebookdeploy job: there when sources are set, enabled when its schedule is not empty. */
function notebookDeployJob(input: BuiltinInput): { job: NotebookDeployJob | undefined; issues: ConfigIssue[] } {
  const { settings } = input;
  if (settings.notebookSources.length === 0) return { job: undefined, issues: [] };
  const sourcesEntry = input.entries.get(NOTEBOOK_SOURCES);
  const source = sourcesEntry?.source ?? { file: input.envFile, line: undefined };
  const issues: ConfigIssue[] = [];
  const frequency = input.entries.get(NOTEBOOK_FREQUENCY);
  const parsed = parseSchedule(settings.notebookFrequency, settings.timezone);
  if (!parsed.ok) {
    issues.push({ ...(frequency?.source ?? source), key: NOTEBOOK_FREQUENCY, job: 'notebookdeploy', message: `${NOTEBOOK_FREQUENCY}: ${parsed.message}` });
  }
  const target = settings.notebookTargetDir;
  if (target === undefined) {
    issues.push({
      ...source,
      key: 'AUTODEPLOY_NOTEBOOK_TARGET_DIR',
      job: 'notebookdeploy',
      message: 'notebook sources are set, but not where to publish them: set AUTODEPLOY_NOTEBOOK_TARGET_DIR, or JUPYTERHUB_USER_DATA_DIR (the notebooks then go to its tutorial-notebooks folder)',
    });
  }
  if (!parsed.ok || target === undefined) return { job: undefined, issues };
  return {
    job: {
      kind: 'notebookdeploy',
      name: 'notebookdeploy',
      comment: 'publish tutorial notebooks from git',
      schedule: parsed.schedule,
      enabled: parsed.schedule !== null,
      timeoutMs: NOTEBOOK_DEPLOY_TIMEOUT_MS,
      source,
      container: notebookDeployContainer(input, target),
    },
    issues,
  };
}

/** A path mounted where it is on the host. */
function sameMount(path: string, mode = 'rw'): string {
  return `${path}:${path}:${mode}`;
}

/** The state directory, a volume of the scheduler's container: the built-in jobs share it (lock, host keys, git cache). */
function stateMount(input: BuiltinInput): string {
  const { stateDir } = input.settings;
  return `${input.context.mounts?.get(stateDir) ?? stateDir}:${stateDir}:rw`;
}

/** The deploy keys and the pinned known_hosts, read-only, when set. */
function credentialMounts(settings: Settings): string[] {
  return [settings.deployKeyRootDir, settings.knownHosts].filter((path) => path !== undefined).map((path) => sameMount(path, 'ro'));
}

function notebookDeployContainer(input: BuiltinInput, target: string): ContainerSpec {
  const { settings } = input;
  const volumes = new Set<string>([
    // Pruning asks Docker which running containers may still mount an old version.
    `${DOCKER_SOCKET}:${DOCKER_SOCKET}`,
    // The parent, not the target: the target is a symbolic link swapped by rename, and the
    // versions it points to live beside it.
    sameMount(dirname(target)),
    stateMount(input),
    sameMount(dirname(input.envFile), 'ro'),
    ...credentialMounts(settings),
  ]);
  // A source on this host (a path or file:// URL) is read where it is.
  for (const s of settings.notebookSources) {
    const local = localSourcePath(s.url);
    if (local !== undefined) volumes.add(sameMount(local, 'ro'));
  }
  const env: Record<string, string> = { AUTODEPLOY_ENV_FILE: input.envFile };
  if (settings.composeDir !== undefined) env['COMPOSE_DIR'] = settings.composeDir;
  if (settings.timezone !== undefined) env['TZ'] = settings.timezone;
  // The name is the publish's mutex, as for autodeploy.
  return schedulerImageContainer(input, { command: ['autodeploy', 'notebooks'], containerName: 'notebookdeploy', volumes, env });
}

const EXTRA_ARGS = 'AUTODEPLOY_PLATFORM_EXTRA_DOCKER_ARGS';

function autodeployContainer(input: BuiltinInput, composeDir: string, extra: DockerArgs): ContainerSpec {
  const { settings } = input;
  const checkoutRoot = input.checkoutRootOf?.(composeDir) ?? composeDir;
  const volumes = new Set<string>([
    `${DOCKER_SOCKET}:${DOCKER_SOCKET}`,
    sameMount(checkoutRoot),
    ...settings.extraRepos.map((repo) => sameMount(repo)),
    stateMount(input),
  ]);
  // env.local may live outside the checkouts (e.g. in a private config repo elsewhere).
  if (![checkoutRoot, ...settings.extraRepos].some((dir) => input.envFile.startsWith(`${dir}/`))) {
    volumes.add(sameMount(dirname(input.envFile), 'ro'));
  }
  for (const volume of [...credentialMounts(settings), ...extra.volumes]) volumes.add(volume);

  const env: Record<string, string> = { ...extra.env, COMPOSE_DIR: composeDir, AUTODEPLOY_ENV_FILE: input.envFile };
  if (settings.timezone !== undefined) env['TZ'] = settings.timezone;
  // The name is the deploy's mutex: one deploy at a time, whoever starts it.
  return schedulerImageContainer(input, {
    command: ['autodeploy', 'deploy'],
    containerName: 'autodeploy',
    volumes,
    env,
    envFiles: [...extra.envFiles],
    user: extra.user,
    workdir: composeDir,
    network: extra.network,
    extraHosts: [...extra.extraHosts],
    labels: { ...extra.labels },
  });
}

/** A built-in job's container: the scheduler's own image, with what the job adds. */
function schedulerImageContainer(
  input: BuiltinInput,
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
