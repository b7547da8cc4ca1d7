import { Daemon } from '../scheduler/daemon.js';
import { dockerContainerExecs } from '../docker/container-execs.js';
import { connectDocker, dockerJobContainers } from '../docker/job-containers.js';
import { localCommands } from '../process/local-commands.js';
import { BUILTIN_JOB_KINDS } from './job-kinds.js';
import { DaemonServices } from './daemon-services.js';
import { VERSION } from './version.js';
import { EXIT, ENV_FILE_OPTION, defaultsFile, parseCommandArgs, resolveEnvFile, type Command } from './common.js';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the scheduler daemon (what the container runs)',
  usage: 'autodeploy start [--env-file FILE]',
  async run({ argv, env }) {
    const { values } = parseCommandArgs(argv, ENV_FILE_OPTION);
    const envFile = resolveEnvFile(values['env-file'], env);
    const docker = connectDocker({}, { ...env });
    const services = new DaemonServices();
    const daemon = await Daemon.start({
      envFile,
      defaultsFile: defaultsFile(env),
      processEnv: { ...env },
      containers: dockerJobContainers(docker),
      execs: dockerContainerExecs(docker),
      local: localCommands(env),
      builtins: BUILTIN_JOB_KINDS,
      version: VERSION,
      stdout: true,
      onOutput: (run, line) => services.onOutput(run, line),
    });
    await services.attach(daemon);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        void services.stop().finally(() => daemon.stop()).then(resolve, resolve);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    return EXIT.ok;
  },
};
