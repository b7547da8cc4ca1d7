// Which variables hold secrets, and their values: every output masks these.

import { hasCredentials } from './remote-url.js';

/** Values shorter than this would mask ordinary words and numbers everywhere. */
export const MIN_SECRET_LENGTH = 4;

const SECRET_NAME = /PASSWORD|SECRET|TOKEN|WEBHOOK|CREDENTIAL|APIKEY|API_KEY/i;
const SECRET_SUFFIX = /(_KEY|_PAT|_DSN)$/i;
const URL_NAME = /_URLS?$/i;

/**
 * True for variable names whose values are secrets whatever they hold: `*PASSWORD*`, `*SECRET*`,
 * `*TOKEN*`, `*WEBHOOK*`, `*CREDENTIAL*`, `*API_KEY*`, `*_KEY`, `*_PAT` (personal access
 * tokens) and `*_DSN` (a data source name carries its password).
 */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) || SECRET_SUFFIX.test(name);
}

/** A setting whose value is a secret: by its name, or a `*_URL` that holds credentials (`DATABASE_URL`). */
export function isSecretSetting(name: string, value: string): boolean {
  return isSecretName(name) || (URL_NAME.test(name) && hasCredentials(value));
}

// A secret-named switch (`USE_TOKEN=true`) would otherwise mask every "true" in the logs.
const NOT_SECRETS = new Set(['true', 'false', 'yes', 'no', 'none', 'null', 'empty']);

/** The distinct values of secret-looking names, longest first (so that a masker replaces the longest match). */
export function collectSecrets(pairs: Iterable<readonly [name: string, value: string]>): string[] {
  const values = new Set<string>();
  for (const [name, value] of pairs) {
    if (isSecretSetting(name, value) && value.length >= MIN_SECRET_LENGTH && !NOT_SECRETS.has(value.toLowerCase())) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}
