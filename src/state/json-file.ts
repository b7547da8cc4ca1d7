// The scheduler's small state files: JSON, read leniently and replaced whole.

import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { z } from 'zod';

/** A state file that could not be read as what it should hold, and where it was put aside. */
export interface CorruptFile {
  readonly file: string;
  /** where the file now is; undefined when it could not be moved */
  readonly movedTo: string | undefined;
  readonly reason: string;
}

export interface ReadJsonOptions {
  /** told of a corrupt file once it is moved aside; default: a line on stderr */
  readonly onCorrupt?: ((corrupt: CorruptFile) => void) | undefined;
}

/**
 * The file's JSON as `schema` reads it; undefined when it is missing or holds `null` (a record
 * cleared on purpose). A file that is not JSON, or not of the schema's shape, is moved aside
 * as `<name>.corrupt-<time>` and reported, then read as missing: it is kept for the operator
 * to look at, and the next write starts a good file instead of failing on it forever.
 */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>, options: ReadJsonOptions = {}): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    await setAside(file, `it is not JSON (${(error as Error).message})`, options);
    return undefined;
  }
  if (value === null) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  await setAside(file, `it does not hold what it should (${first === undefined ? 'wrong shape' : `${first.path.join('.') || 'the file'}: ${first.message}`})`, options);
  return undefined;
}

async function setAside(file: string, reason: string, options: ReadJsonOptions): Promise<void> {
  const movedTo = join(dirname(file), `${basename(file)}.corrupt-${new Date().toISOString().replace(/:/g, '')}`);
  let moved: string | undefined = movedTo;
  try {
    await rename(file, movedTo);
  } catch {
    moved = undefined;
  }
  (options.onCorrupt ?? reportOnStderr)({ file, movedTo: moved, reason });
}

/** The sentence an operator reads about a corrupt state file. */
export function describeCorrupt(corrupt: CorruptFile): string {
  const where = corrupt.movedTo === undefined ? 'it could not be moved aside' : `moved aside to ${corrupt.movedTo}`;
  return `state file ${corrupt.file} is corrupt: ${corrupt.reason}; ${where}, and read as empty`;
}

function reportOnStderr(corrupt: CorruptFile): void {
  process.stderr.write(`${describeCorrupt(corrupt)}\n`);
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
