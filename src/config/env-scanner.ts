// Finds the statements of a shell-style env file, with their line numbers, and
// rejects every construct whose meaning under /bin/sh the dotenv family cannot
// reproduce. The values themselves are computed in env-value.ts. Over 300 lines as one
// file: one hand-written scanner of one grammar, whose states belong together.

import { basename } from 'node:path';
import type { ConfigIssue } from '../core/issues.js';
import { isSecretName } from '../core/secrets.js';

export type QuoteStyle = 'single' | 'double' | 'none';

/** The parameter expansions that sh and dotenv-expand agree on. */
export type ParamOp = '' | ':-' | '-' | ':+' | '+';

/** A value as sh reads it: literal text (quotes and escapes already removed) and expansions. */
export type Piece =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'param';
      readonly name: string;
      readonly op: ParamOp;
      readonly word: readonly Piece[];
      /** the line of its `$` (1-based) */
      readonly line: number;
    };

export interface AssignmentStatement {
  readonly key: string;
  /** line where the statement starts (1-based) */
  readonly line: number;
  readonly quoted: QuoteStyle;
  readonly pieces: readonly Piece[];
}

export interface ScanResult {
  readonly statements: readonly AssignmentStatement[];
  readonly issues: readonly ConfigIssue[];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const OPERATOR_CHARS = ';&|<>()';
const BLOCK_OPENERS = new Set(['if', 'for', 'while', 'until', 'case']);
const BLOCK_CLOSERS: Readonly<Record<string, string>> = { if: 'fi', for: 'done', while: 'done', until: 'done', case: 'esac' };
const BLOCK_MIDDLES = new Set(['then', 'else', 'elif', 'do']);
const CLOSERS = new Set(['fi', 'done', 'esac', '}']);
const DECLARATIONS = new Set(['readonly', 'declare', 'local', 'typeset']);

/** A problem in one statement; the scanner reports it and moves on to the next statement. */
class Problem {
  constructor(
    readonly message: string,
    /** no later statement can be trusted (an unterminated quote swallows the rest of the file) */
    readonly fatal = false,
    readonly line: number | undefined = undefined,
  ) {}
}

class PieceBuilder {
  readonly pieces: Piece[] = [];
  text(s: string): void {
    const last = this.pieces.at(-1);
    if (last?.kind === 'text') this.pieces[this.pieces.length - 1] = { kind: 'text', text: last.text + s };
    else this.pieces.push({ kind: 'text', text: s });
  }
  param(p: Piece): void {
    this.pieces.push(p);
  }
}

type Context = 'none' | 'double';

class Scanner {
  private pos = 0;
  private line = 1;
  private blockDepth = 0;
  private readonly statements: AssignmentStatement[] = [];
  private readonly issues: ConfigIssue[] = [];
  private readonly evalHint: string;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {
    this.evalHint = `set AUTODEPLOY_ENV_EVAL=sh to have /bin/sh evaluate ${basename(file)}`;
  }

  scan(): ScanResult {
    while (this.skipBlank()) {
      if (this.peek() === '#') {
        this.skipComment();
        continue;
      }
      const startPos = this.pos;
      const startLine = this.line;
      try {
        this.statement(startLine);
      } catch (error) {
        if (!(error instanceof Problem)) throw error;
        this.issues.push({ file: this.file, line: error.line ?? startLine, message: error.message });
        if (error.fatal) break;
        this.pos = startPos;
        this.line = startLine;
        try {
          this.skipStatement();
        } catch (skipError) {
          if (!(skipError instanceof Problem)) throw skipError;
          this.issues.push({ file: this.file, line: skipError.line ?? startLine, message: skipError.message });
          break;
        }
      }
    }
    return { statements: this.statements, issues: this.issues };
  }

  // ---- statements

  private statement(startLine: number): void {
    let exported = false;
    const exportMatch = /^export(?=[ \t\n#]|$)/.exec(this.rest());
    if (exportMatch) {
      exported = true;
      this.pos += exportMatch[0].length;
      this.skipSpaces();
    }
    const assign = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(this.rest());
    if (assign?.[1] !== undefined) {
      const key = assign[1];
      this.pos += assign[0].length;
      this.value(key, startLine);
      return;
    }
    if (exported) {
      this.exportNames();
      return;
    }
    this.notAnAssignment();
  }

  /** `export NAME...` without a value only marks names for export: nothing to record. */
  private exportNames(): void {
    for (;;) {
      if (this.atStatementEnd()) {
        this.endStatement();
        return;
      }
      const name = /^[A-Za-z_][A-Za-z0-9_]*(?=[ \t\n#]|$)/.exec(this.rest());
      if (name === null) {
        const word = this.firstWord();
        const eq = word.indexOf('=');
        const named = eq < 0 ? word : word.slice(0, eq);
        if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(named)) {
          throw new Problem(`"export" with both names and assignments; put each NAME=value on its own line`);
        }
        throw new Problem(`"${named}" is not a valid variable name: names are letters, digits and _, not starting with a digit`);
      }
      this.pos += name[0].length;
      this.skipSpaces();
    }
  }

  private notAnAssignment(): void {
    const word = this.firstWord();
    const text = this.lineText();
    const eq = word.indexOf('=');
    if (eq > 0) {
      throw new Problem(
        `"${word.slice(0, eq)}" is not a valid variable name: names are letters, digits and _, not starting with a digit`,
      );
    }
    if (BLOCK_OPENERS.has(word)) {
      const closer = BLOCK_CLOSERS[word] ?? '';
      const nested = this.blockDepth > 0;
      if (!new RegExp(`(^|[\\s;])${closer}([\\s;]|$)`).test(text)) this.blockDepth += 1;
      if (nested) {
        this.skipStatement();
        return;
      }
      throw new Problem(
        `shell "${word}" statements are not supported in ${basename(this.file)}, which is read as NAME=value lines; ` +
          `write the resulting values directly, or ${this.evalHint}`,
      );
    }
    if (BLOCK_MIDDLES.has(word) || CLOSERS.has(word)) {
      const inside = this.blockDepth > 0;
      if (CLOSERS.has(word) && inside) this.blockDepth -= 1;
      if (inside) {
        // already reported at the statement that opened the block
        this.skipStatement();
        return;
      }
      throw new Problem(`shell keyword "${word}" is not supported in ${basename(this.file)}; ${this.evalHint}`);
    }
    if (word === 'function' || /^[A-Za-z_][A-Za-z0-9_]*\s*\(\s*\)/.test(text)) {
      if (!/(^|[\s;])}([\s;]|$)/.test(text)) this.blockDepth += 1;
      throw new Problem(`shell function definitions are not supported in ${basename(this.file)}; ${this.evalHint}`);
    }
    if (this.blockDepth > 0) {
      // inside a block already reported at its first line
      this.skipStatement();
      return;
    }
    if (word === 'source' || word === '.') {
      throw new Problem(
        `including another file ("${word}") is not supported in ${basename(this.file)}; ` +
          `copy its assignments here, or ${this.evalHint}`,
      );
    }
    if (word === 'unset') {
      throw new Problem(`"unset" is not supported in ${basename(this.file)}; assign an empty value instead (NAME=)`);
    }
    if (DECLARATIONS.has(word)) {
      throw new Problem(`"${word}" is not supported in ${basename(this.file)}; write NAME=value or export NAME=value`);
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(word) && /^[A-Za-z_][A-Za-z0-9_]*[ \t]+=/.test(text)) {
      throw new Problem(`spaces around "=" are not allowed: write ${word}=value`);
    }
    if (word === '' && text !== '' && OPERATOR_CHARS.includes(text[0] ?? '')) {
      throw new Problem(`unexpected "${text[0] ?? ''}": ${basename(this.file)} holds NAME=value lines; ${this.evalHint}`);
    }
    throw new Problem(
      `"${truncate(text)}" is not an assignment: ${basename(this.file)} holds NAME=value lines ` +
        `(sh would run it as a command; ${this.evalHint} if that is intended)`,
    );
  }

  // ---- values

  private value(key: string, startLine: number): void {
    const c = this.peek();
    let quoted: QuoteStyle;
    let pieces: readonly Piece[];
    if (c === "'") {
      quoted = 'single';
      pieces = [{ kind: 'text', text: this.singleQuoted() }];
    } else if (c === '"') {
      quoted = 'double';
      pieces = this.doubleQuoted(key);
    } else {
      quoted = 'none';
      pieces = this.unquoted(key);
    }
    this.valueEnd(key, quoted);
    this.statements.push({ key, line: startLine, quoted, pieces });
  }

  private valueEnd(key: string, quoted: QuoteStyle): void {
    const c = this.peek();
    if (c === undefined || c === '\n') {
      this.endStatement();
      return;
    }
    if (c === ' ' || c === '\t') {
      this.skipSpaces();
      const next = this.peek();
      if (next === undefined || next === '\n') {
        this.endStatement();
        return;
      }
      if (next === '#') {
        this.skipComment();
        this.endStatement();
        return;
      }
      if (OPERATOR_CHARS.includes(next)) throw this.operatorProblem(next);
      if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(this.rest())) {
        throw new Problem(`more than one assignment on a line; put each NAME=value on its own line`);
      }
      throw new Problem(
        `the value of ${key} is followed by ${shown(key, truncate(this.lineText()))}, which sh would run as a command; ` +
          `quote the whole value (${key}="...") or start a comment with " #"`,
      );
    }
    if (OPERATOR_CHARS.includes(c)) throw this.operatorProblem(c);
    if ((c === '"' || c === "'") && quoted !== 'none') {
      throw new Problem(`the value of ${key} mixes quote styles; quote the whole value in one style, e.g. ${key}="..."`);
    }
    throw new Problem(
      `the value of ${key} mixes quoted and unquoted text; quote the whole value, e.g. ${key}="..."`,
    );
  }

  private singleQuoted(): string {
    const openLine = this.line;
    this.pos += 1;
    const end = this.src.indexOf("'", this.pos);
    if (end < 0) throw this.unterminated('single quote', openLine);
    const text = this.src.slice(this.pos, end);
    this.countLines(text);
    this.pos = end + 1;
    return text;
  }

  private doubleQuoted(key: string): Piece[] {
    const openLine = this.line;
    const out = new PieceBuilder();
    this.pos += 1;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.unterminated('double quote', openLine);
      if (c === '"') {
        this.pos += 1;
        return out.pieces;
      }
      if (c === '\\') {
        if (this.src[this.pos + 1] === undefined) throw this.unterminated('double quote', openLine);
        this.backslash(out, (next) => '$`"\\'.includes(next));
        continue;
      }
      if (c === '`') throw this.commandSubstitution();
      if (c === '$') {
        this.dollar(out, 'double', key);
        continue;
      }
      if (c === '\n') this.line += 1;
      out.text(c);
      this.pos += 1;
    }
  }

  /**
   * A backslash at the cursor, as sh reads it: before a newline, a line continuation; before a
   * character `escapes` accepts, that character; otherwise (or at the end) the backslash itself.
   */
  private backslash(out: PieceBuilder, escapes: (next: string) => boolean): void {
    const next = this.src[this.pos + 1];
    if (next === '\n') {
      this.pos += 2;
      this.line += 1;
    } else if (next !== undefined && escapes(next)) {
      out.text(next);
      this.pos += 2;
    } else {
      out.text('\\');
      this.pos += 1;
    }
  }

  private unquoted(key: string): Piece[] {
    const out = new PieceBuilder();
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === ' ' || c === '\t' || c === '\n') return out.pieces;
      if (c === '\\') {
        this.backslash(out, () => true);
        continue;
      }
      if (c === "'" || c === '"') {
        throw new Problem(
          `the value of ${key} mixes quoted and unquoted text; quote the whole value, e.g. ${key}="..."`,
        );
      }
      if (c === '`') throw this.commandSubstitution();
      if (OPERATOR_CHARS.includes(c)) throw this.operatorProblem(c);
      if (c === '~' && (this.pos === start || this.src[this.pos - 1] === ':')) {
        throw new Problem(
          `the value of ${key} starts a path with "~", which sh replaces with a home directory; write $HOME instead, or quote the value to keep "~"`,
        );
      }
      if (c === '$') {
        this.dollar(out, 'none', key);
        continue;
      }
      out.text(c);
      this.pos += 1;
    }
  }

  /** At a `$`: an expansion, or a literal dollar where sh keeps one. */
  private dollar(out: PieceBuilder, context: Context, key: string): void {
    const next = this.src[this.pos + 1];
    if (next === '(') {
      if (this.src[this.pos + 2] === '(') {
        throw new Problem(
          `arithmetic expansion $((...)) is not supported in ${basename(this.file)}; put the literal value, or ${this.evalHint}`,
        );
      }
      throw this.commandSubstitution();
    }
    if (next === '{') {
      out.param(this.braced(context, key));
      return;
    }
    if (next !== undefined && NAME_START.test(next)) {
      let end = this.pos + 1;
      while (end < this.src.length && NAME_CHAR.test(this.src[end] ?? '')) end += 1;
      out.param({ kind: 'param', name: this.src.slice(this.pos + 1, end), op: '', word: [], line: this.line });
      this.pos = end;
      return;
    }
    if (next !== undefined && /[0-9@*#?$!-]/.test(next)) {
      throw new Problem(
        `"$${next}" is a special shell parameter, which is not supported in the value of ${key}; ` +
          `write \\$ (or use single quotes) for a literal dollar sign`,
      );
    }
    if (context === 'none' && (next === "'" || next === '"')) {
      throw new Problem(`$${next}...${next} quoting is not supported in the value of ${key}; use plain quotes`);
    }
    out.text('$');
    this.pos += 1;
  }

  private braced(context: Context, key: string): Piece {
    const openLine = this.line;
    const exprStart = this.pos;
    this.pos += 2;
    const supported = 'only ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:+alt} and ${NAME+alt} are supported';
    const first = this.peek();
    if (first !== undefined && /[#!0-9@*?$-]/.test(first)) {
      throw new Problem(`unsupported parameter expansion ${shown(key, this.snippet(exprStart))} in the value of ${key}: ${supported}`);
    }
    let end = this.pos;
    while (end < this.src.length && NAME_CHAR.test(this.src[end] ?? '')) end += 1;
    const name = this.src.slice(this.pos, end);
    if (name === '') {
      throw new Problem(`bad substitution ${shown(key, this.snippet(exprStart))} in the value of ${key}: ${supported}`);
    }
    this.pos = end;
    const rest = this.rest();
    if (rest === '' || rest.startsWith('\n')) {
      throw new Problem(`"\${" opened here is never closed in the value of ${key}; add the closing "}"`, false, openLine);
    }
    let op: ParamOp;
    if (rest.startsWith('}')) {
      this.pos += 1;
      return { kind: 'param', name, op: '', word: [], line: openLine };
    } else if (rest.startsWith(':-') || rest.startsWith(':+')) {
      op = rest.slice(0, 2) as ParamOp;
    } else if (rest.startsWith('-') || rest.startsWith('+')) {
      op = rest.slice(0, 1) as ParamOp;
    } else {
      throw new Problem(`unsupported parameter expansion ${shown(key, this.snippet(exprStart))} in the value of ${key}: ${supported}`);
    }
    this.pos += op.length;
    const word = this.word(context, key, openLine, exprStart);
    return { kind: 'param', name, op, word, line: openLine };
  }

  /** The default or alternative of `${NAME:-word}`, up to its closing brace. */
  private word(context: Context, key: string, openLine: number, exprStart: number): Piece[] {
    const out = new PieceBuilder();
    for (;;) {
      const c = this.peek();
      if (c === undefined) {
        throw new Problem(`"\${" opened here is never closed in the value of ${key}; add the closing "}"`, false, openLine);
      }
      if (c === '}') {
        this.pos += 1;
        return out.pieces;
      }
      if (c === '\\') {
        this.backslash(out, (next) => context === 'none' || '$`"\\}'.includes(next));
        continue;
      }
      if (c === '"' || c === "'") {
        throw new Problem(
          `quotes inside ${shown(key, this.snippet(exprStart))} are not supported in the value of ${key}; quote the whole value instead`,
        );
      }
      if (c === '`') throw this.commandSubstitution();
      if (c === '$') {
        this.dollar(out, context, key);
        continue;
      }
      if (c === '\n') this.line += 1;
      out.text(c);
      this.pos += 1;
    }
  }

  // ---- problems

  private commandSubstitution(): Problem {
    return new Problem(
      `command substitution is not supported in ${basename(this.file)}; put the literal value, or ${this.evalHint}`,
    );
  }

  private operatorProblem(c: string): Problem {
    const what: Readonly<Record<string, string>> = {
      ';': 'a command separator',
      '&': 'a background or "&&" operator',
      '|': 'a pipe or "||" operator',
      '<': 'a redirection',
      '>': 'a redirection',
      '(': 'a subshell',
      ')': 'a subshell',
    };
    return new Problem(
      `"${c}" is ${what[c] ?? 'a shell operator'} in sh; ${basename(this.file)} holds one NAME=value per line ` +
        `(quote the value if "${c}" is part of it, or ${this.evalHint})`,
    );
  }

  private unterminated(what: string, openLine: number): Problem {
    return new Problem(`unterminated ${what}: the quote opened on this line is never closed; add the closing quote`, true, openLine);
  }

  // ---- low-level helpers

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private rest(): string {
    return this.src.slice(this.pos, this.pos + 200);
  }

  /** The raw first word at the current position (up to whitespace or an operator). */
  private firstWord(): string {
    return /^[^\s;&|<>()]*/.exec(this.rest())?.[0] ?? '';
  }

  /** The rest of the current physical line, for messages. */
  private lineText(): string {
    const end = this.src.indexOf('\n', this.pos);
    return this.src.slice(this.pos, end < 0 ? undefined : end).trim();
  }

  private snippet(from: number): string {
    const close = this.src.indexOf('}', from);
    const lineEnd = this.src.indexOf('\n', from);
    let end = close < 0 ? this.src.length : close + 1;
    if (lineEnd >= 0 && lineEnd < end) end = lineEnd;
    return truncate(this.src.slice(from, end));
  }

  /** Skips spaces, tabs and newlines; false at the end of the text. */
  private skipBlank(): boolean {
    for (;;) {
      const c = this.peek();
      if (c === undefined) return false;
      if (c === '\n') this.line += 1;
      else if (c !== ' ' && c !== '\t') return true;
      this.pos += 1;
    }
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos += 1;
  }

  private skipComment(): void {
    const end = this.src.indexOf('\n', this.pos);
    this.pos = end < 0 ? this.src.length : end;
  }

  private atStatementEnd(): boolean {
    const c = this.peek();
    return c === undefined || c === '\n' || c === '#';
  }

  private endStatement(): void {
    if (this.peek() === '#') this.skipComment();
    if (this.peek() === '\n') {
      this.pos += 1;
      this.line += 1;
    }
  }

  private countLines(text: string): void {
    for (const ch of text) if (ch === '\n') this.line += 1;
  }

  /** Moves past the statement at the current position the way sh would delimit it. */
  private skipStatement(): void {
    let wordStart = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) return;
      if (c === '\n') {
        this.pos += 1;
        this.line += 1;
        return;
      }
      if (c === '#' && wordStart) {
        this.skipComment();
        continue;
      }
      if (c === '\\') {
        if (this.src[this.pos + 1] === '\n') this.line += 1;
        this.pos += 2;
        wordStart = false;
        continue;
      }
      if (c === "'") {
        this.singleQuoted();
      } else if (c === '"' || c === '`') {
        this.skipQuoted(c);
      } else {
        this.pos += 1;
      }
      wordStart = c === ' ' || c === '\t' || OPERATOR_CHARS.includes(c);
    }
  }

  private skipQuoted(quote: string): void {
    const openLine = this.line;
    this.pos += 1;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.unterminated(quote === '"' ? 'double quote' : 'backquote', openLine);
      this.pos += 1;
      if (c === quote) return;
      if (c === '\n') this.line += 1;
      if (c === '\\') {
        if (this.peek() === '\n') this.line += 1;
        this.pos += 1;
      }
    }
  }
}

/** Text of a value, quoted for a message; never a secret's, not even a part of it. */
function shown(key: string, text: string): string {
  return isSecretName(key) ? `text (not shown: ${key} holds a secret)` : `"${text}"`;
}

function truncate(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
}

/** Splits an env file into assignments and reports, with file and line, every construct it cannot honour. */
export function scanEnvText(text: string, file: string): ScanResult {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  return new Scanner(normalized, file).scan();
}
