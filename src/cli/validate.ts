import { formatIssue, place } from '../core/issues.js';
import { createMasker } from '../core/mask.js';
import { EXIT, ENV_FILE_OPTION, parseCommandArgs, resolveEnvFile, write, type Command } from './common.js';
import { readCommandConfig } from './command-config.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check env.local, the job files and the job table; print every problem as file:line: message',
  usage: 'autodeploy validate [--env-file FILE]',
  async run({ argv, env, stdout, stderr }) {
    const { values } = parseCommandArgs(argv, ENV_FILE_OPTION);
    const envFile = resolveEnvFile(values['env-file'], env);
    const result = await readCommandConfig(env, envFile);
    // A message may quote a value; a secret's never leaves through one.
    const mask = createMasker(result.ok ? result.config.secrets : (result.secrets ?? []));
    const say = (stream: NodeJS.WritableStream, text: string): void => write(stream, mask(text));
    for (const warning of result.ok ? result.config.warnings : result.warnings) {
      say(stderr, `${formatIssue({ ...warning, message: `warning: ${warning.message}` })}`);
    }
    if (!result.ok) {
      for (const issue of result.issues) say(stderr, formatIssue(issue));
      write(stderr, `${envFile}: ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}; nothing was changed`);
      return EXIT.failed;
    }
    const { jobs, refused } = result.config;
    const counted = `${jobs.length} job${jobs.length === 1 ? '' : 's'} (${jobs.filter((j) => j.enabled).length} enabled)`;
    if (refused.length > 0) {
      for (const r of refused) for (const issue of r.issues) say(stderr, formatIssue(issue));
      const names = refused.map((r) => r.name ?? place(r.source)).join(', ');
      write(stderr, `${envFile}: the settings are valid, ${counted} would run; refused: ${names} (each refused alone; fix and validate again)`);
      return EXIT.failed;
    }
    write(stdout, `${envFile}: valid, ${counted}`);
    return EXIT.ok;
  },
};
