import type { ConfigIssue } from '../core/issues.js';
import { scanEnvText, type QuoteStyle } from './env-scanner.js';
import { computeValue, unsetReferences } from './env-value.js';

/** One `NAME=value` of an env file, with its value as /bin/sh would compute it. */
export interface EnvAssignment {
  readonly key: string;
  readonly value: string;
  readonly file: string;
  /** line where the statement starts (1-based) */
  readonly line: number;
  readonly quoted: QuoteStyle;
}

/** A `$NAME` that nothing set before its line: sh, and this reader, put "" in its place. */
export interface UnsetReference {
  /** the variable referred to */
  readonly name: string;
  /** the variable whose value holds the reference */
  readonly key: string;
  readonly file: string;
  readonly line: number;
}

export interface EnvFileResult {
  readonly assignments: readonly EnvAssignment[];
  readonly issues: readonly ConfigIssue[];
  readonly unset: readonly UnsetReference[];
}

/**
 * Reads a shell-style env file. `context` holds the variables set before the
 * file (process environment, earlier files); each line sees the ones before it.
 */
export function parseEnvFile(text: string, file: string, context: Readonly<Record<string, string>>): EnvFileResult {
  const scanned = scanEnvText(text, file);
  const running: Record<string, string> = { ...context };
  const assignments: EnvAssignment[] = [];
  const unset: UnsetReference[] = [];
  for (const statement of scanned.statements) {
    for (const ref of unsetReferences(statement, running)) unset.push({ ...ref, key: statement.key, file });
    const value = computeValue(statement, running);
    running[statement.key] = value;
    assignments.push({ key: statement.key, value, file, line: statement.line, quoted: statement.quoted });
  }
  return { assignments, issues: scanned.issues, unset };
}

