// The glob of a notebook source, matched against paths relative to its sub-directory, in time
// linear in the path's length: a source's glob comes from env.local and its paths from a
// repository anyone may push to, and a backtracking regular expression (what glob libraries
// compile to) takes seconds on `*a*a*a*b` against a long name of `a`s, and longer with each
// further `*`. Here a glob becomes two levels of Thompson automata, one over the characters of
// a name and one over the names of a path, run as a set of states
// (https://swtch.com/~rsc/regexp/regexp1.html): each character of the path is read once against
// at most as many states as the glob has characters, whatever the glob.

export const DEFAULT_NOTEBOOK_GLOB = '*.ipynb';

/** Long enough for any real selection; the states, and so the cost per character, grow with it. */
export const MAX_GLOB_LENGTH = 256;

/** A glob ready to match paths; made by compileGlob. */
export interface CompiledGlob {
  readonly source: string;
  readonly path: Automaton<string>;
}

export type GlobResult = { readonly ok: true; readonly glob: CompiledGlob } | { readonly ok: false; readonly problem: string };

/**
 * `*` any run of characters but `/`, `?` one such character, `**` as a whole path segment any
 * number of directories (none included; at the end, one or more), `[abc]`, `[a-z]`, `[!abc]`
 * or `[^abc]`, `[[:digit:]]` and the other POSIX classes, `{a,b}` for alternatives (not nested,
 * within one segment), and `\` to take the next character as it is. A name starting with a dot
 * is matched only by a pattern segment that starts with a dot, as in the shell: `*.ipynb` leaves
 * `.ipynb_checkpoints/` alone, and `**` never enters a hidden directory. Other characters,
 * parentheses and `!`, `+`, `@` included, are themselves.
 */
export function compileGlob(glob: string): GlobResult {
  if (glob === '') return { ok: false, problem: 'is empty' };
  if (glob.length > MAX_GLOB_LENGTH) return { ok: false, problem: `is longer than ${MAX_GLOB_LENGTH} characters` };
  if (glob.startsWith('/')) return { ok: false, problem: 'must be relative to the sub-directory (no leading "/")' };
  const segments = glob.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, problem: 'must not contain "." or ".." segments' };
  if (segments.some((s) => s === '')) return { ok: false, problem: 'must not contain empty segments ("//" or a trailing "/")' };

  const path = new Builder<string>();
  let end = path.start;
  for (const [index, segment] of segments.entries()) {
    if (/^\*{2,}$/.test(segment)) {
      const last = index === segments.length - 1;
      // `docs/**` names what is inside docs, not docs itself: one name at least.
      if (last) end = path.step(end, visibleName);
      end = path.loop(end, visibleName);
      continue;
    }
    const name = compileSegment(segment);
    if (!name.ok) return name;
    const dotted = segment.startsWith('.');
    const automaton = name.automaton;
    end = path.step(end, (n) => (dotted || !n.startsWith('.')) && run(automaton, [...n]));
  }
  return { ok: true, glob: { source: glob, path: path.finish(end) } };
}

/** Whether `relativePath` (with `/` between directories) matches the compiled glob. */
export function matchesGlob(glob: CompiledGlob, relativePath: string): boolean {
  const names = relativePath.split('/');
  // A path with an empty name (`a//b`, `a/`) names no file of a tree.
  return !names.includes('') && run(glob.path, names);
}

const visibleName = (name: string): boolean => !name.startsWith('.');

type Compiled = { readonly ok: true; readonly automaton: Automaton<string> } | { readonly ok: false; readonly problem: string };

/** One segment's characters into an automaton over the characters of a name. */
function compileSegment(segment: string): Compiled {
  const chars = [...segment];
  const b = new Builder<string>();
  let end = b.start;
  /** inside `{…}`: where it began, and the end of each alternative so far */
  let group: { readonly from: number; readonly ends: number[] } | undefined;
  for (let i = 0; i < chars.length; i += 1) {
    const c = chars[i] ?? '';
    if (c === '\\') {
      const next = chars[i + 1];
      if (next === undefined) return { ok: false, problem: `ends "${segment}" with a "\\" that escapes nothing` };
      end = b.step(end, (x) => x === next);
      i += 1;
    } else if (c === '*') {
      while (chars[i + 1] === '*') i += 1;
      end = b.loop(end, anyCharacter);
    } else if (c === '?') {
      end = b.step(end, anyCharacter);
    } else if (c === '[') {
      const parsed = parseClass(chars, i);
      if ('problem' in parsed) return { ok: false, problem: `${parsed.problem} in "${segment}"` };
      end = b.step(end, parsed.test);
      i = parsed.end;
    } else if (c === '{' && hasComma(chars, i)) {
      if (group !== undefined) return { ok: false, problem: `has nested "{" in "${segment}"` };
      group = { from: end, ends: [] };
      end = b.branch(end);
    } else if (c === '{' && group !== undefined) {
      return { ok: false, problem: `has nested "{" in "${segment}"` };
    } else if (c === ',' && group !== undefined) {
      group.ends.push(end);
      end = b.branch(group.from);
    } else if (c === '}' && group !== undefined) {
      end = b.join([...group.ends, end]);
      group = undefined;
    } else {
      end = b.step(end, (x) => x === c);
    }
  }
  if (group !== undefined) return { ok: false, problem: `has an unclosed "{" in "${segment}"` };
  return { ok: true, automaton: b.finish(end) };
}

const anyCharacter = (): boolean => true;

/** `{` opens alternatives when a `,` follows before its `}`: `{a}` alone is the text `{a}`, as in the shell. */
function hasComma(chars: readonly string[], from: number): boolean {
  for (let i = from + 1; i < chars.length; i += 1) {
    if (chars[i] === '\\') i += 1;
    else if (chars[i] === ',') return true;
    else if (chars[i] === '}' || chars[i] === '{') return false;
  }
  // No `}` at all: reported as unclosed when a `,` was seen, else the `{` is a character.
  return false;
}

const POSIX_CLASSES: Readonly<Record<string, RegExp>> = {
  alnum: /^[\p{L}\p{N}]$/u,
  alpha: /^\p{L}$/u,
  blank: /^[ \t]$/,
  digit: /^[0-9]$/,
  lower: /^\p{Ll}$/u,
  punct: /^[!-/:-@[-`{-~]$/,
  space: /^\s$/u,
  upper: /^\p{Lu}$/u,
  xdigit: /^[0-9A-Fa-f]$/,
};

/** A `[…]` class from `chars[from]`: the test of one character, and the index of its `]`. */
function parseClass(chars: readonly string[], from: number): { test: (c: string) => boolean; end: number } | { problem: string } {
  let i = from + 1;
  const negated = chars[i] === '!' || chars[i] === '^';
  if (negated) i += 1;
  const tests: ((c: string) => boolean)[] = [];
  /** one character of the class, `\\` taking the next as it is */
  const character = (): string | undefined => {
    if (chars[i] === '\\' && i + 1 < chars.length) i += 1;
    const c = chars[i];
    i += 1;
    return c;
  };
  // `]` right after `[` (or `[!`) is part of the class, as in the shell.
  let first = true;
  while (i < chars.length && (first || chars[i] !== ']')) {
    first = false;
    if (chars[i] === '[' && chars[i + 1] === ':') {
      const close = chars.indexOf(':', i + 2);
      const name = close === -1 ? '' : chars.slice(i + 2, close).join('');
      const pattern = POSIX_CLASSES[name];
      if (close === -1 || chars[close + 1] !== ']' || pattern === undefined) {
        const written = chars.slice(i, close === -1 ? i + 2 : close + 2).join('');
        return { problem: `has an unknown class "${written}" (known: ${Object.keys(POSIX_CLASSES).map((k) => `[:${k}:]`).join(' ')})` };
      }
      tests.push((c) => pattern.test(c));
      i = close + 2;
      continue;
    }
    const low = codeOf(character());
    if (chars[i] === '-' && i + 1 < chars.length && chars[i + 1] !== ']') {
      i += 1;
      const high = codeOf(character());
      tests.push((c) => codeOf(c) >= low && codeOf(c) <= high);
    } else {
      tests.push((c) => codeOf(c) === low);
    }
  }
  if (i >= chars.length) return { problem: 'has an unclosed "["' };
  return { test: (c) => tests.some((t) => t(c)) !== negated, end: i };
}

const codeOf = (c: string | undefined): number => c?.codePointAt(0) ?? -1;

/**
 * A nondeterministic automaton over inputs of type I (characters of a name, or names of a
 * path): each state either reads one input that passes its test and goes to `next`, or is
 * free (moves without reading) to each of `free`. State 0 starts; `accept` ends.
 */
interface Automaton<I> {
  readonly states: readonly State<I>[];
  readonly accept: number;
}

interface State<I> {
  readonly test?: (input: I) => boolean;
  next: number;
  readonly free: number[];
}

/** Builds an automaton piece by piece; each method takes the state to continue from and returns the new end. */
class Builder<I> {
  readonly states: State<I>[] = [{ next: -1, free: [] }];
  readonly start = 0;

  private add(state: State<I>): number {
    this.states.push(state);
    return this.states.length - 1;
  }

  /** one input that passes `test` */
  step(from: number, test: (input: I) => boolean): number {
    const reading = this.add({ test, next: -1, free: [] });
    this.states[from]?.free.push(reading);
    const end = this.add({ next: -1, free: [] });
    this.states[reading]!.next = end;
    return end;
  }

  /** any number of inputs that pass `test`, none included */
  loop(from: number, test: (input: I) => boolean): number {
    const hub = this.add({ next: -1, free: [] });
    this.states[from]?.free.push(hub);
    const reading = this.add({ test, next: hub, free: [] });
    const end = this.add({ next: -1, free: [] });
    this.states[hub]!.free.push(reading, end);
    return end;
  }

  /** a new path from `from`: one alternative of a group */
  branch(from: number): number {
    const end = this.add({ next: -1, free: [] });
    this.states[from]?.free.push(end);
    return end;
  }

  /** the ends of a group's alternatives into one */
  join(ends: readonly number[]): number {
    const end = this.add({ next: -1, free: [] });
    for (const e of ends) this.states[e]?.free.push(end);
    return end;
  }

  finish(accept: number): Automaton<I> {
    return { states: this.states, accept };
  }
}

/** Whether the automaton accepts the whole of `inputs`: every input read once against the current set of states. */
function run<I>(automaton: Automaton<I>, inputs: readonly I[]): boolean {
  const { states } = automaton;
  // The generation a state was last added in: a set that costs nothing to clear.
  const seen = new Int32Array(states.length).fill(-1);
  let current: number[] = [];
  const add = (set: number[], state: number, generation: number): void => {
    const stack = [state];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (seen[s] === generation) continue;
      seen[s] = generation;
      set.push(s);
      for (const f of states[s]?.free ?? []) stack.push(f);
    }
  };
  add(current, 0, 0);
  for (const [index, input] of inputs.entries()) {
    const next: number[] = [];
    for (const s of current) {
      const state = states[s];
      if (state?.test !== undefined && state.test(input)) add(next, state.next, index + 1);
    }
    if (next.length === 0) return false;
    current = next;
  }
  return seen[automaton.accept] === inputs.length;
}
