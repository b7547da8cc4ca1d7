// The glob of a notebook source, matched against paths relative to its sub-directory.
// picomatch does the matching; what stays here is what a glob may be in this setting (relative,
// inside the sub-directory, balanced) and a bound on its wildcards, because picomatch compiles
// to a backtracking regular expression: `*a*a*a*a*b` against a long name of `a`s takes seconds,
// and every further `*`, `**` or `{…}` multiplies that.

import picomatch from 'picomatch/posix.js';

export const DEFAULT_NOTEBOOK_GLOB = '*.ipynb';

/** Enough for `**\/*.ipynb`, `notebooks/**\/{*.ipynb,*.png}`; matching stays within milliseconds. */
export const MAX_GLOB_WILDCARDS = 3;
/** Each `**` can start at any directory of a path: three take seconds on a deep one. */
export const MAX_GLOB_STARS = 2;
/** The alternatives of `{…}` multiply too; this keeps their product small. */
export const MAX_GLOB_LENGTH = 256;

export type GlobResult = { readonly ok: true; readonly regexp: RegExp } | { readonly ok: false; readonly problem: string };

const PICOMATCH_OPTIONS: picomatch.PicomatchOptions = {
  // `[!a]` as the shell reads it, not a literal `!`.
  posix: true,
  // `!`, `+`, `@` and quotes are characters of a file name here, not extglobs, negation or quoting.
  noextglob: true,
  nonegate: true,
  keepQuotes: true,
  // A file is matched as a file: `*.ipynb` does not match `a.ipynb/`, `docs/**` not `docs` itself.
  strictSlashes: true,
};

type Scanned = { ok: true; source: string; wildcards: number } | { ok: false; problem: string };

/**
 * `*` any run of characters but `/`, `?` one such character, `**` as a whole path segment any
 * number of directories (none included), `[abc]`, `[a-z]`, `[!abc]`, `{a,b}` for alternatives,
 * and `\` to take the next character as it is. A name starting with a dot is matched only by a
 * pattern segment that starts with a dot, as in the shell: `*.ipynb` leaves
 * `.ipynb_checkpoints/` alone. Other characters, parentheses included, are themselves.
 */
export function compileGlob(glob: string): GlobResult {
  if (glob === '') return { ok: false, problem: 'is empty' };
  if (glob.length > MAX_GLOB_LENGTH) return { ok: false, problem: `is longer than ${MAX_GLOB_LENGTH} characters` };
  if (glob.startsWith('/')) return { ok: false, problem: 'must be relative to the sub-directory (no leading "/")' };
  const segments = glob.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, problem: 'must not contain "." or ".." segments' };
  if (segments.some((s) => s === '')) return { ok: false, problem: 'must not contain empty segments ("//" or a trailing "/")' };

  const sources: string[] = [];
  let wildcards = 0;
  let globstars = 0;
  for (const segment of segments) {
    if (/^\*{2,}$/.test(segment)) {
      globstars += 1;
      wildcards += 1;
      sources.push('**');
      continue;
    }
    const scanned = scanSegment(segment);
    if (!scanned.ok) return scanned;
    wildcards += scanned.wildcards;
    sources.push(scanned.source);
  }
  if (wildcards > MAX_GLOB_WILDCARDS || globstars > MAX_GLOB_STARS) {
    return {
      ok: false,
      problem: `has too many wildcards to be matched quickly: ${wildcards} of "*", "**" and "{…}" (${globstars} "**"); at most ${MAX_GLOB_WILDCARDS}, of which at most ${MAX_GLOB_STARS} "**"`,
    };
  }
  return { ok: true, regexp: picomatch.makeRe(sources.join('/'), PICOMATCH_OPTIONS) };
}

/**
 * Checks that brackets and braces are closed, escapes parentheses (picomatch would read them as
 * a group), and counts the wildcards one path through the segment meets: each run of `*`, and
 * each `{…}` plus the most its alternatives hold.
 */
function scanSegment(segment: string): Scanned {
  let source = '';
  let wildcards = 0;
  let braces: { inside: number; most: number } | undefined;
  const count = (n: number): void => {
    if (braces === undefined) wildcards += n;
    else braces.inside += n;
  };
  for (let i = 0; i < segment.length; i += 1) {
    const c = segment[i] ?? '';
    if (c === '\\') {
      source += segment.slice(i, i + 2);
      i += 1;
    } else if (c === '*') {
      while (segment[i + 1] === '*') i += 1;
      source += '*';
      count(1);
    } else if (c === '[') {
      // `]` right after `[` (or `[!`) is part of the class, as in the shell.
      const end = segment.indexOf(']', i + 2);
      if (end === -1) return { ok: false, problem: `has an unclosed "[" in "${segment}"` };
      source += segment.slice(i, end + 1);
      i = end;
    } else if (c === '{') {
      if (braces !== undefined) return { ok: false, problem: `has nested "{" in "${segment}"` };
      braces = { inside: 0, most: 0 };
      source += c;
    } else if (c === ',' && braces !== undefined) {
      braces.most = Math.max(braces.most, braces.inside);
      braces.inside = 0;
      source += c;
    } else if (c === '}' && braces !== undefined) {
      wildcards += 1 + Math.max(braces.most, braces.inside);
      braces = undefined;
      source += c;
    } else if (c === '(' || c === ')') {
      source += `\\${c}`;
    } else {
      source += c;
    }
  }
  if (braces !== undefined) return { ok: false, problem: `has an unclosed "{" in "${segment}"` };
  return { ok: true, source, wildcards };
}

/** Whether `relativePath` (with `/` between directories) matches the compiled glob. */
export function matchesGlob(regexp: RegExp, relativePath: string): boolean {
  return regexp.test(relativePath);
}
