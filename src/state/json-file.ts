// The scheduler's small state files: JSON, read leniently and replaced whole.

import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';

/** The file's JSON as `schema` reads it; undefined when it is missing, unreadable or of another shape. */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const parsed = schema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes `value` under a temporary name and renames it into place, so that a reader never sees
 * half a file. `durable`: the file and the rename are on disk when this resolves, so that a
 * power cut or a reboot right after cannot lose what was written (for a deploy's intent, which
 * must be there before anything it describes moves).
 */
export async function writeJsonFile(file: string, value: unknown, options: { readonly durable?: boolean } = {}): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (options.durable !== true) {
    await writeFile(temp, text);
    await rename(temp, file);
    return;
  }
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
