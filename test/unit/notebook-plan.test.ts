import picomatch from 'picomatch/posix.js';
import { describe, expect, it } from 'vitest';
import { repositoryName } from '../../src/git/repo-name.js';
import type { TreeFile } from '../../src/git/tree-files.js';
import { compileGlob, matchesGlob, type CompiledGlob } from '../../src/core/glob.js';
import { fingerprintOf } from '../../src/notebooks/manifest.js';
import { diffFiles, MAX_SOURCE_FILES, planTree, selectFiles, treeProblem, unsafeTreePath } from '../../src/notebooks/plan.js';

function compiled(glob: string): CompiledGlob {
  const result = compileGlob(glob);
  if (!result.ok) throw new Error(result.problem);
  return result.glob;
}

function matcher(glob: string): (path: string) => boolean {
  const c = compiled(glob);
  return (path) => matchesGlob(c, path);
}

const file = (path: string, oid = `oid-${path}`, mode = '100644'): TreeFile => ({ path, mode, oid, size: 10 });

/**
 * Where picomatch parts from the shell's globbing: a negated class or `{…}` starting a name
 * (it matches hidden names), `.` before `/**` (left unescaped), `**` inside a name (it crosses
 * directories there too), and a POSIX class after `**\/.` or beside `{…}` (it then matches no
 * hidden name at all).
 */
function picomatchPartsFromTheShell(glob: string): boolean {
  const segments = glob.split('/');
  if (glob.includes('[[:') && (glob.includes('{') || glob.includes('**'))) return true;
  return segments.some((s, i) => s.startsWith('[!') || s.startsWith('{') || (s !== '**' && s.includes('**')) || (s.endsWith('.') && segments[i + 1] === '**'));
}

describe('compileGlob', () => {
  it('matches *.ipynb in the directory itself only, and never a hidden name', () => {
    const m = matcher('*.ipynb');
    expect(['a.ipynb', 'with space.ipynb'].every(m)).toBe(true);
    expect(['sub/a.ipynb', '.hidden.ipynb', 'a.ipynb.bak', 'a.py'].some(m)).toBe(false);
  });

  it('lets ** cross directories, but not into hidden ones such as .ipynb_checkpoints', () => {
    const m = matcher('**/*.ipynb');
    expect(['a.ipynb', 'x/a.ipynb', 'x/y/z/a.ipynb'].every(m)).toBe(true);
    expect(['.ipynb_checkpoints/a-checkpoint.ipynb', 'x/.ipynb_checkpoints/a.ipynb', 'x/a.md'].some(m)).toBe(false);
    expect(matcher('docs/**')('docs/x/y.png')).toBe(true);
    expect(matcher('docs/**')('other/x.png')).toBe(false);
  });

  it('knows ?, classes, negated classes and alternatives, and reads other characters literally', () => {
    expect(matcher('0?-*.ipynb')('01-intro.ipynb')).toBe(true);
    expect(matcher('0?-*.ipynb')('1-intro.ipynb')).toBe(false);
    expect(matcher('[0-9]*.ipynb')('3.ipynb')).toBe(true);
    expect(matcher('[!0-9]*.ipynb')('3.ipynb')).toBe(false);
    expect(matcher('[!0-9]*.ipynb')('a.ipynb')).toBe(true);
    expect(['a.ipynb', 'b.png'].every(matcher('{*.ipynb,*.png}'))).toBe(true);
    expect(matcher('{*.ipynb,*.png}')('c.py')).toBe(false);
    expect(matcher('a+b(1).ipynb')('a+b(1).ipynb')).toBe(true);
    expect(matcher('a+b(1).ipynb')('aab1.ipynb')).toBe(false);
  });

  it('refuses what cannot be a pattern inside the sub-directory', () => {
    for (const [glob, problem] of [
      ['', 'is empty'],
      ['/abs/*.ipynb', 'must be relative to the sub-directory (no leading "/")'],
      ['../*.ipynb', 'must not contain "." or ".." segments'],
      ['a//b', 'must not contain empty segments ("//" or a trailing "/")'],
      ['{a,{b}}', 'has nested "{" in "{a,{b}}"'],
      ['{a,b', 'has an unclosed "{" in "{a,b"'],
    ] as const) {
      expect(compileGlob(glob), glob).toEqual({ ok: false, problem });
    }
  });

  it('takes a backslash to escape, and a file for a file only', () => {
    expect(matcher('a\\*b.ipynb')('a*b.ipynb')).toBe(true);
    expect(matcher('a\\*b.ipynb')('axb.ipynb')).toBe(false);
    expect(matcher('*.ipynb')('a.ipynb/')).toBe(false);
    expect(matcher('docs/**')('docs')).toBe(false);
  });

  it('takes any number of wildcards, and refuses only what is too long or says nothing', () => {
    for (const glob of [`${'*a'.repeat(20)}*b`, '**/a/**/a/**/b', '{a,b}{c,d}{e,f}*', 'notebooks/**/{*.ipynb,*.png}', 'a***b*c*d.ipynb']) {
      expect(compileGlob(glob).ok, glob).toBe(true);
    }
    expect(compileGlob('x'.repeat(257))).toEqual({ ok: false, problem: 'is longer than 256 characters' });
    expect(compileGlob('a\\')).toEqual({ ok: false, problem: 'ends "a\\" with a "\\" that escapes nothing' });
    expect(compileGlob('[[:vowel:]]*')).toMatchObject({ ok: false, problem: expect.stringContaining('has an unknown class "[:vowel:]"') });
    expect(compileGlob('[ab')).toEqual({ ok: false, problem: 'has an unclosed "[" in "[ab"' });
  });

  it('knows POSIX classes, ranges and escapes inside classes, and `{a}` as text', () => {
    expect(matcher('[[:digit:]][[:upper:]]*')('1A.ipynb')).toBe(true);
    expect(matcher('[[:digit:]][[:upper:]]*')('1a.ipynb')).toBe(false);
    expect(matcher('[]a]x')(']x')).toBe(true);
    expect(matcher('[!]a]x')('bx')).toBe(true);
    expect(matcher('[!]a]x')(']x')).toBe(false);
    expect(matcher('[a\\-z]')('-')).toBe(true);
    expect(matcher('[a\\-z]')('m')).toBe(false);
    expect(matcher('{a}.ipynb')('{a}.ipynb')).toBe(true);
    expect(matcher('{a,}b')('b')).toBe(true);
    expect(matcher('x/**/*')('x/a')).toBe(true);
  });

  it('matches the globs that make a backtracking matcher take seconds, wildcards without bound', () => {
    const name = 'a'.repeat(255);
    const long = Array.from({ length: 16 }, () => name).join('/');
    const deep = `${'a/'.repeat(2000)}${name}`;
    const alternatives = `{${Array.from({ length: 60 }, () => 'a').join(',')}}`;
    const cases = [
      [`${'*a'.repeat(40)}*b`, name],
      ['*a*a*b', name],
      ['**/*a*b', long],
      ['**/a*a/*b', long],
      ['**/a/**/a*b', deep],
      [`${'**/a/'.repeat(20)}**/b`, deep],
      [`${alternatives}*a*b`, name],
      [`${alternatives}${alternatives}*b`, name],
    ] as const;
    const started = performance.now();
    for (const [glob, path] of cases) expect(matcher(glob)(path), glob).toBe(false);
    // A guard against exponential time, not a speed target: a backtracking matcher takes minutes here.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(matcher(`${'*a'.repeat(40)}*b`)(`${'a'.repeat(40)}b`)).toBe(true);
    expect(matcher(`${'**/a/'.repeat(20)}**/b`)(`${'a/'.repeat(20)}b`)).toBe(true);
  });

  it('agrees with picomatch, where both are fast, on thousands of small globs and paths', () => {
    // A seeded generator: the same cases on every run. picomatch is the reference, except where
    // it parts from the shell, which this matcher follows (below, and in the test after this one).
    // mulberry32: small, and its low bits are as random as its high ones.
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
    };
    const pick = <T,>(items: readonly T[]): T => items[random(items.length)]!;
    const atoms = ['a', 'b', '.', '*', '?', '[ab]', '[a-c]', '[!a]', '{a,b*}', '{*a,b}', '-', '[[:alpha:]]'];
    const segment = (): string => {
      if (random(5) === 0) return '**';
      const start = random(4) === 0 ? '.' : '';
      return start + Array.from({ length: 1 + random(3) }, () => pick(atoms)).join('');
    };
    const glob = (): string => Array.from({ length: 1 + random(3) }, segment).join('/');
    const name = (): string => Array.from({ length: 1 + random(4) }, () => pick(['a', 'b', '.', '-', 'c'])).join('');
    const path = (): string => Array.from({ length: 1 + random(3) }, name).join('/');
    const differences: string[] = [];
    let matched = 0;
    for (let g = 0; g < 1500; g += 1) {
      const pattern = glob();
      if (picomatchPartsFromTheShell(pattern)) continue;
      const ours = compileGlob(pattern);
      if (!ours.ok) continue;
      const reference = picomatch.makeRe(pattern, { posix: true, noextglob: true, nonegate: true, keepQuotes: true, strictSlashes: true });
      for (let p = 0; p < 40; p += 1) {
        const candidate = path();
        if (candidate.split('/').some((n) => n === '.' || n === '..')) continue;
        const expected = reference.test(candidate);
        if (expected) matched += 1;
        if (matchesGlob(ours.glob, candidate) !== expected) differences.push(`${pattern} on ${candidate}: picomatch says ${expected}`);
      }
    }
    expect(differences.slice(0, 10)).toEqual([]);
    // Enough of the cases match for the comparison to mean something.
    expect(matched).toBeGreaterThan(1000);
  });

  it('reads a leading dot and a dot before /** as the shell does, where picomatch does not', () => {
    // picomatch lets `[!a]` and `{*a,b}` at the start of a name match a hidden one, and leaves
    // the `.` of `a./**` unescaped; bash's globbing does neither.
    expect(matcher('[!a]b')('.b')).toBe(false);
    expect(matcher('{*a,b}')('.xa')).toBe(false);
    expect(matcher('a./**/b')('aa/b')).toBe(false);
    expect(matcher('a./**/b')('a./b')).toBe(true);
    expect(matcher('x[!a]b')('x.b')).toBe(true);
    expect(matcher('**/.[a-c][[:alpha:]]{a,b*}')('.bcb')).toBe(true);
    expect(matcher('**/.[[:alpha:]]')('.a')).toBe(true);
    expect(matcher('**{a,b*}')('-/baa')).toBe(false);
  });
});

describe('selectFiles and planTree', () => {
  it('selects regular files the glob matches, and names the links and submodules it leaves out', () => {
    const selection = selectFiles(
      [file('a.ipynb'), file('run.ipynb', 'x', '100755'), file('link.ipynb', 'l', '120000'), file('sub.ipynb', 's', '160000'), file('b.md')],
      compiled('*.ipynb'),
    );
    expect(selection.files.map((f) => f.path)).toEqual(['a.ipynb', 'run.ipynb']);
    expect(selection.skipped).toEqual(['link.ipynb', 'sub.ipynb']);
  });

  it('puts each source under its destination, sorted', () => {
    const plan = planTree([
      { number: 1, dest: '', files: [file('b.ipynb', '1b'), file('a.ipynb', '1a')] },
      { number: 2, dest: 'extra/more', files: [file('a.ipynb', '2a')] },
    ]);
    expect(plan).toEqual({
      ok: true,
      files: [
        { path: 'a.ipynb', oid: '1a', size: 10, source: 1 },
        { path: 'b.ipynb', oid: '1b', size: 10, source: 1 },
        { path: 'extra/more/a.ipynb', oid: '2a', size: 10, source: 2 },
      ],
      contents: { 'a.ipynb': '1a', 'b.ipynb': '1b', 'extra/more/a.ipynb': '2a' },
    });
  });

  it('finds two sources publishing one name, and a file where another source needs a directory, either way round', () => {
    const plan = planTree([
      { number: 1, dest: '', files: [file('intro.ipynb'), file('data')] },
      { number: 2, dest: '', files: [file('intro.ipynb'), file('data/x.ipynb')] },
      { number: 3, dest: 'deep', files: [file('y.ipynb')] },
      { number: 4, dest: '', files: [file('deep')] },
    ]);
    expect(plan).toEqual({
      ok: false,
      collisions: [
        { path: 'intro.ipynb', first: 1, second: 2, kind: 'same-path' },
        { path: 'data', first: 1, second: 2, kind: 'file-and-directory' },
        { path: 'deep', first: 3, second: 4, kind: 'file-and-directory' },
      ],
    });
  });
});

describe('diffFiles and fingerprintOf', () => {
  it('tells added, changed and removed paths apart, prototype names included', () => {
    expect(diffFiles({ a: '1', b: '2', constructor: '3' }, { a: '1', b: '9', c: '4', toString: '5' })).toEqual({
      added: ['c', 'toString'],
      changed: ['b'],
      removed: ['constructor'],
    });
    expect(diffFiles({ a: '1' }, { a: '1' })).toEqual({ added: [], changed: [], removed: [] });
  });

  it('gives the same fingerprint to the same paths, contents and owner in any order, and another for any difference', () => {
    const one = fingerprintOf({ a: '1', b: '2' }, '0:0');
    expect(fingerprintOf({ b: '2', a: '1' }, '0:0')).toBe(one);
    expect(new Set([one, fingerprintOf({ a: '1', b: '3' }, '0:0'), fingerprintOf({ a: '1', c: '2' }, '0:0'), fingerprintOf({ a: '1', b: '2' }, '1000:100')]).size).toBe(4);
  });
});

describe('repositoryName', () => {
  it('names the repository as git clone would name its directory', () => {
    expect(repositoryName('git@github.com:Ouranosinc/pavics-sdi.git')).toBe('pavics-sdi');
    expect(repositoryName('https://user:token@github.com/Ouranosinc/pavics-sdi.git/')).toBe('pavics-sdi');
    expect(repositoryName('ssh://git@127.0.0.1:2222/notebooks.git')).toBe('notebooks');
    expect(repositoryName('/srv/git/tutorials/.git')).toBe('tutorials');
    expect(repositoryName('file:///srv/git/tutorials')).toBe('tutorials');
    expect(repositoryName('host:')).toBeUndefined();
  });
});

describe('trees that would leave the target', () => {
  const file = (path: string): { path: string; mode: string; oid: string; size: number } => ({ path, mode: '100644', oid: 'a'.repeat(40), size: 1 });
  it('are refused whole when a path holds .., ., an empty segment, a leading / or .git', () => {
    for (const bad of ['../escape.ipynb', 'a/../../b.ipynb', './a.ipynb', 'a//b.ipynb', '/etc/x.ipynb', 'sub/.git/config', 'sub/.GIT/hooks/x']) {
      expect(unsafeTreePath(bad), bad).toBe(true);
      expect(treeProblem([file('ok.ipynb'), file(bad)]), bad).toMatch(/^the tree holds a path that would leave the target or name git's own files/);
    }
    for (const good of ['a.ipynb', 'docs/..hidden/a.ipynb', 'x/.gitignore', 'a...b.ipynb']) expect(unsafeTreePath(good), good).toBe(false);
    expect(treeProblem([file('a.ipynb'), file('b/c.ipynb')])).toBeUndefined();
  });

  it('are refused when they hold more files than a source may publish', () => {
    const many = Array.from({ length: MAX_SOURCE_FILES + 1 }, (_, i) => file(`n${i}.ipynb`));
    expect(treeProblem(many)).toMatch(/holds 20001 files, more than the 20000 a source may publish/);
  });
});
