import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireDeployLock } from '../../src/state/lock.js';
import { makeTempDir, removeTempDir } from '../fixtures/git-repos.js';

let stateDir: string;

beforeEach(async () => {
  stateDir = await makeTempDir('autodeploy-lock');
});

afterEach(async () => {
  await removeTempDir(stateDir);
});

describe('the deploy lock', () => {
  it('goes to exactly one of many contenders at once, every time', async () => {
    for (let round = 0; round < 50; round += 1) {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireDeployLock({ stateDir, purpose: `contender ${i}`, isAlive: async () => true })));
      const winners = results.filter((r) => r.acquired);
      expect(winners, `round ${round}`).toHaveLength(1);
      for (const r of results) if (!r.acquired) expect(r.holder.purpose).toBe(winners[0]?.lock.holder.purpose);
      for (const w of winners) await w.lock.release();
    }
    // Nothing is left behind: no lock, no file written on the way to one.
    expect(await readdir(stateDir)).toEqual([]);
  });

  it('is never seen half written: whenever the lock file is there, it names its whole holder', async () => {
    const lock = join(stateDir, 'deploy.lock');
    let done = false;
    const seen: string[] = [];
    // Another deploy looking at the lock while it is taken and given back, over and over.
    const watchers = Array.from({ length: 3 }, async () => {
      while (!done) {
        const text = await readFile(lock, 'utf8').catch(() => undefined);
        if (text !== undefined) seen.push(text);
      }
    });
    try {
      for (let i = 0; i < 1500; i += 1) {
        const result = await acquireDeployLock({ stateDir, purpose: 'deploy', isAlive: async () => true });
        if (result.acquired) await result.lock.release();
      }
    } finally {
      done = true;
      await Promise.all(watchers);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((text) => !/^\{"host":.*"purpose":"deploy"\}\n$/.test(text))).toEqual([]);
  });

  it('takes over a lock whose holder is gone, and not one whose holder lives', async () => {
    const lock = join(stateDir, 'deploy.lock');
    const holder = { host: 'old-container', pid: 42, startedAt: new Date().toISOString(), purpose: 'deploy' };
    await writeFile(lock, `${JSON.stringify(holder)}\n`);
    const refused = await acquireDeployLock({ stateDir, purpose: 'deploy', isAlive: async () => true });
    expect(refused).toEqual({ acquired: false, holder });
    const taken = await acquireDeployLock({ stateDir, purpose: 'deploy', isAlive: async () => false });
    expect(taken.acquired).toBe(true);
  });
});
