// Which variables hold secrets, and their values: every output masks these.

/** Values shorter than this would mask ordinary words and numbers everywhere. */
export const MIN_SECRET_LENGTH = 4;

const SECRET_NAME = /PASSWORD|SECRET|TOKEN/i;
const KEY_SUFFIX = /_KEY$/i;

/** True for variable names whose values are treated as secrets: `*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*_KEY`. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) || KEY_SUFFIX.test(name);
}

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
