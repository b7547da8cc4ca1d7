import { hostname } from 'node:os';
import { schedulerContext } from '../config/builtin-job.js';
import { dockerContainerExecs } from '../docker/container-execs.js';
import { connectDocker, dockerJobContainers } from '../docker/job-containers.js';
import { localCommands } from '../process/local-commands.js';
import { schedulerInstance } from '../scheduler/instance.js';
import { runJob, type RunReport } from '../scheduler/run-job.js';
import { openLogFiles } from '../logging/log-files.js';
import { createMasker } from '../core/mask.js';
import { RunHistory } from '../state/run-history.js';
import { EXIT, ENV_FILE_OPTION, UsageError, parseCommandArgs, resolveEnvFile, write, type Command } from './common.js';
import { configOrReport } from './command-config.js';
import { readableOutput } from './event-output.js';

/** Exit codes of `autodeploy run` beyond the job's own, chosen to match `docker run` and `timeout`. */
export const RUN_EXIT = { couldNotStart: 125, timedOut: 124, skipped: 75 } as const;

export function runExitCode(report: RunReport): number {
  switch (report.outcome) {
    case 'succeeded':
    case 'failed':
      return report.exitCode ?? EXIT.failed;
    case 'timed-out':
      return RUN_EXIT.timedOut;
    case 'skipped':
      return RUN_EXIT.skipped;
    case 'error':
    case 'interrupted':
      return RUN_EXIT.couldNotStart;
  }
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run one job now in its container, print its output, exit with its exit code',
  usage: 'autodeploy run <job> [--env-file FILE]',
  async run({ argv, env, stdout, stderr }) {
    const { values, positionals } = parseCommandArgs(argv, ENV_FILE_OPTION, true);
    if (positionals.length !== 1) throw new UsageError('name exactly one job to run (see `autodeploy jobs`)');
    const name = positionals[0] ?? '';
    const envFile = resolveEnvFile(values['env-file'], env);
    const docker = connectDocker({}, { ...env });
    const containers = dockerJobContainers(docker);
    // What the scheduler's own container says of itself, when this runs inside it (docker exec).
    const self = await containers.self();
    const config = await configOrReport(env, envFile, stderr, schedulerContext(self));
    if (config === undefined) return EXIT.usage;
    const job = config.jobs.find((j) => j.name === name);
    if (job === undefined) {
      throw new UsageError(`no job named "${name}" in ${envFile}; jobs: ${config.jobs.map((j) => j.name).join(', ') || '(none)'}`);
    }
    const settings = config.settings;
    const logs = openLogFiles({
      dir: settings.logDir,
      format: settings.logFormat,
      maxSize: settings.logMaxSize,
      keep: settings.logKeep,
      secrets: config.secrets,
    });
    const mask = createMasker(config.secrets);
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const report = await runJob(
        job,
        {
          containers,
          execs: dockerContainerExecs(docker),
          local: localCommands(env),
          logs,
          history: new RunHistory(settings.stateDir),
          instance: schedulerInstance(env, self, hostname()),
        },
        {
          origin: 'manual',
          signal: abort.signal,
          // The log keeps an event line's fields; the terminal gets its sentence.
          onOutput: (line) => write(line.stream === 'stderr' ? stderr : stdout, mask(readableOutput(line.text))),
        },
      );
      if (report.outcome !== 'succeeded' && report.outcome !== 'failed') {
        write(stderr, `autodeploy: ${job.name} ${report.outcome}${report.message ? `: ${mask(report.message)}` : ''}`);
      }
      for (const [index, trigger] of (report.triggers ?? []).entries()) {
        if (trigger.outcome !== 'succeeded') {
          write(stderr, `autodeploy: ${job.name} trigger #${index + 1} ${trigger.outcome}${trigger.message ? `: ${mask(trigger.message)}` : ''}`);
        }
      }
      return runExitCode(report);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await logs.close();
    }
  },
};
