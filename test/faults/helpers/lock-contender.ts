// One deploy racing for a stale lock, as a process of its own: waits for the start signal (a
// file), tries once and prints "won" or "lost". A winner holds the lock until the release
// signal, so that no slow contender can find it free again and count as a second winner.
import { access } from 'node:fs/promises';
import { acquireDeployLock } from '../../../src/state/lock.js';

const [stateDir = '', go = '', release = '', stalePid = '0'] = process.argv.slice(2);

async function until(file: string): Promise<void> {
  for (;;) {
    try {
      await access(file);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

await until(go);
const result = await acquireDeployLock({ stateDir, purpose: `contender ${process.pid}`, isAlive: async (holder) => holder.pid !== Number(stalePid) });
process.stdout.write(result.acquired ? 'won\n' : 'lost\n');
if (result.acquired) {
  await until(release);
  await result.lock.release();
}
