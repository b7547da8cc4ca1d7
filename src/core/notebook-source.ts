// AUTODEPLOY_NOTEBOOK_SOURCES: one git source of notebooks per line,
//   <url> [<ref> [<sub-directory> [<glob> [<destination>]]]]
// Fields are separated by white space; `-` skips a field (its default applies), so that a later
// one can be given. Blank lines and lines starting with `#` are ignored, and so is the rest of a
// line from a word starting with `#`.

import { knownHostsName } from './remote-url.js';
import { compileGlob, DEFAULT_NOTEBOOK_GLOB } from './glob.js';

export const SKIPPED_FIELD = '-';
export const SOURCE_FORMAT = '<url> [<ref> [<sub-directory> [<glob> [<destination>]]]]';

/** One notebook source as the operator wrote it, checked and normalized. */
export interface NotebookSourceSpec {
  /** the git URL as written (it may carry credentials: log it through redactCredentials) */
  readonly url: string;
  /** branch, tag or full commit id; undefined: the remote's default branch (its HEAD) */
  readonly ref: string | undefined;
  /** directory of the repository the glob is matched in, without leading or trailing `/`; '' for the root */
  readonly subdir: string;
  readonly glob: string;
  /** folder of the target the files are published under; '' for the target itself */
  readonly dest: string;
}

/** A source and where it sits in the setting's value: `offset` is its line's index in the value (0 for the first). */
export interface NotebookSourceLine extends NotebookSourceSpec {
  readonly offset: number;
}

export interface SourceProblem {
  readonly offset: number;
  readonly text: string;
  readonly message: string;
}

export interface ParsedSources {
  readonly sources: readonly NotebookSourceLine[];
  readonly problems: readonly SourceProblem[];
}

/** Parses the setting's value; every line that cannot be used is a problem, with its offset. */
export function parseNotebookSources(text: string): ParsedSources {
  const sources: NotebookSourceLine[] = [];
  const problems: SourceProblem[] = [];
  text.split('\n').forEach((raw, offset) => {
    const words = wordsOf(raw);
    if (words.length === 0) return;
    const parsed = parseSourceWords(words);
    if ('problem' in parsed) problems.push({ offset, text: raw.trim(), message: parsed.problem });
    else sources.push({ ...parsed, offset });
  });
  return { sources, problems };
}

function wordsOf(line: string): string[] {
  const words = line.trim().split(/\s+/).filter((w) => w !== '');
  const comment = words.findIndex((w) => w.startsWith('#'));
  return comment === -1 ? words : words.slice(0, comment);
}

function parseSourceWords(words: readonly string[]): NotebookSourceSpec | { problem: string } {
  if (words.length > 5) return { problem: `has ${words.length} fields; expected at most 5: ${SOURCE_FORMAT}` };
  const [url = '', refWord, subdirWord, globWord, destWord] = words;
  const given = (word: string | undefined): string | undefined => (word === undefined || word === SKIPPED_FIELD ? undefined : word);

  const urlProblem = checkUrl(url);
  if (urlProblem !== undefined) return { problem: urlProblem };
  const ref = given(refWord);
  if (ref !== undefined) {
    const refProblem = checkRef(ref);
    if (refProblem !== undefined) return { problem: `ref "${ref}" ${refProblem}` };
  }
  const subdir = normalizeRelative(given(subdirWord) ?? '');
  if (subdir === undefined) return { problem: `sub-directory "${subdirWord ?? ''}" must stay inside the repository (no ".." segments)` };
  const glob = given(globWord) ?? DEFAULT_NOTEBOOK_GLOB;
  const compiled = compileGlob(glob);
  if (!compiled.ok) return { problem: `glob "${glob}" ${compiled.problem}` };
  const dest = normalizeRelative(given(destWord) ?? '');
  if (dest === undefined) return { problem: `destination "${destWord ?? ''}" must stay inside the target directory (no ".." segments)` };
  return { url, ref, subdir, glob, dest };
}

/** `a/./b/` → `a/b`, `/` or `.` → ''; undefined when a `..` segment would leave the tree. */
export function normalizeRelative(path: string): string | undefined {
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return undefined;
  return segments.join('/');
}

/** The transports a source may use: ssh and https (authenticated, encrypted), and this host's files. */
const SCHEMES = /^(ssh|git\+ssh|ssh\+git|https|file):\/\/./i;
/** git's `<transport>::<address>` form names a remote helper, a program to run (ext::, fd::). */
const REMOTE_HELPER = /^[A-Za-z][A-Za-z0-9+.-]*::/;

function checkUrl(url: string): string | undefined {
  const expected = 'expected a git URL (ssh://…, https://…, git@host:path) or an absolute path';
  if (url === '') return `has no URL; ${expected}`;
  if (url.startsWith('-')) return `URL "${url}" must not start with "-"`;
  if (url.startsWith('/')) return undefined;
  if (SCHEMES.test(url)) return undefined;
  if (REMOTE_HELPER.test(url)) return `URL "${url.replace(/::.*/s, '::…')}" names a git remote helper, which runs a program; ${expected}`;
  if (/^(git|https?):\/\//i.test(url)) return `URL "${url}" is neither ssh nor https: its content could be changed on the way; ${expected}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return `URL "${url}" has a scheme git cannot fetch from here; ${expected}`;
  if (knownHostsName(url) !== undefined) return undefined;
  return `URL "${url}" is not a git URL; ${expected}`;
}

// git check-ref-format's rules, less what a full name needs: a branch or tag may be given short.
function checkRef(ref: string): string | undefined {
  if (ref.startsWith('-')) return 'must not start with "-"';
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(ref)) return 'must not contain spaces, control characters or any of ~ ^ : ? * [ \\';
  if (ref.includes('..') || ref.includes('@{') || ref.includes('//')) return 'must not contain "..", "@{" or "//"';
  if (ref.endsWith('/') || ref.endsWith('.') || ref.endsWith('.lock') || ref.startsWith('/')) return 'is not a valid branch or tag name';
  if (ref.split('/').some((part) => part.startsWith('.'))) return 'must not have a part starting with "."';
  if (ref === '@') return 'is not a valid branch or tag name';
  return undefined;
}

/** A source of the configuration: what the operator wrote, and the env file line it is on, for messages. */
export interface NotebookSource extends NotebookSourceSpec {
  /** the line in env.local; undefined when the value did not come from a file line */
  readonly line: number | undefined;
}

/** The directory a source on this host is read from (an absolute path or a file:// URL), else undefined. */
export function localSourcePath(url: string): string | undefined {
  if (url.startsWith('/')) return url.replace(/(.)\/+$/, '$1');
  const file = /^file:\/\/(\/[^?#]*)$/i.exec(url);
  if (file?.[1] === undefined) return undefined;
  try {
    return decodeURIComponent(file[1]).replace(/(.)\/+$/, '$1');
  } catch {
    return undefined;
  }
}
