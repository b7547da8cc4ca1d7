import { connectDocker } from '../docker/job-containers.js';
import { dockerMountingContainers } from '../docker/mounting-containers.js';
import { createMasker } from '../core/mask.js';
import { notebookEventText } from '../core/notebook-event-text.js';
import type { NotebookEvent } from '../core/notebook-events.js';
import { formatOwnership } from '../core/ownership.js';
import { settingsOf } from '../config/builtin-job.js';
import { notebookDeployJobKind } from '../notebooks/job.js';
import { rollbackNotebooks, runNotebookDeploy, type NotebookOutcome } from '../notebooks/notebook-deploy.js';
import { EXIT, ENV_FILE_OPTION, UsageError, parseCommandArgs, resolveEnvFile, write, type Command } from './common.js';
import { lockHolderAlive, runInBuiltinJobContainer } from './deploy-setup.js';
import { configOrReport } from './command-config.js';
import { eventWriter } from './event-output.js';

/** 0: published, nothing to do, held, rolled back or another run is going; 1: nothing could be published. */
export function notebooksExitCode(outcome: NotebookOutcome): number {
  return outcome === 'failed' ? EXIT.failed : EXIT.ok;
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

    // Typed in the scheduler's container: only the notebookdeploy job's container mounts the target's parent.
    const delegated = await runInBuiltinJobContainer(context, envFile, 'notebookdeploy', ['autodeploy', 'notebooks', ...(dryRun ? ['--dry-run'] : []), ...(rollback ? ['--rollback'] : [])]);
    if (delegated !== undefined) return delegated;

    const config = await configOrReport(context.env, envFile, context.stderr);
    if (config === undefined) return EXIT.usage;
    const { settings, secrets } = config;
    const notebooks = settingsOf(config, notebookDeployJobKind);
    const emit = eventWriter<NotebookEvent>({ source: 'notebooks', text: notebookEventText, env: context.env, stdout: context.stdout, mask: createMasker(secrets) });
    const target = notebooks.notebookTargetDir;
    if (target === undefined) {
      write(context.stderr, `${envFile}: no target for the notebooks: set AUTODEPLOY_NOTEBOOK_TARGET_DIR, or JUPYTERHUB_USER_DATA_DIR`);
      return EXIT.usage;
    }
    if (notebooks.notebookSources.length === 0 && !rollback) {
      emit({ type: 'no-sources', envFile });
      return EXIT.ok;
    }

    const started = new Date();
    emit({
      type: 'started',
      mode: rollback ? 'rollback' : dryRun ? 'dry-run' : 'run',
      at: started.toISOString(),
      sources: notebooks.notebookSources.length,
      target,
      owner: formatOwnership(notebooks.notebookOwner),
    });
    const input = {
      sources: notebooks.notebookSources,
      target,
      owner: notebooks.notebookOwner,
      stateDir: settings.stateDir,
      keyRootDir: settings.deployKeyRootDir,
      pinnedKnownHosts: settings.knownHosts,
      gitTimeoutMs: notebooks.notebookFetchTimeoutMs,
      containers: dockerMountingContainers(connectDocker({}, { ...context.env })),
      isLockHolderAlive: lockHolderAlive(context.env),
      onEvent: emit,
    };
    const report = rollback ? await rollbackNotebooks(input) : await runNotebookDeploy({ ...input, dryRun });
    const exitCode = notebooksExitCode(report.outcome);
    const { changes } = report;
    emit({
      type: 'finished',
      outcome: report.outcome,
      message: report.message,
      endedAt: report.endedAt.toISOString(),
      durationMs: report.endedAt.getTime() - started.getTime(),
      exitCode,
      version: report.version,
      previous: report.previous,
      changes: changes === undefined ? undefined : { added: changes.added.length, changed: changes.changed.length, removed: changes.removed.length },
    });
    return exitCode;
  },
};
