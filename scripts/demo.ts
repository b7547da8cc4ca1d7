// `make demo`: builds a throwaway platform in a temporary directory, starts it with
// the scheduler component, and shows what an operator sees: the job table, jobs
// running in their own containers, their logs on the host. Everything it starts is
// removed at the end, also on failure or Ctrl-C.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPlatform, run, SCHEDULER_IMAGE, type Platform } from '../test/fixtures/platform.js';
import { TEST_IMAGE, eventually } from '../test/helpers/scheduler-env.js';

const step = (text: string): void => console.log(`\n\u001b[1m==> ${text}\u001b[0m`);
const show = (text: string): void => console.log(text.replace(/^/gm, '    '));

async function main(): Promise<void> {
  for (const image of [SCHEDULER_IMAGE, TEST_IMAGE]) {
    if ((await run('docker', ['image', 'inspect', image])).code !== 0) {
      throw new Error(`image ${image} is missing: run \`make demo\` (it builds the images), not this script alone`);
    }
  }
  let platform: Platform | undefined;
  const cleanUp = async (): Promise<void> => {
    if (!platform) return;
    step('Cleaning up: compose down, job containers removed');
    await platform.destroy();
    platform = undefined;
  };
  process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));
  try {
    step('Creating a throwaway platform');
    platform = await createPlatform({
      services: '  web:\n    image: autodeploy-test/busybox:latest\n    command: ["sh", "-c", "while true; do sleep 1; done"]\n',
      envLines: [
        'export AUTODEPLOY_JOB_HEARTBEAT_SCHEDULE="@every 3s"',
        `export AUTODEPLOY_JOB_HEARTBEAT_IMAGE="${TEST_IMAGE}"`,
        'export AUTODEPLOY_JOB_HEARTBEAT_COMMAND="sh -c \\"echo platform alive at \\$(date -u +%T); echo DB_PASSWORD is \\$DB_PASSWORD\\""',
        'export AUTODEPLOY_JOB_HEARTBEAT_ENV="DB_PASSWORD=demo-password-123"',
      ],
    });
    show(`COMPOSE_DIR  ${platform.composeDir}\nlog dir      ${platform.logDir}`);
    step('env.local (the operator edits only this)');
    show(await readFile(platform.envFile, 'utf8'));

    step('Starting the platform: ./pavics-compose.sh up -d');
    const up = await platform.compose('up', '-d');
    if (up.code !== 0) throw new Error(`compose up failed:\n${up.stderr}`);
    show((await run('docker', ['ps', '--filter', `label=com.docker.compose.project=${platform.project}`, '--format', '{{.Names}}\t{{.Image}}\t{{.Status}}'])).stdout);

    step('The job table: docker exec scheduler autodeploy jobs');
    show((await run('docker', ['exec', 'scheduler', 'autodeploy', 'jobs'])).stdout);

    step('Waiting for three runs of the heartbeat job, each in its own container');
    const log = join(platform.logDir, 'heartbeat.log');
    await eventually('three runs in heartbeat.log', async () => {
      const text = await readFile(log, 'utf8').catch(() => '');
      return (text.match(/run finished/g) ?? []).length >= 3 ? true : undefined;
    }, 60_000);
    step(`tail ${log}  (the secret from env.local is masked)`);
    show(await readFile(log, 'utf8'));

    step('autodeploy logs (the scheduler\'s own log, read back)');
    show((await run('docker', ['exec', 'scheduler', 'autodeploy', 'logs', '-n', '12'])).stdout);
  } finally {
    await cleanUp();
  }
  step('Done');
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
