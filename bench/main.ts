// `npm run bench`: speed and memory of the scheduler, each against a baseline
// measured in the same run. Prints one table per section and a summary line.
// Exit status: 0 when every section ran (whatever PASS/MISS says), 1 when a
// section could not run, 2 when nothing could (no engine, no test image).

import { access, constants } from 'node:fs/promises';
import { cpus } from 'node:os';
import type Docker from 'dockerode';
import { connectDocker } from '../src/docker/job-containers.js';
import { REPO_ROOT, TEST_IMAGE } from '../test/helpers/scheduler-env.js';
import { Cleanups } from './cleanups.js';
import { checkoutsSection } from './checkouts.js';
import { latencySection } from './latency.js';
import { memorySection } from './memory.js';
import { pushToDeploySection } from './push-to-deploy.js';
import { scrapeSection } from './scrape.js';
import { saturationSection } from './saturation.js';
import { runCommand } from './processes.js';
import { BenchUnavailable, type BenchContext, type ResultRow, type Section } from './section.js';
import { renderTable } from './table.js';

/** Every section, in the order they run. Add a new one here. */
const SECTIONS: readonly Section[] = [latencySection, saturationSection, memorySection, checkoutsSection, pushToDeploySection, scrapeSection];

const interrupt = new AbortController();

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** `/usr/local/bin/docker` may be a different client that shadows Debian's; prefer /usr/bin/docker. */
async function findDockerCli(): Promise<string> {
  for (const candidate of ['/usr/bin/docker', '/usr/local/bin/docker']) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return 'docker';
}

async function preflight(needsDocker: boolean): Promise<{ context: BenchContext; engine: string; cliVersion: string }> {
  const docker: Docker = connectDocker();
  if (!needsDocker) {
    return { context: { repoRoot: REPO_ROOT, docker, dockerCli: 'docker', testImage: TEST_IMAGE, cleanups: new Cleanups(), signal: interrupt.signal }, engine: 'not needed', cliVersion: 'not needed' };
  }
  let engine: string;
  try {
    const version = await Promise.race([
      docker.version(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref()),
    ]);
    engine = `${version.Version} (API ${version.ApiVersion})`;
  } catch (error) {
    throw new BenchUnavailable(`no Docker engine answers (${(error as Error).message}): run scripts/ensure-docker.sh`, { cause: error });
  }
  try {
    await docker.getImage(TEST_IMAGE).inspect();
  } catch (error) {
    throw new BenchUnavailable(`the test image ${TEST_IMAGE} is missing: run scripts/build-test-images.sh busybox`, { cause: error });
  }
  const dockerCli = await findDockerCli();
  let cliVersion: string;
  try {
    const result = await runCommand(dockerCli, ['version', '--format', '{{.Client.Version}}']);
    cliVersion = result.code === 0 ? result.stdout.trim() : 'unknown';
  } catch (error) {
    throw new BenchUnavailable(`the docker CLI ${dockerCli} cannot be run: run scripts/ensure-docker.sh`, { cause: error });
  }
  return { context: { repoRoot: REPO_ROOT, docker, dockerCli, testImage: TEST_IMAGE, cleanups: new Cleanups(), signal: interrupt.signal }, engine, cliVersion };
}

async function main(): Promise<number> {
  // `npm run bench -- ssh` runs only the sections whose name contains "ssh".
  const wanted = process.argv.slice(2).map((w) => w.toLowerCase());
  const sections = SECTIONS.filter((section) => wanted.length === 0 || wanted.some((w) => section.name.toLowerCase().includes(w)));
  let setup;
  try {
    setup = await preflight(sections.some((section) => section.needsDocker !== false));
  } catch (error) {
    say(`bench: cannot run: ${(error as Error).message}`);
    return 2;
  }
  const { context, engine, cliVersion } = setup;
  const interrupted = (signal: NodeJS.Signals): void => {
    say(`\nbench: ${signal}: removing what the running section created`);
    interrupt.abort(new Error(`interrupted by ${signal}`));
    void context.cleanups.runAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  say(`autodeploy-scheduler benchmark, ${new Date().toISOString()}`);
  say(`node ${process.version}, ${cpus().length} CPUs, Docker engine ${engine}, docker CLI ${context.dockerCli} (client ${cliVersion})`);

  const verdicts: ResultRow['verdict'][] = [];
  const failed: string[] = [];
  for (const section of sections) {
    say();
    say(`== ${section.name} ==`);
    const started = Date.now();
    try {
      const result = await section.run(context);
      say(renderTable(result.rows));
      for (const note of result.notes) say(`  ${note}`);
      say(`  (section took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      verdicts.push(...result.rows.map((r) => r.verdict));
    } catch (error) {
      if (context.signal.aborted) {
        say('interrupted');
        await context.cleanups.runAll();
        return 130;
      }
      failed.push(section.name);
      say(`could not run: ${error instanceof Error ? error.message : String(error)}`);
      if (error instanceof Error && error.cause instanceof Error) say(`  cause: ${error.cause.message}`);
    }
  }

  const pass = verdicts.filter((v) => v === 'PASS').length;
  const miss = verdicts.filter((v) => v === 'MISS').length;
  say();
  say(
    `summary: ${pass} PASS, ${miss} MISS` +
      (failed.length > 0 ? `, ${failed.length} of ${sections.length} sections could not run (${failed.join('; ')})` : `, all ${sections.length} sections ran`),
  );
  return failed.length > 0 ? 1 : 0;
}

const code = await main();
// An idle keep-alive socket to the engine would hold the process open; exit once stdout is written.
process.stdout.write('', () => process.exit(code));
