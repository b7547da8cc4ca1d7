// The glob of a notebook source, matched against paths relative to its sub-directory.
// Written here rather than taken from node:path (matchesGlob is experimental in Node 20 and 22)
// so that a pattern means the same on every Node the scheduler runs on.

export const DEFAULT_NOTEBOOK_GLOB = '*.ipynb';

export type GlobResult = { readonly ok: true; readonly regexp: RegExp } | { readonly ok: false; readonly problem: string };

const SPECIAL = /[.+^$()|\\]/;

/**
 * `*` any run of characters but `/`, `?` one such character, `**` as a whole path segment any
 * number of directories (none included), `[abc]`, `[a-z]`, `[!abc]`, and `{a,b}` for
 * alternatives. A name starting with a dot is matched only by a pattern segment that starts
 * with a dot, as in the shell: `*.ipynb` leaves `.ipynb_checkpoints/` alone.
 */
export function compileGlob(glob: string): GlobResult {
  if (glob === '') return { ok: false, problem: 'is empty' };
  if (glob.startsWith('/')) return { ok: false, problem: 'must be relative to the sub-directory (no leading "/")' };
  const segments = glob.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, problem: 'must not contain "." or ".." segments' };
  if (segments.some((s) => s === '')) return { ok: false, problem: 'must not contain empty segments ("//" or a trailing "/")' };

  let source = '';
  for (let i = 0; i < segments.length; i += 1) {
    const segment = segments[i] ?? '';
    const last = i === segments.length - 1;
    if (segment === '**') {
      // Zero or more whole directories; as the last segment, any path below.
      source += last ? '(?:(?!\\.)[^/]*(?:/(?!\\.)[^/]*)*)' : '(?:(?!\\.)[^/]*/)*';
      continue;
    }
    const compiled = compileSegment(segment);
    if (!compiled.ok) return compiled;
    source += compiled.source + (last ? '' : '/');
  }
  return { ok: true, regexp: new RegExp(`^${source}$`, 'u') };
}

function compileSegment(segment: string): { ok: true; source: string } | { ok: false; problem: string } {
  // No wildcard may match a leading dot (the shell's rule for hidden files).
  let source = segment.startsWith('.') ? '' : '(?!\\.)';
  let inBraces = false;
  for (let i = 0; i < segment.length; i += 1) {
    const c = segment[i] ?? '';
    if (c === '*') {
      source += '[^/]*';
    } else if (c === '?') {
      source += '[^/]';
    } else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end === -1) return { ok: false, problem: `has an unclosed "[" in "${segment}"` };
      let body = segment.slice(i + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^/' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else if (c === '{') {
      if (inBraces) return { ok: false, problem: `has nested "{" in "${segment}"` };
      inBraces = true;
      source += '(?:';
    } else if (c === ',' && inBraces) {
      source += '|';
    } else if (c === '}' && inBraces) {
      inBraces = false;
      source += ')';
    } else {
      // A `}` or `]` with nothing open is itself; `{` and `[` never get here.
      source += SPECIAL.test(c) || c === '}' || c === ']' ? `\\${c}` : c;
    }
  }
  if (inBraces) return { ok: false, problem: `has an unclosed "{" in "${segment}"` };
  return { ok: true, source };
}

/** Whether `relativePath` (with `/` between directories) matches the compiled glob. */
export function matchesGlob(regexp: RegExp, relativePath: string): boolean {
  return regexp.test(relativePath);
}
