/** Names whose values must never reach a log: `*PASSWORD*`, `*SECRET*`, `*TOKEN*` (any case), `*_KEY`. */
export function isSecretName(name: string): boolean {
  return /PASSWORD|SECRET|TOKEN/i.test(name) || /_KEY$/i.test(name);
}

// Shorter values would mask ordinary words and numbers all over the logs.
const MIN_SECRET_LENGTH = 4;

/** The distinct values of secret-looking names, longest first (so that a masker replaces the longest match). */
export function collectSecrets(pairs: Iterable<readonly [name: string, value: string]>): string[] {
  const values = new Set<string>();
  for (const [name, value] of pairs) {
    if (isSecretName(name) && value.length >= MIN_SECRET_LENGTH) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}
