// Deploys racing for a lock left by a deploy that died, or that is stuck past its deadline:
// exactly one takes it over, every time, and a stuck holder that wakes up cannot undo that.
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDeployLock, type LockHolder } from '../../src/state/lock.js';
import { makeTempDir, removeTempDir } from '../fixtures/git-repos.js';
import { REPO_ROOT } from '../helpers/scheduler-env.js';

let stateDir: string;

beforeEach(async () => {
  stateDir = await makeTempDir('autodeploy-lock-fault');
});

afterEach(async () => {
  await removeTempDir(stateDir);
});

const STALE_PID = 999_999;
const lockFile = (): string => join(stateDir, 'deploy.lock');

async function plantStale(holder: Partial<LockHolder> = {}): Promise<LockHolder> {
  const stale: LockHolder = { host: 'dead-container', pid: STALE_PID, startedAt: new Date().toISOString(), purpose: 'deploy', ...holder };
  await writeFile(lockFile(), `${JSON.stringify(stale)}\n`);
  return stale;
}

describe('a stale deploy lock', () => {
  it('goes to exactly one of many deploys that find it at once, round after round', async () => {
    for (let round = 0; round < 200; round += 1) {
      await plantStale();
      // Each contender sees the dead holder as dead, and every other contender as alive.
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => acquireDeployLock({ stateDir, purpose: `contender ${i}`, isAlive: async (h) => h.pid !== STALE_PID || h.host !== 'dead-container' })),
      );
      const winners = results.filter((r) => r.acquired);
      expect(winners, `round ${round}`).toHaveLength(1);
      for (const w of winners) await w.lock.release();
      expect(await readdir(stateDir), `round ${round}`).toEqual([]);
    }
  });

  it('past its deadline, goes to exactly one even while its holder lives', async () => {
    for (let round = 0; round < 100; round += 1) {
      await plantStale({ expiresAt: new Date(Date.now() - 1000).toISOString() });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireDeployLock({ stateDir, purpose: `contender ${i}`, isAlive: async () => true })));
      expect(results.filter((r) => r.acquired), `round ${round}`).toHaveLength(1);
      for (const r of results) if (r.acquired) await r.lock.release();
    }
  });

  it('taken over from a stuck holder, is not removed when that holder wakes up and releases', async () => {
    const stuck = await acquireDeployLock({ stateDir, purpose: 'stuck', isAlive: async () => true, deadlineMs: 1 });
    expect(stuck.acquired).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const taker = await acquireDeployLock({ stateDir, purpose: 'taker', isAlive: async () => true, deadlineMs: 60_000 });
    expect(taker.acquired).toBe(true);
    if (stuck.acquired) await stuck.lock.release();
    const third = await acquireDeployLock({ stateDir, purpose: 'third', isAlive: async () => true });
    expect(third).toMatchObject({ acquired: false, holder: { purpose: 'taker' } });
    if (taker.acquired) await taker.lock.release();
    expect(await readdir(stateDir)).toEqual([]);
  });

  it('goes to exactly one of several deploy processes', async () => {
    const contender = join(REPO_ROOT, 'test/faults/helpers/lock-contender.ts');
    for (let round = 0; round < 5; round += 1) {
      await plantStale();
      const go = join(stateDir, `go-${round}`);
      const release = join(stateDir, `release-${round}`);
      const said: string[] = [];
      let answered: () => void = () => undefined;
      const allAnswered = new Promise<void>((resolve) => (answered = resolve));
      const closed = Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, ['--import', 'tsx', contender, stateDir, go, release, String(STALE_PID)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout.on('data', (chunk: Buffer) => {
          said.push(...chunk.toString().trim().split('\n'));
          if (said.length === 4) answered();
        });
        return new Promise((resolve) => child.once('close', resolve));
      });
      // Most processes are started and polling before any may try; a late one tries late.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await writeFile(go, '');
      await allAnswered;
      expect(said.filter((s) => s === 'won'), `round ${round}: ${said.join(', ')}`).toHaveLength(1);
      expect(said.filter((s) => s === 'lost')).toHaveLength(3);
      await writeFile(release, '');
      await Promise.all(closed);
    }
    expect((await readdir(stateDir)).filter((name) => name.startsWith('deploy.lock'))).toEqual([]);
  });
});
