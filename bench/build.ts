// The memory section runs the built CLI; it is rebuilt when any source is newer than it.

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './processes.js';
import { BenchUnavailable } from './section.js';

async function newestMtime(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)));
  return newest;
}

async function mtimeOrZero(path: string): Promise<number> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds dist/ with `npm run build` when dist/cli/main.js is missing or dist/ is older than src/ or the build config. Returns whether it built. */
export async function ensureBuilt(repoRoot: string, say: (line: string) => void): Promise<boolean> {
  const entry = join(repoRoot, 'dist', 'cli', 'main.js');
  const built = (await mtimeOrZero(entry)) === 0 ? 0 : await newestMtime(join(repoRoot, 'dist'));
  const sources = Math.max(
    await newestMtime(join(repoRoot, 'src')),
    await mtimeOrZero(join(repoRoot, 'tsconfig.json')),
    await mtimeOrZero(join(repoRoot, 'tsconfig.build.json')),
    await mtimeOrZero(join(repoRoot, 'package.json')),
  );
  if (built !== 0 && built >= sources) return false;
  say(built === 0 ? 'dist/ is missing: npm run build' : 'dist/ is older than src/: npm run build');
  const result = await runCommand('npm', ['run', 'build'], { cwd: repoRoot });
  if (result.code !== 0) {
    const output = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new BenchUnavailable(`npm run build failed, so the built CLI cannot be measured:\n${output}`);
  }
  return true;
}
