import { runDeploy, type DeployOutcome } from '../autodeploy/deploy.js';
import { EXIT, ENV_FILE_OPTION, parseCommandArgs, write, type Command } from './common.js';
import { composeContainers, deploySetup, lockHolderAlive } from './deploy-setup.js';

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
    const say = (line: string): void => write(context.stdout, setup.mask(line));
    const started = new Date();
    say(`autodeploy ${values['dry-run'] ? 'dry run' : 'run'} started at ${started.toISOString()}: ${setup.checkouts.length} checkout${setup.checkouts.length === 1 ? '' : 's'}`);
    const report = await runDeploy({
      settings: setup.config.settings,
      env: setup.config.env,
      composeEnv: setup.config.composeEnv,
      composeDir: setup.composeDir,
      checkouts: setup.checkouts,
      dryRun: values['dry-run'] ?? false,
      containers: composeContainers(context.env),
      isLockHolderAlive: lockHolderAlive(context.env),
      say,
    });
    const seconds = ((report.endedAt.getTime() - started.getTime()) / 1000).toFixed(1);
    say(`autodeploy finished at ${report.endedAt.toISOString()} (${seconds}s): ${report.outcome}: ${report.message}`);
    return deployExitCode(report.outcome);
  },
};
