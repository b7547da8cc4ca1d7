import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/config/env-file.js';
import { formatIssue } from '../../src/core/issues.js';

const FILE = 'env.local';
const EVAL = 'set AUTODEPLOY_ENV_EVAL=sh to have /bin/sh evaluate env.local';
const SUPPORTED = 'only ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:+alt} and ${NAME+alt} are supported';

function values(text: string, context: Record<string, string> = {}): Record<string, string> {
  const result = parseEnvFile(text, FILE, context);
  expect(result.issues.map(formatIssue)).toEqual([]);
  return Object.fromEntries(result.assignments.map((a) => [a.key, a.value]));
}

function problems(text: string): string[] {
  return parseEnvFile(text, FILE, {}).issues.map(formatIssue);
}

describe('parseEnvFile: what it reads', () => {
  it('reads export, plain assignments, blank lines and comments', () => {
    const text = ['# a comment', '', 'export A=one', 'B=two # trailing comment', '   C=three', 'export A', 'D=', 'E=#not-a-comment'].join('\n');
    expect(values(text)).toEqual({ A: 'one', B: 'two', C: 'three', D: '', E: '#not-a-comment' });
  });

  it('records file, line and quoting of every assignment', () => {
    const result = parseEnvFile(['A=1', '', "B='x'", 'C="multi', 'line"', 'D="d"'].join('\n'), FILE, {});
    expect(result.assignments).toEqual([
      { key: 'A', value: '1', file: FILE, line: 1, quoted: 'none' },
      { key: 'B', value: 'x', file: FILE, line: 3, quoted: 'single' },
      { key: 'C', value: 'multi\nline', file: FILE, line: 4, quoted: 'double' },
      { key: 'D', value: 'd', file: FILE, line: 6, quoted: 'double' },
    ]);
  });

  it('keeps single-quoted values literal', () => {
    expect(values("A='$HOME ${X:-y} \\n \"q\" # not a comment'", { HOME: '/root' })).toEqual({
      A: '$HOME ${X:-y} \\n "q" # not a comment',
    });
  });

  it('handles escapes in double quotes as sh does', () => {
    // \" \\ \$ \` are escapes; any other backslash stays; \n is not a newline
    expect(values(String.raw`A="a\"b \\ \$HOME \` \n \x"`, { HOME: '/root' })).toEqual({ A: 'a"b \\ $HOME ` \\n \\x' });
  });

  it('handles escapes and line continuations in unquoted values', () => {
    expect(values(['A=a\\ b\\#c\\$d', 'B=one\\', 'two'].join('\n'))).toEqual({ A: 'a b#c$d', B: 'onetwo' });
  });

  it('keeps # inside unquoted words and quoted values', () => {
    expect(values(['URL=http://host/#frag', 'Q="a # b"'].join('\n'))).toEqual({ URL: 'http://host/#frag', Q: 'a # b' });
  });

  it('reads multi-line quoted values and points at the line where they start', () => {
    const text = ['X="first', 'second', "third'quote\"", "Y='one", 'two #three', "'", 'Z=after'].join('\n');
    const result = parseEnvFile(text, FILE, {});
    expect(result.issues).toEqual([]);
    expect(result.assignments.map((a) => [a.key, a.line, a.value])).toEqual([
      ['X', 1, "first\nsecond\nthird'quote"],
      ['Y', 4, 'one\ntwo #three\n'],
      ['Z', 7, 'after'],
    ]);
  });

  it('expands $VAR and ${VAR} from the context and from earlier lines, in order', () => {
    const text = ['A="$HOME/a"', 'B=${A}/b', 'C="$B-$UNSET-end"', 'HOME=/elsewhere', 'D=$HOME'].join('\n');
    expect(values(text, { HOME: '/root' })).toEqual({
      A: '/root/a',
      B: '/root/a/b',
      C: '/root/a/b--end',
      HOME: '/elsewhere',
      D: '/elsewhere',
    });
  });

  it('lets a variable refer to its previous value', () => {
    expect(values(['P="$P:/opt/bin"', 'P="$P more"'].join('\n'), { P: '/usr/bin' })).toEqual({ P: '/usr/bin:/opt/bin more' });
  });

  it('applies defaults and alternatives with the set/empty distinction of sh', () => {
    const text = [
      'EMPTY=',
      'SET=v',
      'A="${UNSET:-d1}|${EMPTY:-d2}|${SET:-d3}"',
      'B="${UNSET-d1}|${EMPTY-d2}|${SET-d3}"',
      'C="${UNSET:+a1}|${EMPTY:+a2}|${SET:+a3}"',
      'D="${UNSET+a1}|${EMPTY+a2}|${SET+a3}"',
      'E=${UNSET:-a b}',
      'F="${UNSET:-${SET}-nested}"',
      'G="${UNSET:-{x}}"',
    ].join('\n');
    expect(values(text)).toMatchObject({
      A: 'd1|d2|v',
      B: 'd1||v',
      C: '||a3',
      D: '|a2|a3',
      E: 'a b',
      F: 'v-nested',
      G: '{x}',
    });
  });

  it('does not expand what a substituted value contains', () => {
    const text = ["PASSWORD='pa$$w0rd${X}\\'", 'COPY="$PASSWORD"', 'ESCAPED="\\$HOME"', 'AGAIN="$ESCAPED"'].join('\n');
    expect(values(text, { HOME: '/root', X: 'x' })).toEqual({
      PASSWORD: 'pa$$w0rd${X}\\',
      COPY: 'pa$$w0rd${X}\\',
      ESCAPED: '$HOME',
      AGAIN: '$HOME',
    });
  });

  it('expands names that contain "null" correctly', () => {
    expect(values(['nullable=n', 'A=$nullable', 'B=${nullable:-d}'].join('\n'))).toEqual({ nullable: 'n', A: 'n', B: 'n' });
  });

  it('keeps a dollar that sh keeps', () => {
    expect(values(['A="cost: $ 5"', 'B=a$', 'C="x$/y"'].join('\n'))).toEqual({ A: 'cost: $ 5', B: 'a$', C: 'x$/y' });
  });

  it('accepts CRLF line ends and a byte-order mark', () => {
    expect(values('\uFEFFA=1\r\nB="x"\r\n')).toEqual({ A: '1', B: 'x' });
  });
});

describe('parseEnvFile: what it refuses', () => {
  const cases: readonly (readonly [string, string, readonly string[]])[] = [
    ['command substitution $(...)', 'A=1\nB=$(date)', [`${FILE}:2: command substitution is not supported in env.local; put the literal value, or ${EVAL}`]],
    ['command substitution in double quotes', 'A="x $(date) y"', [`${FILE}:1: command substitution is not supported in env.local; put the literal value, or ${EVAL}`]],
    ['backquotes', 'A=`date`', [`${FILE}:1: command substitution is not supported in env.local; put the literal value, or ${EVAL}`]],
    ['backquotes in double quotes', 'A="x `date`"', [`${FILE}:1: command substitution is not supported in env.local; put the literal value, or ${EVAL}`]],
    ['arithmetic', 'A="$((1+2))"', [`${FILE}:1: arithmetic expansion $((...)) is not supported in env.local; put the literal value, or ${EVAL}`]],
    [
      'if block (reported once, at its start)',
      'if [ -f x ]; then\n  A=1\nelse\n  A=2\nfi',
      [`${FILE}:1: shell "if" statements are not supported in env.local, which is read as NAME=value lines; write the resulting values directly, or ${EVAL}`],
    ],
    [
      'for loop',
      'for x in a b; do\n  A=1\ndone',
      [`${FILE}:1: shell "for" statements are not supported in env.local, which is read as NAME=value lines; write the resulting values directly, or ${EVAL}`],
    ],
    [
      'while loop',
      'while true; do :; done',
      [`${FILE}:1: shell "while" statements are not supported in env.local, which is read as NAME=value lines; write the resulting values directly, or ${EVAL}`],
    ],
    [
      'case',
      'case "$X" in\n  a) A=1 ;;\nesac',
      [`${FILE}:1: shell "case" statements are not supported in env.local, which is read as NAME=value lines; write the resulting values directly, or ${EVAL}`],
    ],
    ['stray then', 'then', [`${FILE}:1: shell keyword "then" is not supported in env.local; ${EVAL}`]],
    ['stray fi', 'fi', [`${FILE}:1: shell keyword "fi" is not supported in env.local; ${EVAL}`]],
    ['stray do', 'do', [`${FILE}:1: shell keyword "do" is not supported in env.local; ${EVAL}`]],
    ['stray done', 'done', [`${FILE}:1: shell keyword "done" is not supported in env.local; ${EVAL}`]],
    ['commands inside a reported block', 'if true; then\n  echo x\n  for i in 1; do\n    A=$(y)\n  done\nfi\necho z', [
      `${FILE}:1: shell "if" statements are not supported in env.local, which is read as NAME=value lines; write the resulting values directly, or ${EVAL}`,
      `${FILE}:4: command substitution is not supported in env.local; put the literal value, or ${EVAL}`,
      `${FILE}:7: "echo z" is not an assignment: env.local holds NAME=value lines (sh would run it as a command; ${EVAL} if that is intended)`,
    ]],
    ['stray elif', 'elif', [`${FILE}:1: shell keyword "elif" is not supported in env.local; ${EVAL}`]],
    ['function keyword', 'function f {\n  echo x\n}\nA=$(y)', [
      `${FILE}:1: shell function definitions are not supported in env.local; ${EVAL}`,
      `${FILE}:4: command substitution is not supported in env.local; put the literal value, or ${EVAL}`,
    ]],
    ['function definition', 'f() { A=1; }', [`${FILE}:1: shell function definitions are not supported in env.local; ${EVAL}`]],
    ['source', 'source other.env', [`${FILE}:1: including another file ("source") is not supported in env.local; copy its assignments here, or ${EVAL}`]],
    ['dot', '. ./other.env', [`${FILE}:1: including another file (".") is not supported in env.local; copy its assignments here, or ${EVAL}`]],
    ['unset', 'unset A', [`${FILE}:1: "unset" is not supported in env.local; assign an empty value instead (NAME=)`]],
    ['readonly', 'readonly A=1', [`${FILE}:1: "readonly" is not supported in env.local; write NAME=value or export NAME=value`]],
    ['semicolon', 'A=1; B=2', [`${FILE}:1: ";" is a command separator in sh; env.local holds one NAME=value per line (quote the value if ";" is part of it, or ${EVAL})`]],
    ['&&', 'A=1 && B=2', [`${FILE}:1: "&" is a background or "&&" operator in sh; env.local holds one NAME=value per line (quote the value if "&" is part of it, or ${EVAL})`]],
    ['||', 'A=1 || B=2', [`${FILE}:1: "|" is a pipe or "||" operator in sh; env.local holds one NAME=value per line (quote the value if "|" is part of it, or ${EVAL})`]],
    ['pipe inside a value', 'A=a|b', [`${FILE}:1: "|" is a pipe or "||" operator in sh; env.local holds one NAME=value per line (quote the value if "|" is part of it, or ${EVAL})`]],
    ['redirection', 'A=1 > out', [`${FILE}:1: ">" is a redirection in sh; env.local holds one NAME=value per line (quote the value if ">" is part of it, or ${EVAL})`]],
    ['input redirection', 'A=1 <in', [`${FILE}:1: "<" is a redirection in sh; env.local holds one NAME=value per line (quote the value if "<" is part of it, or ${EVAL})`]],
    ['a command', 'echo hello', [`${FILE}:1: "echo hello" is not an assignment: env.local holds NAME=value lines (sh would run it as a command; ${EVAL} if that is intended)`]],
    ['spaces around =', 'A = 1', [`${FILE}:1: spaces around "=" are not allowed: write A=value`]],
    ['${#X}', 'A=${#B}', [`${FILE}:1: unsupported parameter expansion "\${#B}" in the value of A: ${SUPPORTED}`]],
    ['${X#pattern}', 'A=${B#x}', [`${FILE}:1: unsupported parameter expansion "\${B#x}" in the value of A: ${SUPPORTED}`]],
    ['${X%pattern}', 'A="${B%x}"', [`${FILE}:1: unsupported parameter expansion "\${B%x}" in the value of A: ${SUPPORTED}`]],
    ['${X/a/b}', 'A=${B/x/y}', [`${FILE}:1: unsupported parameter expansion "\${B/x/y}" in the value of A: ${SUPPORTED}`]],
    ['${X:=default}', 'A=${B:=x}', [`${FILE}:1: unsupported parameter expansion "\${B:=x}" in the value of A: ${SUPPORTED}`]],
    ['${X:?message}', 'A=${B:?x}', [`${FILE}:1: unsupported parameter expansion "\${B:?x}" in the value of A: ${SUPPORTED}`]],
    ['${X:offset}', 'A=${B:1}', [`${FILE}:1: unsupported parameter expansion "\${B:1}" in the value of A: ${SUPPORTED}`]],
    ['${X:offset:length}', 'A=${B:1:2}', [`${FILE}:1: unsupported parameter expansion "\${B:1:2}" in the value of A: ${SUPPORTED}`]],
    ['${!X}', 'A=${!B}', [`${FILE}:1: unsupported parameter expansion "\${!B}" in the value of A: ${SUPPORTED}`]],
    ['unclosed ${', 'A=${B\nC=1', [`${FILE}:1: "\${" opened here is never closed in the value of A; add the closing "}"`]],
    ['positional parameter', 'A="$1"', [`${FILE}:1: "$1" is a special shell parameter, which is not supported in the value of A; write \\$ (or use single quotes) for a literal dollar sign`]],
    ['$$', 'A="pa$$word"', [`${FILE}:1: "$$" is a special shell parameter, which is not supported in the value of A; write \\$ (or use single quotes) for a literal dollar sign`]],
    ["$'...'", "A=$'x'", [`${FILE}:1: $'...' quoting is not supported in the value of A; use plain quotes`]],
    ['quotes inside ${...}', 'A="${B:-"x"}"', [`${FILE}:1: quotes inside "\${B:-"x"}" are not supported in the value of A; quote the whole value instead`]],
    ['unterminated double quote', 'X=1\nA="abc\nB=2\nC=3', [`${FILE}:2: unterminated double quote: the quote opened on this line is never closed; add the closing quote`]],
    ['unterminated single quote', "A='abc\nB=2", [`${FILE}:1: unterminated single quote: the quote opened on this line is never closed; add the closing quote`]],
    ['unquoted whitespace', 'A=a b', [`${FILE}:1: the value of A is followed by "b", which sh would run as a command; quote the whole value (A="...") or start a comment with " #"`]],
    ['text after a quoted value', 'A="a" rm -rf x', [`${FILE}:1: the value of A is followed by "rm -rf x", which sh would run as a command; quote the whole value (A="...") or start a comment with " #"`]],
    ['two assignments on a line', 'A=1 B=2', [`${FILE}:1: more than one assignment on a line; put each NAME=value on its own line`]],
    ['mixed quote styles', `A="a"'b'`, [`${FILE}:1: the value of A mixes quote styles; quote the whole value in one style, e.g. A="..."`]],
    ['unquoted then quoted', 'A=a"b"', [`${FILE}:1: the value of A mixes quoted and unquoted text; quote the whole value, e.g. A="..."`]],
    ['quoted then unquoted', "A='a'b", [`${FILE}:1: the value of A mixes quoted and unquoted text; quote the whole value, e.g. A="..."`]],
    ['name starting with a digit', '1A=x', [`${FILE}:1: "1A" is not a valid variable name: names are letters, digits and _, not starting with a digit`]],
    ['name with a dash', 'A-B=x', [`${FILE}:1: "A-B" is not a valid variable name: names are letters, digits and _, not starting with a digit`]],
    ['name with a dot', 'export A.B=x', [`${FILE}:1: "A.B" is not a valid variable name: names are letters, digits and _, not starting with a digit`]],
    ['export of an invalid name', 'export 1A', [`${FILE}:1: "1A" is not a valid variable name: names are letters, digits and _, not starting with a digit`]],
    ['export mixing names and assignments', 'export A B=2', [`${FILE}:1: "export" with both names and assignments; put each NAME=value on its own line`]],
    ['tilde', 'P=~/bin', [`${FILE}:1: the value of P starts a path with "~", which sh replaces with a home directory; write $HOME instead, or quote the value to keep "~"`]],
    ['tilde after a colon', 'P=/bin:~/bin', [`${FILE}:1: the value of P starts a path with "~", which sh replaces with a home directory; write $HOME instead, or quote the value to keep "~"`]],
  ];

  it.each(cases)('%s', (_what, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it('reports every problem of a file, and still reads the good lines', () => {
    const text = ['A=1', 'B=$(x)', 'C="multi', 'line `y`"', 'D=ok', 'E=a b', "F='it''s'", 'G=`z`'].join('\n');
    const result = parseEnvFile(text, FILE, {});
    expect(result.issues.map(formatIssue)).toEqual([
      `${FILE}:2: command substitution is not supported in env.local; put the literal value, or ${EVAL}`,
      `${FILE}:3: command substitution is not supported in env.local; put the literal value, or ${EVAL}`,
      `${FILE}:6: the value of E is followed by "b", which sh would run as a command; quote the whole value (E="...") or start a comment with " #"`,
      `${FILE}:7: the value of F mixes quote styles; quote the whole value in one style, e.g. F="..."`,
      `${FILE}:8: command substitution is not supported in env.local; put the literal value, or ${EVAL}`,
    ]);
    expect(result.assignments.map((a) => `${a.key}=${a.value}@${a.line}`)).toEqual(['A=1@1', 'D=ok@5']);
  });

  it('names the file it was given', () => {
    expect(parseEnvFile('A=$(x)', '/srv/platform/env.local', {}).issues).toEqual([
      {
        file: '/srv/platform/env.local',
        line: 1,
        message: 'command substitution is not supported in env.local; put the literal value, or set AUTODEPLOY_ENV_EVAL=sh to have /bin/sh evaluate env.local',
      },
    ]);
  });
});

describe('parseEnvFile: references to variables nothing set', () => {
  const unset = (text: string, context: Record<string, string> = {}) => parseEnvFile(text, FILE, context).unset.map((u) => [u.name, u.key, u.line]);

  it('finds $NAME and ${NAME} that neither an earlier line nor the context sets, at the line of their $', () => {
    expect(unset(['A=$UNSET/x', 'B="${ALSO_UNSET}"', 'C="first', 'then $THIRD"'].join('\n'))).toEqual([
      ['UNSET', 'A', 1],
      ['ALSO_UNSET', 'B', 2],
      ['THIRD', 'C', 4],
    ]);
  });

  it('does not count what an earlier line, the context or an empty assignment set', () => {
    expect(unset(['EMPTY=', 'A=$EMPTY$EARLIER', 'EARLIER=1', 'B=$EARLIER$HOME'].join('\n'), { HOME: '/root' })).toEqual([['EARLIER', 'A', 2]]);
  });

  it('does not count the forms that say what to do without the variable, nor literal dollars', () => {
    expect(unset(['A=${U:-d}${U-d}${U:+a}${U+a}', "B='$U'", 'C=\\$U', 'D="\\$U"'].join('\n'))).toEqual([]);
  });

  it('counts the references of a default or an alternative only when sh uses it', () => {
    expect(unset('A=${U:-$D1}${U-${D2}}${U:+$D3}${U+$D4}')).toEqual([['D1', 'A', 1], ['D2', 'A', 1]]);
    expect(unset('A=${S:-$D1}${S-${D2}}${S:+$D3}${S+$D4}', { S: 'set' })).toEqual([['D3', 'A', 1], ['D4', 'A', 1]]);
    expect(unset('A=${E:-$D1}${E-${D2}}${E:+$D3}${E+$D4}', { E: '' })).toEqual([['D1', 'A', 1], ['D4', 'A', 1]]);
  });
});
