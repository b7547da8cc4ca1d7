import { isSecretName, MIN_SECRET_LENGTH } from '../logging/mask.js';

export { isSecretName };

// A secret-named switch (`USE_TOKEN=true`) would otherwise mask every "true" in the logs.
const NOT_SECRETS = new Set(['true', 'false', 'yes', 'no', 'none', 'null', 'empty']);

/** The distinct values of secret-looking names, longest first (so that a masker replaces the longest match). */
export function collectSecrets(pairs: Iterable<readonly [name: string, value: string]>): string[] {
  const values = new Set<string>();
  for (const [name, value] of pairs) {
    if (isSecretName(name) && value.length >= MIN_SECRET_LENGTH && !NOT_SECRETS.has(value.toLowerCase())) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}
