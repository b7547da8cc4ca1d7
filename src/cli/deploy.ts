import { runDeploy, type DeployOutcome } from '../autodeploy/deploy.js';
import { deployEventText } from '../core/deploy-event-text.js';
import type { DeployEvent } from '../core/deploy-events.js';
import { EXIT, ENV_FILE_OPTION, parseCommandArgs, type Command } from './common.js';
import { composeContainers, deploySetup, lockHolderAlive } from './deploy-setup.js';
import { eventWriter } from './event-output.js';

/** 0: nothing to do, or deployed; 1: the deploy failed (and was rolled back) or could not start. */
export function deployExitCode(outcome: DeployOutcome): number {
  return outcome === 'aborted' || outcome === 'rolled-back' || outcome === 'failed' ? EXIT.failed : EXIT.ok;
}

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'deploy every checkout that is behind its upstream (what the autodeploy job runs)',
  usage: 'autodeploy deploy [--dry-run] [--env-file FILE]',
  async run(context) {
    const { values } = parseCommandArgs(context.argv, { ...ENV_FILE_OPTION, 'dry-run': { type: 'boolean' } });
    const setup = await deploySetup(values['env-file'], context);
    if (setup === undefined) return EXIT.usage;
    const emit = eventWriter<DeployEvent>({ source: 'deploy', text: deployEventText, env: context.env, stdout: context.stdout, mask: setup.mask });
    const dryRun = values['dry-run'] ?? false;
    const started = new Date();
    emit({ type: 'started', dryRun, at: started.toISOString(), checkouts: setup.checkouts });
    const report = await runDeploy({
      settings: setup.config.settings,
      env: setup.config.platformEnv,
      composeEnv: setup.config.composeEnv,
      composeDir: setup.composeDir,
      checkouts: setup.checkouts,
      dryRun,
      containers: composeContainers(context.env),
      isLockHolderAlive: lockHolderAlive(context.env),
      onEvent: emit,
    });
    const exitCode = deployExitCode(report.outcome);
    emit({
      type: 'finished',
      outcome: report.outcome,
      message: report.message,
      endedAt: report.endedAt.toISOString(),
      durationMs: report.endedAt.getTime() - started.getTime(),
      exitCode,
    });
    return exitCode;
  },
};
