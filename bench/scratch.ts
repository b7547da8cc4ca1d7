// Temporary directories of one section, removed by the section's finally.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScratchDir {
  readonly dir: string;
  remove(): Promise<void>;
}

export async function makeScratchDir(prefix: string): Promise<ScratchDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A suffix for container and job names of this run: letters and digits only (a valid job and env name part). */
export function runSuffix(): string {
  return Math.random().toString(36).slice(2, 8);
}
