// The configuration as a function of (files, process environment, job files):
// env files read in order over the process environment, BIRDHOUSE_ spellings
// resolved, settings and jobs validated. The settings are valid or the whole
// configuration is refused, with every problem found; each job is accepted or
// refused on its own, so that one bad job never stops another. Over 300 lines as one
// file: loading is one pure function whose steps each take the results of the one before.

import type { Job, SourceRef } from '../core/job.js';
import { parseEnvFile, type EnvAssignment, type UnsetReference } from './env-file.js';
import { place, type ConfigIssue } from '../core/issues.js';
import type { SettingEntry } from './job-draft.js';
import type { BuiltinJobKind, CheckoutRootOf, KindSettings, PlatformOf, SchedulerContext } from './builtin-job.js';
import { buildJobs, listJobs, RESERVED_JOB_NAMES, type JobFileText } from './jobs.js';
import {
  BIRDHOUSE_PREFIX,
  canonicalName,
  isAutodeployName,
  isKnownSetting,
  JOB_PREFIX,
  knownSettings,
  nearestSetting,
  TOLERATED_NAMES,
} from './names.js';
import { collectSecrets } from '../core/secrets.js';
import { SCHEDULER_SETTINGS, type Settings } from './settings.js';
import { readSettings } from './settings-declaration.js';

/** `SourceRef.file` of values that come from the process environment. */
export const PROCESS_ENVIRONMENT = 'process environment';

export interface EnvFileText {
  readonly path: string;
  readonly text: string;
}

export interface LoadInput {
  /** default.env first, then env.local */
  readonly files: readonly EnvFileText[];
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  /** the variables /bin/sh produced from the files, when shell evaluation is used */
  readonly evaluated?: Readonly<Record<string, string>>;
  /** COMPOSE_DIR, when `evaluated` comes from birdhouse-deploy's own reader there (birdhouse-eval.ts) */
  readonly platformReaderDir?: string;
  /** the built-in job kinds, each with its own settings, to build from the settings (autodeploy, notebookdeploy) */
  readonly builtins: readonly BuiltinJobKind[];
  /** what the running scheduler knows of itself (its image, where its state lives) */
  readonly context?: SchedulerContext;
  /** the checkout holding COMPOSE_DIR; see CheckoutRootOf */
  readonly checkoutRootOf?: CheckoutRootOf;
  /** which platform COMPOSE_DIR holds; see PlatformOf */
  readonly platformOf?: PlatformOf;
  /** the job files of AUTODEPLOY_JOBS_DIR, read by the caller */
  readonly jobFiles?: readonly JobFileText[];
  /** where env.local (the last file) really is, when it is a symbolic link; see BuiltinJobInput */
  readonly envFileTarget?: string;
}

/** A job refused on its own, or a job list that could not be read (`name` undefined): every other job runs. */
export interface RefusedJob {
  readonly name: string | undefined;
  readonly source: SourceRef;
  readonly issues: readonly ConfigIssue[];
}

export interface Config {
  /** the scheduler's own settings */
  readonly settings: Settings;
  /** each built-in kind's own settings: read them with settingsOf */
  readonly kindSettings: KindSettings;
  readonly jobs: readonly Job[];
  /** the whole resolved environment; every AUTODEPLOY_* value is also under its canonical name */
  readonly env: Readonly<Record<string, string>>;
  /**
   * What a platform's compose wrapper is run with, over the environment it is started in: where
   * env.local is. The wrapper reads the files again itself, and a value handed to it wins over
   * them (birdhouse's read_configs puts the caller's environment back last): values read before
   * a pull would hide every change the pull made, and the scheduler's own defaults would leak
   * into the platform. Plain compose gets platformEnv instead.
   */
  readonly composeEnv: Readonly<Record<string, string>>;
  /** values to mask in every log line */
  readonly secrets: readonly string[];
  readonly warnings: readonly ConfigIssue[];
  readonly files: readonly string[];
  /**
   * What the operator's own files set (env.local, not the scheduler's defaults), as they set
   * it: the environment a platform's compose may be given, without the scheduler's settings.
   */
  readonly platformEnv: Readonly<Record<string, string>>;
  /** where each variable was set, for problems found after loading (on the disk) to point at */
  readonly sources: Readonly<Record<string, SourceRef>>;
  /** jobs refused on their own, with their problems; the jobs above run */
  readonly refused: readonly RefusedJob[];
}

export type LoadResult =
  | { readonly ok: true; readonly config: Config }
  | {
      readonly ok: false;
      readonly issues: readonly ConfigIssue[];
      readonly warnings: readonly ConfigIssue[];
      /** the secret values found before the configuration was refused, for masking its messages */
      readonly secrets?: readonly string[];
    };

/** The variables of an environment that are set. */
export function defined(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Reads the files in order; each sees the process environment and the files before it. */
function readFiles(
  files: readonly EnvFileText[],
  processEnv: Readonly<Record<string, string>>,
): { env: Record<string, string>; assignments: EnvAssignment[]; issues: ConfigIssue[]; unset: UnsetReference[] } {
  const env: Record<string, string> = { ...processEnv };
  const assignments: EnvAssignment[] = [];
  const issues: ConfigIssue[] = [];
  const unset: UnsetReference[] = [];
  for (const file of files) {
    const result = parseEnvFile(file.text, file.path, env);
    issues.push(...result.issues);
    unset.push(...result.unset);
    for (const a of result.assignments) {
      env[a.key] = a.value;
      assignments.push(a);
    }
  }
  return { env, assignments, issues, unset };
}

/**
 * A `$NAME` that nothing sets before it (sh, like this reader, puts "" in its place) is most
 * often a typo or a line out of order; an operator who means empty says so with `${NAME:-}`.
 * `finalEnv` is what the whole configuration leaves: when a shell computed the values, a name
 * that it set after all (in shell logic, or in the platform's own files) is not reported.
 */
function unsetWarnings(unset: readonly UnsetReference[], finalEnv?: Readonly<Record<string, string>>): ConfigIssue[] {
  return unset
    .filter((ref) => finalEnv === undefined || (finalEnv[ref.name] ?? '') === '')
    .map((ref) => ({
      file: ref.file,
      line: ref.line,
      key: ref.key,
      message:
        `${ref.name} is not set (by an earlier line, a default.env or the environment): $${ref.name} in the value of ${ref.key} is replaced by ""; ` +
        `set ${ref.name} before this line, or write \${${ref.name}:-} if empty is meant`,
    }));
}

/**
 * One entry per canonical name. Where both spellings of an AUTODEPLOY_* name
 * are present, the one assigned later wins (the process environment counts as
 * earliest, and between two values of the process environment the plain
 * spelling wins).
 */
function resolveEntries(
  env: Readonly<Record<string, string>>,
  assignments: readonly EnvAssignment[],
  lastFile: string,
  processEnv: Readonly<Record<string, string>>,
): Map<string, SettingEntry> {
  const lastAssignment = new Map<string, { a: EnvAssignment; order: number }>();
  assignments.forEach((a, order) => lastAssignment.set(a.key, { a, order }));

  const entryOf = (name: string): SettingEntry => {
    const assigned = lastAssignment.get(name);
    const value = env[name] ?? '';
    if (assigned !== undefined) return { value, source: { file: assigned.a.file, line: assigned.a.line }, order: assigned.order };
    if (processEnv[name] === value) return { value, source: { file: PROCESS_ENVIRONMENT, line: undefined }, order: -1 };
    // set by /bin/sh evaluation in a way no line shows (a loop, a function)
    return { value, source: { file: lastFile, line: undefined }, order: -1 };
  };

  const entries = new Map<string, SettingEntry>();
  for (const name of Object.keys(env)) {
    const canonical = canonicalName(name);
    const entry = entryOf(name);
    const other = entries.get(canonical);
    if (other === undefined || entry.order > other.order || (entry.order === other.order && name === canonical)) {
      entries.set(canonical, entry);
    }
  }
  return entries;
}

function aliasWarnings(assignments: readonly EnvAssignment[], defaultsFile: string | undefined): ConfigIssue[] {
  const spellings = new Map<string, Map<string, EnvAssignment>>();
  for (const a of assignments) {
    if (a.file === defaultsFile) continue;
    const canonical = canonicalName(a.key);
    if (canonical === a.key && !isAutodeployName(a.key)) continue;
    const bySpelling = spellings.get(canonical) ?? new Map<string, EnvAssignment>();
    bySpelling.set(a.key, a);
    spellings.set(canonical, bySpelling);
  }
  const warnings: ConfigIssue[] = [];
  for (const [canonical, bySpelling] of spellings) {
    const plain = bySpelling.get(canonical);
    const prefixed = bySpelling.get(`${BIRDHOUSE_PREFIX}${canonical}`);
    if (plain === undefined || prefixed === undefined) continue;
    const winner = assignments.lastIndexOf(plain) > assignments.lastIndexOf(prefixed) ? plain : prefixed;
    const loser = winner === plain ? prefixed : plain;
    warnings.push({
      file: winner.file,
      line: winner.line,
      key: canonical,
      message:
        `${canonical} is set under both spellings: ${loser.key} at ${place(loser)} and ${winner.key} at ${place(winner)}; ` +
        `the later one (${winner.key}, ${place(winner)}) wins — keep only one`,
    });
  }
  return warnings;
}

function unknownNameWarnings(entries: ReadonlyMap<string, SettingEntry>, known: readonly string[]): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  for (const [name, entry] of entries) {
    if (!isAutodeployName(name) || isKnownSetting(name, known) || TOLERATED_NAMES.includes(name)) continue;
    if (name.startsWith(JOB_PREFIX)) continue;
    const nearest = nearestSetting(name, known);
    warnings.push({
      ...entry.source,
      key: name,
      message:
        nearest === undefined
          ? `${name} is not a setting of this scheduler and is ignored; see env.local.example for the settings`
          : `${name} is not a setting of this scheduler and is ignored; did you mean ${nearest}?`,
    });
  }
  return warnings;
}

// NUL ends a C string where git, ssh and Docker read it; the other control characters (tab and
// newline aside) are never meant and hide what a value says.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A value holding a control character is refused at its line, naming the character, not the value. */
function controlCharacterIssues(assignments: readonly EnvAssignment[]): ConfigIssue[] {
  return assignments.flatMap((a) => {
    const found = CONTROL_CHARACTER.exec(a.value);
    if (found === null) return [];
    const code = `U+${(found[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    return [{ file: a.file, line: a.line, key: a.key, message: `the value of ${a.key} holds the control character ${code}${code === 'U+0000' ? ' (NUL)' : ''}; remove it` }];
  });
}

/** `autodeploy_log_dir`: the scheduler reads upper-case names only, and says so rather than ignore the line. */
function lowerCaseWarnings(assignments: readonly EnvAssignment[], known: readonly string[]): ConfigIssue[] {
  return assignments.flatMap((a) => {
    const upper = a.key.toUpperCase();
    if (a.key === upper || !isAutodeployName(canonicalName(upper))) return [];
    const nearest = isKnownSetting(canonicalName(upper), known) || canonicalName(upper).startsWith(JOB_PREFIX) ? upper : nearestSetting(canonicalName(upper), known);
    return [{
      file: a.file,
      line: a.line,
      key: a.key,
      message: `${a.key} is ignored: setting names are upper case${nearest === undefined ? '' : `; did you mean ${nearest}?`}`,
    }];
  });
}

/** Issues in the order an operator reads the files: by file, then by line. */
function byPlace(files: readonly string[]): (a: ConfigIssue, b: ConfigIssue) => number {
  const rank = (file: string): number => {
    const i = files.indexOf(file);
    return i < 0 ? (file === PROCESS_ENVIRONMENT ? -1 : files.length) : i;
  };
  return (a, b) => rank(a.file) - rank(b.file) || (a.line ?? 0) - (b.line ?? 0);
}

/** Builds the configuration, or every problem that keeps it from being valid. */
export function loadConfig(input: LoadInput): LoadResult {
  const processEnv = defined(input.processEnv);
  const paths = input.files.map((f) => f.path);
  const defaultsFile = input.files.length > 1 ? paths[0] : undefined;
  const lastFile = paths.at(-1) ?? PROCESS_ENVIRONMENT;

  let env: Record<string, string>;
  let assignments: EnvAssignment[];
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const read = readFiles(input.files, processEnv);
  if (input.evaluated === undefined) {
    env = read.env;
    assignments = read.assignments;
    issues.push(...read.issues);
    warnings.push(...unsetWarnings(read.unset));
  } else {
    // sh computed the values; the files are read only to know which line set what
    env = { ...processEnv, ...input.evaluated };
    assignments = read.assignments.filter((a) => a.key in env);
    warnings.push(...unsetWarnings(read.unset, env));
  }

  issues.push(...controlCharacterIssues(assignments));
  const entries = resolveEntries(env, assignments, lastFile, processEnv);
  const known = knownSettings(input.builtins.map((kind) => kind.settings));
  warnings.push(...aliasWarnings(assignments, defaultsFile));
  warnings.push(...lowerCaseWarnings(assignments, known));
  warnings.push(...unknownNameWarnings(entries, known));
  const evalEntry = entries.get('AUTODEPLOY_ENV_EVAL');
  if (evalEntry !== undefined && evalEntry.source.file !== PROCESS_ENVIRONMENT) {
    warnings.push({
      ...evalEntry.source,
      key: 'AUTODEPLOY_ENV_EVAL',
      message:
        'AUTODEPLOY_ENV_EVAL has no effect inside an env file, which is read before it is known; ' +
        'set it in the scheduler\'s environment, or make "# autodeploy: eval=sh" the first line of env.local',
    });
  }

  const order = byPlace(paths);
  // A line that failed to parse has no value: checks on it would only mislead.
  const knownSecrets = (): string[] => collectSecrets([...Object.entries(processEnv), ...assignments.map((a) => [a.key, a.value] as const)]);
  if (issues.length > 0) return { ok: false, issues, warnings: warnings.sort(order), secrets: knownSecrets() };

  const resolved: Record<string, string> = { ...env };
  for (const [name, entry] of entries) if (isAutodeployName(name)) resolved[name] = entry.value;

  // The kinds' settings are read with the scheduler's: a problem with any refuses the whole configuration.
  const own = readSettings(SCHEDULER_SETTINGS, entries, lastFile);
  if (!own.ok) issues.push(...own.issues);
  const kindSettings = new Map<BuiltinJobKind, unknown>();
  for (const kind of input.builtins) {
    const read = readSettings(kind.settings, entries, lastFile);
    if (read.ok) kindSettings.set(kind, read.value);
    else issues.push(...read.issues);
  }
  const listed = listJobs({ entries, jobFiles: input.jobFiles, settingNames: known });
  if (!own.ok || issues.length > 0) {
    // Refused whole; the jobs' own problems are still worth saying now rather than after the fix.
    const extra = buildJobs({ entries, env: resolved, timezone: undefined, defaultTimeoutMs: undefined }, listed);
    issues.push(...extra.issues, ...extra.unreadable);
    return { ok: false, issues: issues.sort(order), warnings: [...warnings, ...extra.warnings].sort(order), secrets: knownSecrets() };
  }

  const settings = own.value;
  const builtinJobs: Job[] = [];
  const claimed = new Set<string>();
  const jobIssues: ConfigIssue[] = [];
  const builtinInput = {
    settings,
    entries,
    envFile: lastFile,
    defaultsFile,
    env: resolved,
    envFileTarget: input.envFileTarget,
    platformReaderDir: input.platformReaderDir,
    context: input.context ?? {},
    checkoutRootOf: input.checkoutRootOf,
    platform: settings.composeDir === undefined ? undefined : (input.platformOf?.(settings.composeDir) ?? 'pavics'),
    listed: listed.drafts,
  };
  for (const kind of input.builtins) {
    const built = kind.build({ ...builtinInput, kindSettings: kindSettings.get(kind) });
    // A built-in job's problems refuse that job alone, like an extra job's.
    jobIssues.push(...built.issues.map((issue) => ({ ...issue, job: issue.job ?? kind.name })));
    for (const name of built.claims ?? []) claimed.add(name);
    if (built.job !== undefined) builtinJobs.push(built.job);
  }
  const jobsResult = buildJobs(
    {
      entries,
      env: resolved,
      timezone: settings.timezone,
      defaultTimeoutMs: settings.defaultJobTimeoutMs,
      reserved: new Set([...RESERVED_JOB_NAMES.filter((name) => name === 'scheduler'), ...builtinJobs.map((job) => job.name)]),
    },
    listed,
    { claimed },
  );
  jobIssues.push(...jobsResult.issues);
  warnings.push(...jobsResult.warnings);
  warnings.sort(order);

  // A job with a problem is refused; a job list that could not be read refuses what it held.
  const refused = new Map<string, RefusedJob>();
  for (const issue of jobIssues.sort(order)) {
    const name = issue.job ?? '';
    const earlier = refused.get(name);
    refused.set(name, { name, source: earlier?.source ?? { file: issue.file, line: issue.line }, issues: [...(earlier?.issues ?? []), issue] });
  }
  const unreadable = jobsResult.unreadable.map((issue): RefusedJob => ({ name: undefined, source: { file: issue.file, line: issue.line }, issues: [issue] }));
  // A refused definition built no job; a name both here and refused was defined twice, and its first definition runs.
  const jobs = [...builtinJobs, ...jobsResult.jobs];

  // AUTODEPLOY_API_TOKENS_FILE says TOKEN, but holds the path to the tokens, which the log must name.
  const secrets = collectSecrets([
    ...Object.entries(processEnv),
    ...Object.entries(resolved),
    ...assignments.map((a) => [a.key, a.value] as const),
    ...jobs.flatMap((job) => Object.entries(jobEnv(job))),
    // A webhook URL is its own credential, whatever the variable's name.
    ...settings.notifyTargets.map((target) => ['NOTIFY_URL_SECRET', target.url] as const),
  ]).filter((secret) => secret !== settings.apiTokensFile);
  return {
    ok: true,
    config: {
      settings,
      kindSettings,
      jobs,
      env: resolved,
      composeEnv: { BIRDHOUSE_LOCAL_ENV: lastFile },
      secrets,
      warnings,
      files: paths,
      refused: [...refused.values(), ...unreadable],
      sources: Object.fromEntries([...entries].map(([name, entry]) => [name, entry.source])),
      platformEnv: Object.fromEntries(assignments.filter((a) => a.file !== defaultsFile).map((a) => [a.key, env[a.key] ?? a.value])),
    },
  };
}

function jobEnv(job: Job): Readonly<Record<string, string>> {
  switch (job.kind) {
    case 'exec':
      return job.exec.env;
    case 'local':
      return {};
    default:
      return job.container.env;
  }
}

