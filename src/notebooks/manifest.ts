import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Bumped when the way a set is written changes (modes, layout), so that an old set is republished. */
export const PUBLISH_FORMAT = 1;

export const SourceRecordSchema = z.object({
  /** credentials redacted */
  url: z.string(),
  ref: z.string().nullable(),
  subdir: z.string(),
  glob: z.string(),
  dest: z.string(),
  commit: z.string(),
});
export type SourceRecord = z.infer<typeof SourceRecordSchema>;

/** `<id>.json` beside each version: what it holds and where it came from. */
export const ManifestSchema = z.object({
  format: z.number(),
  id: z.string(),
  fingerprint: z.string(),
  createdAt: z.string(),
  owner: z.string(),
  /** a directory found at the target and kept as a version, rather than one this job wrote */
  adopted: z.boolean(),
  sources: z.array(SourceRecordSchema),
  /** published path → git blob id of its content */
  files: z.record(z.string(), z.string()),
});
export type VersionManifest = z.infer<typeof ManifestSchema>;

/**
 * What makes two sets the same to a reader: every path with its content, the owner, and the
 * publish format. Equal fingerprints mean that publishing would change nothing.
 */
export function fingerprintOf(files: Readonly<Record<string, string>>, owner: string): string {
  const hash = createHash('sha256').update(`format ${PUBLISH_FORMAT}\nowner ${owner}\n`);
  for (const file of Object.keys(files).sort()) hash.update(`${file}\0${files[file] ?? ''}\n`);
  return hash.digest('hex');
}
