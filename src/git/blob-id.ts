import { createHash } from 'node:crypto';

/** The id git gives a blob with this content (SHA-1, the cache's object format). */
export function blobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}
