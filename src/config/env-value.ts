// Computes the value of one scanned assignment with dotenv (quotes) and
// dotenv-expand (parameter expansion), shielded from the places where they
// would read differently from /bin/sh:
// - dotenv turns `\n` in double quotes into a newline and cuts unquoted values
//   at any `#`; sh does neither. Every character the scanner already resolved
//   (escapes, quotes, `#`, braces, whitespace) is handed over as a private-use
//   placeholder and restored afterwards.
// - dotenv-expand re-expands the text it substitutes, so a value holding `$`
//   (a password, say) would be expanded again; the values it substitutes carry
//   their `$`, `\`, `{` and `}` as placeholders too.
// - dotenv-expand splits `${NAME}` with `String#split(null)`, which misreads
//   names containing "null", so names are handed over as aliases (V0, V1, ...).
// - for `${X-word}` and `${X+word}` dotenv-expand treats a set-but-empty X as
//   unset; sh does not, so that case is resolved here before expansion.

import { parse as dotenvParse } from 'dotenv';
import { expand } from 'dotenv-expand';
import type { AssignmentStatement, Piece } from './env-scanner.js';

const PRIVATE_USE = /[\uE000-\uF8FF]/g;
/** Characters that mean something to dotenv or dotenv-expand and never reach them raw. */
const SPECIAL = /[\\$`'"{}#\s]/g;
const EXPAND_KEY = 'AUTODEPLOY_VALUE';

/** Replaces characters by private-use code points that occur nowhere in the texts involved. */
class Shield {
  private readonly hidden = new Map<string, string>();
  private readonly revealed = new Map<string, string>();
  private next = 0xe000;
  private readonly taken: ReadonlySet<string>;

  constructor(texts: Iterable<string>) {
    const taken = new Set<string>();
    for (const text of texts) for (const m of text.matchAll(PRIVATE_USE)) taken.add(m[0]);
    this.taken = taken;
  }

  hide(text: string): string {
    return text.replace(SPECIAL, (ch) => this.placeholder(ch));
  }

  reveal(text: string): string {
    return text.replace(PRIVATE_USE, (ch) => this.revealed.get(ch) ?? ch);
  }

  private placeholder(ch: string): string {
    const known = this.hidden.get(ch);
    if (known !== undefined) return known;
    let p = String.fromCharCode(this.next);
    while (this.taken.has(p)) {
      this.next += 1;
      p = String.fromCharCode(this.next);
    }
    if (this.next > 0xf8ff) throw new Error('no private-use character left to shield a value');
    this.next += 1;
    this.hidden.set(ch, p);
    this.revealed.set(p, ch);
    return p;
  }
}

function collectTexts(pieces: readonly Piece[], out: string[], names: Set<string>): void {
  for (const piece of pieces) {
    if (piece.kind === 'text') out.push(piece.text);
    else {
      names.add(piece.name);
      collectTexts(piece.word, out, names);
    }
  }
}

/** The value of an assignment given the variables set before it. */
export function computeValue(statement: AssignmentStatement, context: Readonly<Record<string, string>>): string {
  const texts: string[] = [];
  const names = new Set<string>();
  collectTexts(statement.pieces, texts, names);
  const contextValues = [...names].map((n) => context[n]).filter((v): v is string => v !== undefined);
  const shield = new Shield([...texts, ...contextValues]);

  const aliases = new Map<string, string>();
  const alias = (name: string): string => {
    let a = aliases.get(name);
    if (a === undefined) {
      a = `V${aliases.size}`;
      aliases.set(name, a);
    }
    return a;
  };

  const render = (pieces: readonly Piece[]): string =>
    pieces
      .map((piece) => {
        if (piece.kind === 'text') return shield.hide(piece.text);
        const current = context[piece.name];
        if (current === '' && piece.op === '-') return '';
        if (current === '' && piece.op === '+') return render(piece.word);
        if (piece.op === '') return `\${${alias(piece.name)}}`;
        return `\${${alias(piece.name)}${piece.op}${render(piece.word)}}`;
      })
      .join('');

  const quote = statement.quoted === 'single' ? "'" : statement.quoted === 'double' ? '"' : '';
  const body = statement.quoted === 'single' ? shield.hide(texts.join('')) : render(statement.pieces);
  const parsed = dotenvParse(`${EXPAND_KEY}=${quote}${body}${quote}`);
  const raw = parsed[EXPAND_KEY];
  if (raw === undefined || Object.keys(parsed).length !== 1) {
    throw new Error(`dotenv did not read the value of ${statement.key} back as one value`);
  }
  if (statement.quoted === 'single' || aliases.size === 0) return shield.reveal(raw);

  const processEnv: Record<string, string> = {};
  for (const [name, a] of aliases) {
    const v = context[name];
    if (v !== undefined) processEnv[a] = shield.hide(v);
  }
  const result = expand({ parsed: { [EXPAND_KEY]: raw }, processEnv }).parsed?.[EXPAND_KEY];
  if (result === undefined) throw new Error(`dotenv-expand did not expand the value of ${statement.key}`);
  return shield.reveal(result);
}

/**
 * The `$NAME` and `${NAME}` of an assignment whose NAME is not set, with the line of their `$`:
 * sh puts "" in their place. Forms
 * that say what to do without the variable (`${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`,
 * `${NAME+word}`) are not; the references in their word are, when sh uses the word.
 */
export function unsetReferences(statement: AssignmentStatement, context: Readonly<Record<string, string>>): { name: string; line: number }[] {
  if (statement.quoted === 'single') return [];
  const found: { name: string; line: number }[] = [];
  const walk = (pieces: readonly Piece[]): void => {
    for (const piece of pieces) {
      if (piece.kind === 'text') continue;
      const value = context[piece.name];
      if (piece.op === '' && value === undefined) found.push({ name: piece.name, line: piece.line });
      const wordUsed =
        piece.op === ':-' ? (value ?? '') === '' : piece.op === '-' ? value === undefined : piece.op === ':+' ? (value ?? '') !== '' : piece.op === '+' ? value !== undefined : false;
      if (wordUsed) walk(piece.word);
    }
  };
  walk(statement.pieces);
  return found;
}
