// The one masking rule of every output (log lines, the CLI's answers, the API, notifications):
// the values of the configuration's secrets, and the credentials of any URL. Pure: the log
// writer applies it to every serialized line, so the common case (no secret in the line)
// must cost a regular-expression scan or two.

import { redactCredentials } from './remote-url.js';
import { MIN_SECRET_LENGTH } from './secrets.js';

/** Replaces every secret value, and every credential of a URL, in a text with `***`. */
export type Masker = (text: string) => string;

export const MASK = '***';

const urlsOnly: Masker = (text) => redactCredentials(text);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** The form a value takes inside a JSON string literal. */
function jsonEscaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/**
 * Builds a masker for these secret values. Each value is masked as written
 * and in its JSON-escaped form, so that a secret holding `"` or `\` is also
 * masked inside JSON lines. Overlapping secrets are masked as one span, so
 * no part of either survives.
 */
export function createMasker(secrets: readonly string[]): Masker {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH || secret.trim() === '') continue;
    forms.add(secret);
    forms.add(jsonEscaped(secret));
  }
  if (forms.size === 0) return urlsOnly;
  // Longest first: at one position the regex engine takes the first
  // alternative that matches, which must be the longest.
  const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|');
  const anySecret = new RegExp(alternatives);
  const longestAt = new RegExp(`(?=(${alternatives}))`, 'g');

  return (raw) => {
    const text = redactCredentials(raw);
    if (!anySecret.test(text)) return text;
    const spans: Array<[number, number]> = [];
    for (const match of text.matchAll(longestAt)) {
      const start = match.index;
      const end = start + (match[1] ?? '').length;
      const last = spans[spans.length - 1];
      if (last !== undefined && start <= last[1]) {
        last[1] = Math.max(last[1], end);
      } else {
        spans.push([start, end]);
      }
    }
    let result = '';
    let from = 0;
    for (const [start, end] of spans) {
      result += text.slice(from, start) + MASK;
      from = end;
    }
    return result + text.slice(from);
  };
}

function maskValue(value: unknown, mask: Masker): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((item) => maskValue(item, mask));
  if (value !== null && typeof value === 'object') {
    const masked: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) masked[mask(key)] = maskValue(item, mask);
    return masked;
  }
  return value;
}

/**
 * Masks a serialized JSON line and keeps it valid JSON. Replacing text inside
 * the line is right almost always; when a secret starts inside an escape
 * sequence (a secret `nabc` after a newline written as `\n`) the replacement
 * would corrupt the line, so the values are masked one by one instead.
 * A line that is not JSON is masked as plain text.
 */
export function maskJsonLine(line: string, mask: Masker): string {
  const masked = mask(line);
  if (masked === line) return line;
  try {
    JSON.parse(masked);
    return masked;
  } catch {
    // fall through to masking value by value
  }
  const newline = line.endsWith('\n') ? '\n' : '';
  try {
    return JSON.stringify(maskValue(JSON.parse(line), mask)) + newline;
  } catch {
    return masked;
  }
}
