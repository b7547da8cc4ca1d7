import { spawn } from 'node:child_process';
import { mkdir, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockHolderAlive } from '../../src/cli/deploy-setup.js';
import { dockerMountingContainers } from '../../src/docker/mounting-containers.js';
import { connectDocker } from '../../src/docker/job-containers.js';
import { runNotebookDeploy, type NotebookReport } from '../../src/notebooks/notebook-deploy.js';
import type { NotebookSource } from '../../src/core/notebook-source.js';
import { notebookEventText } from '../../src/core/notebook-event-text.js';
import { cloneCheckout, commitFiles, createBareUpstream, git, makeTempDir, removeTempDir } from '../fixtures/git-repos.js';
import { run } from '../fixtures/platform.js';
import { TEST_IMAGE } from '../helpers/scheduler-env.js';

// What readers of the target see while sets are published: a reader on the host never sees a
// mix of two sets, an empty folder or no folder; a running container keeps the set it started
// with; old versions go once no running container can have them.

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('notebook-readers');
});

afterAll(async () => {
  await removeTempDir(dir);
});

/** Set k: `common.ipynb`, `only-<k>.ipynb`, and `even.ipynb` when k is even; every file says "set k". */
function setFiles(k: number): Record<string, string> {
  const text = `{"set": ${k}}\n`;
  return { 'common.ipynb': text, [`only-${k}.ipynb`]: text, ...(k % 2 === 0 ? { 'even.ipynb': text } : {}) };
}

/** Makes set k the content of the upstream's main branch (files of other sets removed). */
async function pushSet(bare: string, k: number): Promise<void> {
  const scratch = await makeTempDir('notebook-set');
  try {
    const work = await cloneCheckout(bare, path.join(scratch, 'work'));
    const stale = (await readdir(work)).filter((f) => f.endsWith('.ipynb') && !(f in setFiles(k)));
    if (stale.length > 0) await git(work, 'rm', '--quiet', '--', ...stale);
    await commitFiles(work, setFiles(k), `Set ${k}`);
    await git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
  } finally {
    await removeTempDir(scratch);
  }
}

function publisher(root: string, bare: string, pruneMarginMs?: number) {
  const target = path.join(root, 'user-data', 'tutorial-notebooks');
  const lines: string[] = [];
  const sources: NotebookSource[] = [{ url: bare, ref: 'main', subdir: '', glob: '*.ipynb', dest: '', line: undefined }];
  const publish = async (): Promise<NotebookReport> => {
    const report = await runNotebookDeploy({
      sources,
      target,
      owner: { uid: 0, gid: 0 },
      stateDir: path.join(root, 'state'),
      keyRootDir: undefined,
      pinnedKnownHosts: undefined,
      containers: dockerMountingContainers(connectDocker()),
      isLockHolderAlive: lockHolderAlive(process.env),
      onEvent: (event) => lines.push(notebookEventText(event)),
      dryRun: false,
      ...(pruneMarginMs === undefined ? {} : { pruneMarginMs }),
    });
    if (report.outcome !== 'published') throw new Error(`expected a publish, got ${report.outcome}: ${report.message}`);
    return report;
  };
  return { target, lines, publish };
}

// A separate process, so that it reads while this one publishes. Each round lists the target
// through the link (one look-up of the link), then reads a whole snapshot after resolving the
// link once; the two may see different sets, each must see a whole one.
const READER = `
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
const target = process.argv[1];
const seen = {};
const errors = [];
let rounds = 0;
let stop = false;
process.stdin.on('data', () => {});
process.stdin.on('end', () => { stop = true; });
const deadline = Date.now() + 120000;
const round = () => {
  try {
    const listed = readdirSync(target).sort().join(',');
    const real = realpathSync(target);
    const names = readdirSync(real).sort();
    const contents = [...new Set(names.map((n) => readFileSync(real + '/' + n, 'utf8').trim()))].join('|');
    for (const key of ['listing ' + listed, 'snapshot ' + names.join(',') + ' ' + contents]) seen[key] = (seen[key] ?? 0) + 1;
  } catch (error) {
    errors.push(String(error && error.code || error));
  }
  rounds += 1;
};
const loop = () => {
  if (stop || Date.now() > deadline) {
    process.stdout.write(JSON.stringify({ rounds, seen, errors: errors.slice(0, 20), errorCount: errors.length }));
    return;
  }
  for (let i = 0; i < 20; i += 1) round();
  if (rounds === 20) process.stderr.write('ready\\n');
  setImmediate(loop);
};
loop();
`;

interface ReaderResult {
  rounds: number;
  seen: Record<string, number>;
  errors: string[];
  errorCount: number;
}

function startReader(target: string): { ready: Promise<void>; stop: () => Promise<ReaderResult> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', READER, target], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('ready')) resolve();
    });
    child.once('close', (code) => reject(new Error(`the reader ended before it was ready (${String(code)}): ${stderr}`)));
  });
  const done = new Promise<ReaderResult>((resolve, reject) => {
    child.once('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as ReaderResult);
      } catch {
        reject(new Error(`the reader exited with ${String(code)}: ${stderr}`));
      }
    });
  });
  return {
    ready,
    stop: async () => {
      child.stdin.end();
      return done;
    },
  };
}

describe('readers of the target during publishes', () => {
  it('never see a partial set, an empty folder or no folder while five sets are published in turn', async () => {
    const root = path.join(dir, 'reader');
    const bare = await createBareUpstream(path.join(root, 'upstreams'), 'sets', setFiles(1));
    const p = publisher(root, bare);
    await p.publish();

    const reader = startReader(p.target);
    await reader.ready;
    for (let k = 2; k <= 6; k += 1) {
      await pushSet(bare, k);
      await p.publish();
    }
    const result = await reader.stop();

    expect(result.errors).toEqual([]);
    expect(result.rounds).toBeGreaterThan(200);
    const valid = new Map<string, number>();
    for (let k = 1; k <= 6; k += 1) {
      const names = Object.keys(setFiles(k)).sort().join(',');
      valid.set(`listing ${names}`, k);
      valid.set(`snapshot ${names} {"set": ${k}}`, k);
    }
    const observed = Object.keys(result.seen);
    for (const key of observed) expect(valid.has(key), `a reader saw: ${key}`).toBe(true);
    // It read throughout: before the first swap, and after the last.
    const sets = new Set(observed.filter((key) => key.startsWith('snapshot ')).map((key) => valid.get(key)));
    expect(sets.has(1)).toBe(true);
    expect(sets.has(6)).toBe(true);
  });

  it('do see partial sets when a directory is rewritten in place, as the reference script does', async () => {
    // The same reader against the reference's way (empty the folder, copy the new files in):
    // it must catch a partial set, or the test above would prove nothing.
    const target = path.join(dir, 'in-place', 'tutorial-notebooks');
    await mkdir(target, { recursive: true });
    const write = async (k: number): Promise<void> => {
      for (const [name, text] of Object.entries(setFiles(k))) await writeFile(path.join(target, name), text);
    };
    await write(1);
    const reader = startReader(target);
    await reader.ready;
    for (let k = 2; k <= 200; k += 1) {
      for (const name of await readdir(target)) await rm(path.join(target, name));
      await write(k);
    }
    const result = await reader.stop();
    const whole = (key: string): boolean =>
      Array.from({ length: 200 }, (_, i) => i + 1).some((k) => {
        const names = Object.keys(setFiles(k)).sort().join(',');
        return key === `listing ${names}` || key === `snapshot ${names} {"set": ${k}}`;
      });
    const partial = Object.keys(result.seen).filter((key) => !whole(key));
    expect(partial.length + result.errorCount).toBeGreaterThan(0);
  });
});

describe('running containers and old versions', () => {
  const containers: string[] = [];

  afterAll(async () => {
    if (containers.length > 0) await run('docker', ['rm', '-f', ...containers]);
  });

  async function startServer(name: string, target: string): Promise<string> {
    const full = `${name}-${Math.random().toString(36).slice(2, 8)}`;
    // As JupyterHub's spawner does: the target bind-mounted, read-only, into the user's container.
    const started = await run('docker', ['run', '-d', '--name', full, '-v', `${target}:/notebook_dir/tutorial-notebooks:ro`, TEST_IMAGE, 'sleep', '600']);
    if (started.code !== 0) throw new Error(`docker run: ${started.stderr}`);
    containers.push(full);
    return full;
  }

  async function shown(container: string): Promise<string> {
    const result = await run('docker', ['exec', container, 'sh', '-c', 'cd /notebook_dir/tutorial-notebooks && ls && cat common.ipynb']);
    if (result.code !== 0) throw new Error(`docker exec: ${result.stderr}`);
    return result.stdout;
  }

  it('leave a running server with the set it started with, give a new server the new set, and are removed once no container can show them', async () => {
    const root = path.join(dir, 'servers');
    const bare = await createBareUpstream(path.join(root, 'upstreams'), 'served', setFiles(1));
    // No margin: every step here is awaited, so each server's start is cleanly between two swaps.
    const p = publisher(root, bare, 0);
    const v1 = await p.publish();
    const alice = await startServer('nb-alice', p.target);
    expect(await shown(alice)).toBe('common.ipynb\nonly-1.ipynb\n{"set": 1}\n');

    await pushSet(bare, 2);
    const v2 = await p.publish();
    // Alice's server still shows set 1, whole; the host sees set 2.
    expect(await shown(alice)).toBe('common.ipynb\nonly-1.ipynb\n{"set": 1}\n');

    await pushSet(bare, 3);
    const v3 = await p.publish();
    expect(v3.removedVersions).toEqual([]);
    expect(v3.keptVersions.find((k) => k.id === v1.version)?.why).toMatch(new RegExp(`^mounted by the running container ${alice}, started `));

    await pushSet(bare, 4);
    const v4 = await p.publish();
    // Set 2 was never current while a server started: it goes; set 1 stays for Alice.
    expect(v4.removedVersions).toEqual([v2.version]);
    expect(await shown(alice)).toBe('common.ipynb\nonly-1.ipynb\n{"set": 1}\n');
    const bob = await startServer('nb-bob', p.target);
    expect(await shown(bob)).toBe('common.ipynb\neven.ipynb\nonly-4.ipynb\n{"set": 4}\n');

    // Alice's server stops: the next publish removes set 1 (and set 3, no longer previous).
    const removed = await run('docker', ['rm', '-f', alice]);
    expect(removed.code).toBe(0);
    await pushSet(bare, 5);
    const v5 = await p.publish();
    expect([...v5.removedVersions].sort()).toEqual([v1.version, v3.version].sort());
    expect(v5.keptVersions.map((k) => k.id).sort()).toEqual([v4.version, v5.version].sort());
    expect(await shown(bob)).toBe('common.ipynb\neven.ipynb\nonly-4.ipynb\n{"set": 4}\n');
    expect(path.basename(await readlink(p.target))).toBe(v5.version);
    const versionsDir = path.join(path.dirname(p.target), '.tutorial-notebooks.d');
    expect((await readdir(versionsDir)).filter((e) => !e.endsWith('.json')).sort()).toEqual([v4.version, v5.version].sort());
  });
});
