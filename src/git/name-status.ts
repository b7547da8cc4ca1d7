import type { ChangedFile } from '../core/checkout.js';

/**
 * `git diff --name-status` output as data. Renames and copies (R100, C075) name two paths:
 * `from` is the old one.
 */
export function parseNameStatus(text: string): ChangedFile[] {
  const files: ChangedFile[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [status = '', first = '', second] = line.split('\t');
    files.push(second === undefined ? { status, path: first } : { status, path: second, from: first });
  }
  return files;
}

/** The text `git diff --name-status` printed, back from the data; what GIT_CHANGED_FILES holds. */
export function formatNameStatus(files: readonly ChangedFile[]): string {
  return files.map((f) => (f.from === undefined ? `${f.status}\t${f.path}` : `${f.status}\t${f.from}\t${f.path}`)).join('\n');
}
