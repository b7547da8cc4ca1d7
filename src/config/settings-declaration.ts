// Settings as declarations: the scheduler's own (settings.ts) and each built-in job kind's (in
// the kind's folder) are read the same way, so that every setting has the BIRDHOUSE_ spelling,
// the platform's variables as alternatives, its problems at the line that set it, and a secret
// that no message quotes, whoever declares it.

import type { z } from 'zod';
import type { ConfigIssue } from '../core/issues.js';
import type { SettingEntry } from './job-draft.js';

export interface SettingVariable {
  readonly name: string;
  /**
   * The platform's own variables for the same thing, read in order when `name` is unset or empty:
   * the scheduler then follows the platform without being told twice.
   */
  readonly alternatives?: readonly string[];
  /** the value when every variable is unset or empty */
  readonly fallback?: string;
  /**
   * The value when every variable is unset, computed from another of the platform's variables: a
   * problem with it points at that variable's line and says where the value came from.
   */
  readonly derived?: { readonly from: string; readonly value: (text: string) => string };
  /** kept untrimmed: a problem is reported at its line, counted from the assignment's first line */
  readonly multiline?: true;
  /** the value is a secret: a message about it never quotes it */
  readonly secret?: true;
}

/**
 * One setting: where it is read from, and the schema of its text (undefined when unset). A
 * problem of a multi-line value's line has that line's index as the first element of its path.
 */
export interface Setting<T> extends SettingVariable {
  readonly schema: z.ZodType<T>;
}

type ValueOf<F, K extends keyof F> = F[K] extends Setting<infer T> ? T : never;
type RequiredKeys<F> = { [K in keyof F]: undefined extends ValueOf<F, K> ? never : K }[keyof F];

/** The parsed values of a table of settings; a setting left unset is absent, not undefined. */
export type SettingValues<F> = { readonly [K in RequiredKeys<F>]: ValueOf<F, K> } & {
  readonly [K in Exclude<keyof F, RequiredKeys<F>>]?: Exclude<ValueOf<F, K>, undefined>;
};

/** The file line of a multi-line setting's line `offset`. */
export type LineOf<F> = (field: keyof F & string, offset: number) => number | undefined;

/** A group of settings, read into one typed value. */
export interface SettingsDeclaration<S> {
  readonly fields: Readonly<Record<string, Setting<unknown>>>;
  /** AUTODEPLOY_* names the owner reads itself, outside `fields`: known, not typos */
  readonly alsoReads: readonly string[];
  readonly finish: (values: Readonly<Record<string, unknown>>, lineOf: (field: string, offset: number) => number | undefined) => S;
}

/**
 * Declares a table of settings and how its values become the typed settings (defaults for what
 * is unset, lines for a multi-line value's items).
 */
export function declareSettings<F extends Readonly<Record<string, Setting<unknown>>>, S>(
  fields: F,
  finish: (values: SettingValues<F>, lineOf: LineOf<F>) => S,
  options: { readonly alsoReads?: readonly string[] } = {},
): SettingsDeclaration<S> {
  return {
    fields,
    alsoReads: options.alsoReads ?? [],
    // The values were parsed by these fields' schemas, with unset ones left out: SettingValues<F> by construction.
    finish: (values, lineOf) => finish(values as SettingValues<F>, lineOf),
  };
}

/** Every name a declaration reads: its variables, their alternatives, and what its owner reads itself. */
export function declaredNames(declaration: SettingsDeclaration<unknown>): readonly string[] {
  return [...Object.values(declaration.fields).flatMap(settingNames), ...declaration.alsoReads];
}

/** The variables a setting is read from, in order. */
export function settingNames(variable: SettingVariable): readonly string[] {
  return [variable.name, ...(variable.alternatives ?? [])];
}

/**
 * A setting as the process environment alone gives it, for when env.local cannot be read: the
 * first of its variables that is set and not empty (an AUTODEPLOY_* one under either spelling),
 * else its fallback ('' when it has none).
 */
export function settingFromEnvironment(variable: SettingVariable, env: Readonly<Record<string, string | undefined>>): string {
  for (const name of settingNames(variable)) {
    for (const spelling of name.startsWith('AUTODEPLOY_') ? [name, `BIRDHOUSE_${name}`] : [name]) {
      const value = env[spelling]?.trim();
      if (value !== undefined && value !== '') return value;
    }
  }
  return variable.fallback ?? '';
}

export type SettingsRead<S> = { readonly ok: true; readonly value: S } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/**
 * Reads a declaration from the configuration's variables (by canonical name, BIRDHOUSE_ spellings
 * resolved); each problem points at the line that set the value, or at `fallbackFile`.
 */
export function readSettings<S>(declaration: SettingsDeclaration<S>, entries: ReadonlyMap<string, SettingEntry>, fallbackFile: string): SettingsRead<S> {
  const values: Record<string, unknown> = {};
  /** the entry each value was read from, for the lines of its items */
  const readFromEntry = new Map<string, SettingEntry>();
  const issues: ConfigIssue[] = [];
  for (const [field, setting] of Object.entries(declaration.fields)) {
    const name = settingNames(setting).find((n) => (entries.get(n)?.value.trim() ?? '') !== '');
    const entry = name === undefined ? undefined : entries.get(name);
    if (entry !== undefined) readFromEntry.set(field, entry);
    const derivedFrom = setting.derived === undefined ? undefined : entries.get(setting.derived.from);
    let raw: string | undefined;
    let derived = false;
    if (entry !== undefined) raw = setting.multiline ? entry.value : entry.value.trim();
    else if (setting.fallback !== undefined) raw = setting.fallback;
    else if (setting.derived !== undefined && derivedFrom !== undefined && derivedFrom.value.trim() !== '') {
      raw = setting.derived.value(derivedFrom.value.trim());
      derived = true;
    }
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) {
      if (parsed.data !== undefined) values[field] = parsed.data;
      continue;
    }
    for (const issue of parsed.error.issues) {
      if (derived && setting.derived !== undefined && derivedFrom !== undefined) {
        issues.push({
          file: derivedFrom.source.file,
          line: derivedFrom.source.line,
          key: setting.name,
          message: `${setting.name} is not set, and its default from ${setting.derived.from} ("${raw ?? ''}") ${issue.message}`,
        });
        continue;
      }
      const readFrom = name ?? setting.name;
      const at = entries.get(readFrom);
      const offset = issue.path[0];
      if (setting.multiline && typeof offset === 'number') {
        // One line of a multi-line value: show that line, not the whole value.
        const text = (raw ?? '').split('\n')[offset]?.trim() ?? '';
        issues.push({ file: at?.source.file ?? fallbackFile, line: lineOf(at, offset), key: readFrom, message: `${readFrom}: the line "${text}" ${issue.message}` });
        continue;
      }
      const shown = setting.secret ? '' : `="${raw ?? ''}"`;
      // Read from the platform's variable: say so, or the operator looks for the setting in vain.
      const instead = readFrom === setting.name ? '' : ` (read for ${setting.name}, which is not set)`;
      issues.push({ file: at?.source.file ?? fallbackFile, line: at?.source.line, key: readFrom, message: `${readFrom}${shown}${instead} ${issue.message}` });
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: declaration.finish(values, (field, offset) => lineOf(readFromEntry.get(field), offset)) };
}

/** The file line of a multi-line value's line `offset`: a quoted value's lines follow its assignment's. */
function lineOf(entry: SettingEntry | undefined, offset: number): number | undefined {
  return entry?.source.line === undefined ? undefined : entry.source.line + offset;
}
