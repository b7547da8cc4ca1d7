// `make demo`: a throwaway platform in a temporary directory, as an operator would have it:
// COMPOSE_DIR is a git checkout of an upstream repository, holding docker-compose.yml, the
// compose wrapper and the scheduler component; env.local sets a fast autodeploy frequency
// and one extra job. The demo then pushes three changes upstream and shows the scheduler
// deploying the first, updating itself with the second, and rolling back the third, which
// breaks a service. Everything it starts is removed at the end, also on failure or Ctrl-C.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BROKEN_WEB, createGitPlatform, HEALTHY_WEB, requireImages, run, SCHEDULER_IMAGE, webCompose, type GitPlatform } from '../test/fixtures/platform.js';
import { TEST_IMAGE, eventually } from '../test/helpers/scheduler-env.js';

const NEXT_IMAGE = 'autodeploy-scheduler:demo-next';
const bold = (text: string): string => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[0m` : text);
const step = (text: string): void => console.log(`\n${bold(`==> ${text}`)}`);
const show = (text: string): void => console.log(text.trimEnd().replace(/^/gm, '    '));


async function logSince(platform: GitPlatform, name: string, offset: number): Promise<string> {
  return (await platform.readLog(name)).slice(offset);
}

async function logSize(platform: GitPlatform, name: string): Promise<number> {
  return (await platform.readLog(name)).length;
}

/** Waits for the next autodeploy run that ends with `pattern`, and shows its lines. */
async function showDeploy(platform: GitPlatform, offset: number, pattern: RegExp): Promise<void> {
  const text = await eventually(`an autodeploy run matching ${pattern}`, async () => {
    const t = await logSince(platform, 'autodeploy', offset);
    return pattern.test(t) ? t : undefined;
  }, 180_000);
  const lines = text.split('\n');
  const end = lines.findIndex((l) => pattern.test(l));
  const start = lines.slice(0, end).map((l) => /run started/.test(l)).lastIndexOf(true);
  show(lines.slice(Math.max(0, start), end + 3).join('\n'));
}

async function main(): Promise<void> {
  await requireImages([SCHEDULER_IMAGE, TEST_IMAGE], 'run `make demo` (it builds the images), not this script alone');
  let platform: GitPlatform | undefined;
  const cleanUp = async (): Promise<void> => {
    if (!platform) return;
    step('Cleaning up: compose down, job containers and the temporary directory removed');
    await platform.destroy();
    await run('docker', ['rmi', NEXT_IMAGE]);
    platform = undefined;
  };
  process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));
  try {
    step('Creating a throwaway platform: a bare upstream repository and its checkout');
    platform = await createGitPlatform({
      files: { 'docker-compose.yml': webCompose(HEALTHY_WEB), 'www/index.html': 'version 1\n' },
      envLines: [
        'export AUTODEPLOY_PLATFORM_FREQUENCY="@every 5s"',
        'export AUTODEPLOY_NOTEBOOK_FREQUENCY=""',
        'export AUTODEPLOY_VERIFY_TIMEOUT="60s"',
        'export AUTODEPLOY_JOB_HEARTBEAT_SCHEDULE="@every 10s"',
        `export AUTODEPLOY_JOB_HEARTBEAT_IMAGE="${TEST_IMAGE}"`,
        'export AUTODEPLOY_JOB_HEARTBEAT_COMMAND="sh -c \\"echo platform alive; echo DB_PASSWORD is \\$DB_PASSWORD\\""',
        'export AUTODEPLOY_JOB_HEARTBEAT_ENV="DB_PASSWORD=demo-password-123"',
      ],
    });
    await run('docker', ['tag', SCHEDULER_IMAGE, NEXT_IMAGE]);
    show(`upstream     ${platform.upstream}\nCOMPOSE_DIR  ${platform.composeDir}\nlog dir      ${platform.logDir}`);
    step('env.local: the only file the operator edits');
    show(await readFile(platform.envFile, 'utf8'));

    step('Starting the platform once by hand: ./pavics-compose.sh up -d');
    const up = await platform.compose('up', '-d');
    if (up.code !== 0) throw new Error(`compose up failed:\n${up.stderr}`);
    show((await run('docker', ['ps', '--filter', `label=com.docker.compose.project=${platform.project}`, '--format', '{{.Names}}\t{{.Image}}\t{{.Status}}'])).stdout);
    step('docker exec scheduler autodeploy jobs');
    show((await run('docker', ['exec', 'scheduler', 'autodeploy', 'jobs'])).stdout);

    step('1. A change is merged upstream: the scheduler deploys it');
    let offset = await logSize(platform, 'autodeploy');
    const v2 = await platform.push({ 'www/index.html': 'version 2\n' }, 'Publish version 2 of the page');
    show(`pushed ${v2.slice(0, 8)} "Publish version 2 of the page"`);
    await showDeploy(platform, offset, /deploy succeeded/);
    show(`web now serves: ${(await run('docker', ['exec', `${platform.project}_web_1`, 'cat', '/www/index.html'])).stdout}`);

    step('2. The scheduler\'s own definition changes upstream: it updates itself');
    const before = JSON.parse((await run('docker', ['inspect', 'scheduler'])).stdout)[0] as { Id: string };
    const componentPath = join(platform.composeDir, 'components/scheduler/docker-compose-extra.yml');
    const component = (await readFile(componentPath, 'utf8')).replace(/image: .*/, `image: ${NEXT_IMAGE}`);
    offset = await logSize(platform, 'autodeploy');
    await platform.push({ 'components/scheduler/docker-compose-extra.yml': component }, 'Run the scheduler from the next image');
    await showDeploy(platform, offset, /deploy succeeded/);
    const after = await eventually('the new scheduler to be healthy', async () => {
      const info = JSON.parse((await run('docker', ['inspect', 'scheduler'])).stdout || '[]')[0] as { Id: string; Config: { Image: string }; State: { Health?: { Status: string } } } | undefined;
      return info && info.Id !== before.Id && info.State.Health?.Status === 'healthy' ? info : undefined;
    }, 120_000);
    show(`scheduler container ${before.Id.slice(0, 12)} -> ${after.Id.slice(0, 12)}, image ${after.Config.Image}, healthy`);

    step('3. A change that breaks a service is merged: the deploy is verified, fails, and is rolled back');
    offset = await logSize(platform, 'autodeploy');
    await platform.push({ 'docker-compose.yml': webCompose(BROKEN_WEB, 'always') }, 'Break the web service');
    await showDeploy(platform, offset, /deploy failed and was rolled back/);
    show(`checkout HEAD is back at ${(await platform.head()).slice(0, 8)}; web: ${(await run('docker', ['inspect', '-f', '{{.State.Health.Status}}', `${platform.project}_web_1`])).stdout.trim()}`);
    offset = await logSize(platform, 'autodeploy');
    await showDeploy(platform, offset, /waiting for a newer commit/);

    step('The extra job\'s log (the secret from env.local is masked)');
    show((await logSince(platform, 'heartbeat', 0)).split('\n').slice(0, 4).join('\n'));
    step('docker exec scheduler autodeploy status');
    show((await run('docker', ['exec', 'scheduler', 'autodeploy', 'status'])).stdout);
  } finally {
    await cleanUp();
  }
  step('Done');
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
