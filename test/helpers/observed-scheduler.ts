// A real daemon with its HTTP server on 127.0.0.1 (any free port), its jobs run as commands in
// the test process (no image, no container): for the tests of metrics and the status page.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DaemonServices } from '../../src/cli/daemon-services.js';
import { formatEventLine, type EventData } from '../../src/core/event-line.js';
import type { JobContainers } from '../../src/core/ports.js';
import { localCommands } from '../../src/process/local-commands.js';
import { Daemon } from '../../src/scheduler/daemon.js';
import { daemonBase, makeScratch, TEST_PROCESS_ENV, type Scratch } from './scheduler-env.js';

/**
 * The jobs here are commands run in the scheduler: the daemon only asks the engine who it is and
 * which runs it left, and is told that it is no container and left none.
 */
export const NO_CONTAINERS: JobContainers = {
  self: async () => undefined,
  list: async () => [],
  inspect: async () => undefined,
  create: async () => {
    throw new Error('this scheduler runs no container');
  },
  start: async () => undefined,
  output: async function* () {},
  wait: async () => 0,
  stop: async () => undefined,
  remove: async () => undefined,
};

export const READ_TOKEN = 'status-read-token-0123456789abcdef';

export interface ObservedScheduler {
  readonly daemon: Daemon;
  readonly services: DaemonServices;
  readonly base: string;
  readonly port: number;
  readonly scratch: Scratch;
  /** Feeds the autodeploy job's event lines, as its container would print them. */
  deployEvents(run: string, events: readonly ({ readonly type: string } & Record<string, unknown>)[]): void;
  stop(): Promise<void>;
}

/**
 * `jobs` is a job file in docker-crontab's YAML; `env` more env.local lines. The autodeploy
 * job is off (no platform here): its events are fed by `deployEvents`.
 */
export async function startObservedScheduler(options: { jobs: string; env?: readonly string[] }): Promise<ObservedScheduler> {
  const scratch = await makeScratch('autodeploy-see-');
  const jobsDir = join(scratch.dir, 'jobs');
  await mkdir(jobsDir);
  await writeFile(join(jobsDir, 'jobs.yml'), options.jobs);
  const tokens = join(scratch.dir, 'tokens');
  await writeFile(tokens, `viewer read ${READ_TOKEN}\n`);
  await scratch.writeEnv([`AUTODEPLOY_JOBS_DIR=${jobsDir}`, `AUTODEPLOY_API_TOKENS_FILE=${tokens}`, 'AUTODEPLOY_PLATFORM_FREQUENCY=', ...(options.env ?? [])]);
  const services = new DaemonServices({ http: { host: '127.0.0.1', port: 0 } });
  const daemon = await Daemon.start({
    ...daemonBase(scratch),
    containers: NO_CONTAINERS,
    local: localCommands(TEST_PROCESS_ENV),
    heartbeatMs: 500,
    stopGraceSeconds: 1,
    onOutput: (run, line) => services.onOutput(run, line),
  });
  await services.attach(daemon);
  const port = services.port;
  if (port === undefined) {
    await daemon.stop();
    throw new Error('the HTTP server did not start');
  }
  return {
    daemon,
    services,
    base: `http://127.0.0.1:${port}`,
    port,
    scratch,
    deployEvents(run, events) {
      // What the daemon does with each line of a run: its `onOutput`, then its listeners.
      for (const event of events) {
        const line = { stream: 'stdout' as const, text: formatEventLine('deploy', event as EventData, `deploy ${event.type}`) };
        services.onOutput({ job: 'autodeploy', run }, line);
        daemon.emit('output', { job: 'autodeploy', run }, line);
      }
    },
    async stop() {
      await services.stop();
      await daemon.stop();
    },
  };
}
