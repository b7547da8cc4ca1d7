import { VERSION } from './version.js';
import { EXIT, UsageError, write, type Command, type CommandContext } from './common.js';

/**
 * Each command is loaded when it is used: the daemon (`start`) must not carry the deploy and
 * notebook code, nor the CLI's `--version` the daemon's.
 */
const LOADERS: Readonly<Record<string, () => Promise<Command>>> = {
  start: async () => (await import('./start.js')).startCommand,
  jobs: async () => (await import('./jobs.js')).jobsCommand,
  validate: async () => (await import('./validate.js')).validateCommand,
  run: async () => (await import('./run.js')).runCommand,
  logs: async () => (await import('./logs.js')).logsCommand,
  status: async () => (await import('./status.js')).statusCommand,
  deploy: async () => (await import('./deploy.js')).deployCommand,
  notebooks: async () => (await import('./notebooks.js')).notebooksCommand,
  health: async () => (await import('./health.js')).healthCommand,
};

export async function loadCommands(): Promise<Command[]> {
  return Promise.all(Object.values(LOADERS).map((load) => load()));
}

function mainUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: autodeploy <command> [options]',
    '',
    'Keeps a docker-compose platform deployed from git and runs its scheduled jobs, each in its own container.',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help. env.local is --env-file, else $AUTODEPLOY_ENV_FILE, else $BIRDHOUSE_LOCAL_ENV, else $COMPOSE_DIR/env.local.',
  ].join('\n');
}

/** The whole CLI as a function, so tests run it in-process; only the entry point below exits. */
export async function main(context: CommandContext): Promise<number> {
  const [name, ...rest] = context.argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    write(name === undefined ? context.stderr : context.stdout, mainUsage(await loadCommands()));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    write(context.stdout, VERSION);
    return EXIT.ok;
  }
  const load = Object.hasOwn(LOADERS, name) ? LOADERS[name] : undefined;
  if (load === undefined) {
    write(context.stderr, `autodeploy: unknown command "${name}"\n\n${mainUsage(await loadCommands())}`);
    return EXIT.usage;
  }
  const command = await load();
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
