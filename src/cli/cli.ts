import { VERSION } from '../version.js';
import { EXIT, UsageError, write, type Command, type CommandContext } from './common.js';
import { deployCommand } from './deploy.js';
import { healthCommand } from './health.js';
import { jobsCommand } from './jobs.js';
import { logsCommand } from './logs.js';
import { runCommand } from './run.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { validateCommand } from './validate.js';

export const COMMANDS: readonly Command[] = [
  startCommand,
  jobsCommand,
  validateCommand,
  runCommand,
  logsCommand,
  statusCommand,
  deployCommand,
  healthCommand,
];

function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: autodeploy <command> [options]',
    '',
    'Keeps a docker-compose platform deployed from git and runs its scheduled jobs, each in its own container.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help. env.local is --env-file, else $AUTODEPLOY_ENV_FILE, else $COMPOSE_DIR/env.local.',
  ].join('\n');
}

/** The whole CLI as a function, so tests run it in-process; only the entry point below exits. */
export async function main(context: CommandContext): Promise<number> {
  const [name, ...rest] = context.argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    write(name === undefined ? context.stderr : context.stdout, mainUsage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    write(context.stdout, VERSION);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    write(context.stderr, `autodeploy: unknown command "${name}"\n\n${mainUsage()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    write(context.stdout, `usage: ${command.usage}\n\n${command.summary}`);
    return EXIT.ok;
  }
  if (rest.includes('--version')) {
    write(context.stdout, VERSION);
    return EXIT.ok;
  }
  try {
    return await command.run({ ...context, argv: rest });
  } catch (error) {
    if (error instanceof UsageError) {
      write(context.stderr, `autodeploy ${command.name}: ${error.message}\nusage: ${command.usage}`);
      return EXIT.usage;
    }
    write(context.stderr, `autodeploy ${command.name}: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  }
}
