// One deploy racing for a stale lock, as a process of its own: waits for the start signal (a
// file), tries once, holds a winning lock a moment, and prints "won" or "lost".
import { access } from 'node:fs/promises';
import { acquireDeployLock } from '../../../src/state/lock.js';

const [stateDir = '', go = '', stalePid = '0'] = process.argv.slice(2);
for (;;) {
  try {
    await access(go);
    break;
  } catch {
    await new Promise((resolve) => setImmediate(resolve));
  }
}
const result = await acquireDeployLock({ stateDir, purpose: `contender ${process.pid}`, isAlive: async (holder) => holder.pid !== Number(stalePid) });
if (result.acquired) {
  process.stdout.write('won\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await result.lock.release();
} else {
  process.stdout.write('lost\n');
}
