// Checking 20 checkouts over SSH, each with its own deploy key, when none changed: the
// autodeploy check (parallel fetch of each upstream branch, then the verdicts) against
// birdhouse-deploy's triggerdeploy.sh loop and against the floor of one ls-remote each.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkCheckouts } from '../src/autodeploy/check.js';
import { cloneCheckout, createBareUpstream, deployKeySshCommand, generateDeployKey } from '../test/fixtures/git-repos.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runChecked } from './processes.js';
import { makeScratchDir } from './scratch.js';
import type { BenchContext, ResultRow, Section, SectionResult } from './section.js';
import { median, ms } from './stats.js';

const CHECKOUTS = 20;
const SAMPLES = 7;
const TARGET_RATIO_TO_FLOOR = 1.2;

interface Checkout {
  readonly path: string;
  readonly key: string;
  readonly sshCommand: string;
}

/**
 * What triggerdeploy.sh does for each checkout, one after the other: `git fetch --prune --all`
 * with the checkout's key, then the behind and ahead counts. Host keys are checked against the
 * same pinned file as the others (the script itself turns checking off).
 */
const SHELL_LOOP = `
set -e
while IFS='|' read -r dir ssh_command; do
  cd "$dir"
  GIT_SSH_COMMAND="$ssh_command" git fetch --prune --all --quiet
  git rev-list --right-only --count "main...origin/main" >/dev/null
  git rev-list --left-only --count "main...origin/main" >/dev/null
done < "$1"
`;

async function timed(task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

export const checkoutsSection: Section = {
  name: `Checking ${CHECKOUTS} checkouts over SSH, nothing changed`,
  async run(context: BenchContext): Promise<SectionResult> {
    const scratch = await makeScratchDir('autodeploy-bench-ssh-');
    const undoScratch = context.cleanups.add(() => scratch.remove());
    let server: ChildProcess | undefined;
    const undoServer = context.cleanups.add(async () => {
      server?.stdin?.end();
      if (server && server.exitCode === null) await once(server, 'exit');
    });
    try {
      const root = scratch.dir;
      const keyDir = join(root, 'keys');
      const knownHosts = join(root, 'known_hosts');
      const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };

      const names = Array.from({ length: CHECKOUTS }, (_, i) => `repo${String(i + 1).padStart(2, '0')}`);
      const keys = [];
      for (const name of names) {
        context.signal.throwIfAborted();
        await createBareUpstream(join(root, 'upstream'), name, { 'README': `${name}\n`, 'docker-compose.yml': 'services: {}\n' });
        keys.push({ repo: name, key: await generateDeployKey(keyDir, `${name}_deploy_key`) });
      }
      server = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./ssh-server-child.ts', import.meta.url)), JSON.stringify({ root: join(root, 'upstream'), keys: keys.map((k) => ({ repo: k.repo, publicKey: k.key.publicKey })) })], { stdio: ['pipe', 'pipe', 'inherit'] });
      const replies = createInterface({ input: server.stdout! })[Symbol.asyncIterator]();
      const reply = async <T>(): Promise<T> => JSON.parse(((await replies.next()).value as string | undefined) ?? 'null') as T;
      const { port, knownHostsLine } = await reply<{ port: number; knownHostsLine: string }>();
      const stats = async (): Promise<{ uploadPackSessions: number }> => {
        server?.stdin?.write('stats\n');
        return reply();
      };
      await writeFile(knownHosts, `${knownHostsLine}\n`);

      const checkouts: Checkout[] = [];
      for (const { repo, key } of keys) {
        context.signal.throwIfAborted();
        const sshCommand = deployKeySshCommand({ privateKeyPath: key.privateKeyPath, knownHostsPath: knownHosts, strictHostKeyChecking: 'yes' });
        const path = await cloneCheckout(`ssh://git@127.0.0.1:${port}/${repo}.git`, join(root, 'checkouts', repo), { sshCommand });
        checkouts.push({ path, key: key.privateKeyPath, sshCommand });
      }

      const scheduler = async (): Promise<void> => {
        const report = await checkCheckouts({ checkouts: checkouts.map((c) => c.path), keyRootDir: keyDir, pinnedKnownHosts: knownHosts, stateDir: join(root, 'state'), failed: undefined });
        const wrong = report.verdicts.filter((v) => v.verdict !== 'up-to-date');
        if (wrong.length > 0) throw new Error(`expected every checkout up to date: ${wrong.map((v) => `${v.path}: ${v.reason}`).join('; ')}`);
      };
      const shellLoop = async (): Promise<void> => {
        const list = join(root, 'checkouts.list');
        await writeFile(list, checkouts.map((c) => `${c.path}|${c.sshCommand}`).join('\n') + '\n');
        await runChecked('bash', ['-c', SHELL_LOOP, 'triggerdeploy-loop', list], { env: gitEnv });
      };
      const floor = async (): Promise<void> => {
        await Promise.all(checkouts.map((c) => runChecked('git', ['ls-remote', 'origin', 'refs/heads/main'], { cwd: c.path, env: { ...gitEnv, GIT_SSH_COMMAND: c.sshCommand } })));
      };

      // One warm-up of each, then interleaved samples so that machine noise hits all three alike.
      await scheduler();
      await shellLoop();
      await floor();
      const samples = { scheduler: [] as number[], shell: [] as number[], floor: [] as number[] };
      const uploadPacksBefore = (await stats()).uploadPackSessions;
      for (let i = 0; i < SAMPLES; i++) {
        context.signal.throwIfAborted();
        samples.scheduler.push(await timed(scheduler));
        samples.shell.push(await timed(shellLoop));
        samples.floor.push(await timed(floor));
      }
      const sessions = (await stats()).uploadPackSessions - uploadPacksBefore;

      const s = median(samples.scheduler);
      const loop = median(samples.shell);
      const f = median(samples.floor);
      const ratio = s / f;
      const rows: ResultRow[] = [
        { metric: `autodeploy check, ${CHECKOUTS} checkouts, median`, measured: ms(s), baseline: `${ms(f)} floor`, target: `<= ${TARGET_RATIO_TO_FLOOR}x floor`, verdict: ratio <= TARGET_RATIO_TO_FLOOR ? 'PASS' : 'MISS' },
        { metric: 'ratio to the floor (parallel ls-remote)', measured: `${ratio.toFixed(2)}x`, baseline: '1.00x', target: `<= ${TARGET_RATIO_TO_FLOOR}x`, verdict: ratio <= TARGET_RATIO_TO_FLOOR ? 'PASS' : 'MISS' },
        { metric: 'ratio to the triggerdeploy.sh loop', measured: `${(s / loop).toFixed(2)}x`, baseline: `${ms(loop)} loop`, target: '< 0.50x', verdict: s / loop < 0.5 ? 'PASS' : 'MISS' },
      ];
      return {
        rows,
        notes: [
          `${SAMPLES} samples each after a warm-up, interleaved; medians. One SSH git server on loopback (ssh2, in its own process), one ed25519 deploy key per repository, host key pinned.`,
          '  autodeploy check: checkCheckouts (the code of `autodeploy status` and of every deploy run), all checkouts at once: per checkout',
          '    an ls-remote of its remote (all started at once by one shell), `git status` and `git config` meanwhile, and a fetch only when the branch moved.',
          '  triggerdeploy.sh loop: per checkout in turn, `git fetch --prune --all` with its key, then `git rev-list --count` both ways.',
          '  floor: one `git ls-remote` per checkout, all at once: an SSH handshake and a ref advertisement each.',
          `  git sessions the server served during the samples: ${sessions} (${SAMPLES} x ${CHECKOUTS} checkouts x 3 ways).`,
          `  all samples (ms), check: ${samples.scheduler.map((v) => v.toFixed(0)).join(' ')}`,
          `  all samples (ms), loop:  ${samples.shell.map((v) => v.toFixed(0)).join(' ')}`,
          `  all samples (ms), floor: ${samples.floor.map((v) => v.toFixed(0)).join(' ')}`,
        ],
      };
    } finally {
      await undoServer();
      await undoScratch();
    }
  },
};
