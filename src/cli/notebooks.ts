import { hostname } from 'node:os';
import path from 'node:path';
import { formatIssue } from '../config/issues.js';
import { readConfig } from '../config/read.js';
import { connectDocker, dockerJobContainers } from '../docker/job-containers.js';
import { schedulerInstance } from '../jobs/instance.js';
import { runOnce } from '../jobs/run-once.js';
import { createMasker } from '../logging/mask.js';
import { rollbackNotebooks, runNotebookDeploy, type MountingContainers, type NotebookOutcome } from '../notebooks/notebook-deploy.js';
import type { MountingContainer } from '../notebooks/prune-plan.js';
import { EXIT, ENV_FILE_OPTION, UsageError, defaultsFile, parseCommandArgs, resolveEnvFile, schedulerContext, write, type Command, type CommandContext } from './common.js';
import { lockHolderAlive } from './deploy-setup.js';

/** 0: published, nothing to do, held, rolled back or another run is going; 1: nothing could be published. */
export function notebooksExitCode(outcome: NotebookOutcome): number {
  return outcome === 'failed' ? EXIT.failed : EXIT.ok;
}

/**
 * The running containers that bind-mount one of `paths` or a path below it, with their start
 * times: what pruning needs to know which old versions a JupyterLab server may still show.
 */
export function dockerMountingContainers(docker: ReturnType<typeof connectDocker>): MountingContainers {
  return async (paths) => {
    const roots = paths.map((p) => path.resolve(p));
    const concerns = (source: string): boolean => roots.some((root) => source === root || source.startsWith(`${root}/`));
    const running = await docker.listContainers({ all: false });
    const found: MountingContainer[] = [];
    for (const summary of running) {
      const sources = (summary.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => path.resolve(m.Source));
      if (!sources.some(concerns)) continue;
      const info = await docker.getContainer(summary.Id).inspect().catch(() => undefined);
      if (info === undefined || !info.State.Running) continue;
      found.push({ name: info.Name.replace(/^\//, ''), startedAt: new Date(info.State.StartedAt), sources });
    }
    return found;
  };
}

/**
 * Typed in the scheduler's container, the command runs in a container made like the
 * notebookdeploy job's: only that one mounts the target's parent and the sources on the host.
 * Returns its exit code, or undefined when the command is to run here.
 */
async function runInJobContainer(context: CommandContext, envFile: string, args: readonly string[]): Promise<number | undefined> {
  if (context.env['AUTODEPLOY_JOB'] !== undefined) return undefined;
  const containers = dockerJobContainers(connectDocker({}, { ...context.env }));
  const selfContainer = await containers.self().catch(() => undefined);
  const self = await schedulerContext(containers);
  if (self.selfImage === undefined) return undefined;
  const result = await readConfig({ envFile, defaultsFile: defaultsFile(context.env), processEnv: { ...context.env }, context: self });
  if (!result.ok) return undefined;
  const job = result.config.jobs.find((j) => j.kind === 'notebookdeploy');
  if (job === undefined) return undefined;
  const mask = createMasker(result.config.secrets);
  return runOnce(containers, job.container, {
    job: 'notebookdeploy-manual',
    instance: schedulerInstance(context.env, selfContainer, hostname()),
    command: ['autodeploy', 'notebooks', ...args],
    onOutput: (line) => write(line.stream === 'stderr' ? context.stderr : context.stdout, mask(line.text)),
  });
}

export const notebooksCommand: Command = {
  name: 'notebooks',
  summary: 'publish the tutorial notebooks of AUTODEPLOY_NOTEBOOK_SOURCES (what the notebookdeploy job runs)',
  usage: 'autodeploy notebooks [--dry-run | --rollback] [--env-file FILE]',
  async run(context) {
    const { values } = parseCommandArgs(context.argv, { ...ENV_FILE_OPTION, 'dry-run': { type: 'boolean' }, rollback: { type: 'boolean' } });
    const dryRun = values['dry-run'] ?? false;
    const rollback = values.rollback ?? false;
    if (dryRun && rollback) throw new UsageError('--dry-run and --rollback do not go together');
    const envFile = resolveEnvFile(values['env-file'], context.env);

    const delegated = await runInJobContainer(context, envFile, [...(dryRun ? ['--dry-run'] : []), ...(rollback ? ['--rollback'] : [])]);
    if (delegated !== undefined) return delegated;

    const result = await readConfig({ envFile, defaultsFile: defaultsFile(context.env), processEnv: { ...context.env } });
    if (!result.ok) {
      for (const issue of result.issues) write(context.stderr, formatIssue(issue));
      return EXIT.usage;
    }
    const { settings, secrets } = result.config;
    const mask = createMasker(secrets);
    const say = (line: string): void => write(context.stdout, mask(line));
    const target = settings.notebookTargetDir;
    if (target === undefined) {
      write(context.stderr, `${envFile}: no target for the notebooks: set AUTODEPLOY_NOTEBOOK_TARGET_DIR, or JUPYTERHUB_USER_DATA_DIR`);
      return EXIT.usage;
    }
    if (settings.notebookSources.length === 0 && !rollback) {
      say(`no notebook sources: AUTODEPLOY_NOTEBOOK_SOURCES is empty in ${envFile}; nothing to publish`);
      return EXIT.ok;
    }

    const started = new Date();
    const what = rollback ? 'rollback' : dryRun ? 'dry run' : 'run';
    say(`notebooks ${what} started at ${started.toISOString()}: ${settings.notebookSources.length} source${settings.notebookSources.length === 1 ? '' : 's'}, target ${target}, owner ${settings.notebookOwner}`);
    const input = {
      sources: settings.notebookSources,
      target,
      owner: settings.notebookOwner,
      stateDir: settings.stateDir,
      keyRootDir: settings.deployKeyRootDir,
      pinnedKnownHosts: settings.knownHosts,
      containers: dockerMountingContainers(connectDocker({}, { ...context.env })),
      isLockHolderAlive: lockHolderAlive(context.env),
      say,
    };
    const report = rollback ? await rollbackNotebooks(input) : await runNotebookDeploy({ ...input, dryRun });
    const seconds = ((report.endedAt.getTime() - started.getTime()) / 1000).toFixed(1);
    say(`notebooks finished at ${report.endedAt.toISOString()} (${seconds}s): ${report.outcome}: ${report.message}`);
    return notebooksExitCode(report.outcome);
  },
};
