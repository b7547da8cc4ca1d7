import { hostname } from 'node:os';
import { schedulerContext, settingsOf } from '../config/builtin-job.js';
import type { Config } from '../config/load.js';
import type { Settings } from '../config/settings.js';
import { autodeployJobKind } from '../autodeploy/job.js';
import type { AutodeploySettings } from '../autodeploy/settings.js';
import { checkoutRootOf } from '../config/read.js';
import { dockerComposeContainers } from '../docker/compose-project.js';
import { connectDocker, dockerJobContainers } from '../docker/job-containers.js';
import { schedulerInstance } from '../scheduler/instance.js';
import { runOnce } from '../scheduler/run-once.js';
import type { LockHolder } from '../state/lock.js';
import { runsInContainer } from '../core/job.js';
import { createMasker, type Masker } from '../core/mask.js';
import { resolveEnvFile, write, type CommandContext } from './common.js';
import { configOrReport, readCommandConfig } from './command-config.js';
import { readableOutput } from './event-output.js';

export interface DeploySetup {
  readonly envFile: string;
  readonly config: Config;
  /** the scheduler's settings and the autodeploy job's */
  readonly settings: Settings & AutodeploySettings;
  readonly composeDir: string;
  readonly checkouts: readonly string[];
  readonly mask: Masker;
}

/** env.local → what `status` and `deploy` work on; undefined (after saying why) when it cannot be had. */
export async function deploySetup(envFileFlag: string | undefined, { env, stderr }: CommandContext): Promise<DeploySetup | undefined> {
  const envFile = resolveEnvFile(envFileFlag, env);
  const config = await configOrReport(env, envFile, stderr);
  if (config === undefined) return undefined;
  const composeDir = config.settings.composeDir;
  if (composeDir === undefined) {
    write(stderr, `${envFile}: COMPOSE_DIR is not set: set it to the platform directory (the one holding docker-compose.yml)`);
    return undefined;
  }
  return {
    envFile,
    config,
    settings: { ...config.settings, ...settingsOf(config, autodeployJobKind) },
    composeDir,
    checkouts: [checkoutRootOf(composeDir), ...config.settings.extraRepos],
    mask: createMasker(config.secrets),
  };
}

/**
 * How long a deploy waits for one answer of the engine (the project's containers, a lock
 * holder's): a hung engine must not hold the deploy, and its lock, past every deadline.
 */
const ENGINE_QUESTION_TIMEOUT_MS = 60_000;

export function composeContainers(env: CommandContext['env']) {
  return dockerComposeContainers(connectDocker({ timeoutMs: ENGINE_QUESTION_TIMEOUT_MS }, { ...env }));
}

/**
 * A deploy lock's holder is alive if it is this host's process and that pid exists, or
 * another container (deploys run in their own) that is still running, or cannot be asked about.
 */
export function lockHolderAlive(env: CommandContext['env']): (holder: LockHolder) => Promise<boolean> {
  return async (holder) => {
    if (holder.host === hostname()) {
      try {
        process.kill(holder.pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    try {
      const info = await connectDocker({ timeoutMs: ENGINE_QUESTION_TIMEOUT_MS }, { ...env }).getContainer(holder.host).inspect();
      return info.State.Running;
    } catch (error) {
      // Only "no such container" says the holder is gone; an engine that did not answer says
      // nothing, and taking a live deploy's lock would be worse than waiting for its deadline.
      return (error as { statusCode?: number }).statusCode !== 404;
    }
  };
}

/**
 * When this CLI runs in the scheduler's container (not already in a job's), runs `command` in a
 * container made like the built-in job's of that kind: that one mounts every checkout, the
 * notebook target, and whatever the job's extra docker options add, so the command sees what
 * the job sees. Returns its exit code, or undefined when the command is to run here.
 */
export async function runInBuiltinJobContainer(
  context: CommandContext,
  envFile: string,
  kind: 'autodeploy' | 'notebookdeploy',
  command: readonly string[],
): Promise<number | undefined> {
  if (context.env['AUTODEPLOY_JOB'] !== undefined) return undefined;
  const containers = dockerJobContainers(connectDocker({}, { ...context.env }));
  const selfContainer = await containers.self();
  if (selfContainer === undefined) return undefined;
  const result = await readCommandConfig(context.env, envFile, schedulerContext(selfContainer));
  const job = result.ok ? result.config.jobs.find((j) => j.kind === kind) : undefined;
  if (!result.ok || job === undefined || !runsInContainer(job)) return undefined;
  const mask = createMasker(result.config.secrets);
  return runOnce(containers, job.container, {
    job: `${kind}-manual`,
    instance: schedulerInstance(context.env, selfContainer, hostname()),
    command,
    // The command there runs as a job and writes its events as JSON lines: print their sentences.
    onOutput: (line) => write(line.stream === 'stderr' ? context.stderr : context.stdout, mask(readableOutput(line.text))),
  });
}
