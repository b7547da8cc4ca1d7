import { runDeploy, type DeployOutcome, type DeployReport } from '../autodeploy/deploy.js';
import { deployEventText } from '../core/deploy-event-text.js';
import type { DeployEvent } from '../core/deploy-events.js';
import { DeployState } from '../state/deploy-state.js';
import { EXIT, ENV_FILE_OPTION, parseCommandArgs, type Command } from './common.js';
import { composeContainers, deploySetup, lockHolderAlive } from './deploy-setup.js';
import { eventWriter } from './event-output.js';

/**
 * Some checkout could not be judged (unreachable, key refused, not a checkout), and nothing
 * failed otherwise: not a success, and not a deploy failure either, so a code of its own.
 */
export const EXIT_UNJUDGED = 3;

/**
 * 0: nothing to do, deployed, or an interrupted deploy finished; 1: the deploy failed (and was
 * rolled back) or could not start; 3: some checkout could not be judged.
 */
export function deployExitCode(outcome: DeployOutcome, unjudged = 0): number {
  if (outcome === 'aborted' || outcome === 'rolled-back' || outcome === 'failed') return EXIT.failed;
  return unjudged > 0 ? EXIT_UNJUDGED : EXIT.ok;
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
    const run = context.env['AUTODEPLOY_RUN'];
    const report = await runDeploy({
      settings: setup.settings,
      env: setup.config.platformEnv,
      composeEnv: setup.config.composeEnv,
      composeDir: setup.composeDir,
      checkouts: setup.checkouts,
      dryRun,
      containers: composeContainers(context.env),
      isLockHolderAlive: lockHolderAlive(context.env),
      onEvent: emit,
      job: context.env['AUTODEPLOY_JOB'],
      run,
    });
    const exitCode = deployExitCode(report.outcome, report.unjudged.length);
    const message = describe(report);
    if (!dryRun) {
      await new DeployState(setup.config.settings.stateDir).recordRun({
        id: report.id,
        run,
        startedAt: started.toISOString(),
        endedAt: report.endedAt.toISOString(),
        outcome: report.outcome,
        ok: exitCode === EXIT.ok,
        exitCode,
        message: setup.mask(message),
      });
    }
    emit({
      type: 'finished',
      outcome: report.outcome,
      message,
      endedAt: report.endedAt.toISOString(),
      durationMs: report.endedAt.getTime() - started.getTime(),
      exitCode,
    });
    return exitCode;
  },
};

/** The report's message, and, when some checkout could not be judged, which: "nothing to deploy (1 error)" alone would pass for health. */
function describe(report: DeployReport): string {
  if (report.unjudged.length === 0) return report.message;
  return `${report.message}; not judged: ${report.unjudged.map((v) => v.path).join(', ')}`;
}
