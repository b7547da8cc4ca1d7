// Opt-in for env files that rely on shell logic: /bin/sh sources them (as the
// platform's own scripts do) and the variables they leave behind are read back.
// This runs the files' commands, inside the scheduler's container.

import { dirname, resolve } from 'node:path';
import { quote } from 'shell-quote';
import type { ConfigIssue } from '../core/issues.js';
import { ProcessError, runProcess, type ProcessResult } from '../process/run.js';

export interface ShellEvalOptions {
  /** default.env first, then env.local */
  readonly files: readonly string[];
  /** the environment the shell starts from */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
  readonly shell?: string;
  /**
   * sh commands that set the variables, run in place of sourcing `files` under `set -a`; the
   * files are then only those named in sh's errors, the last one for the errors that name none
   */
  readonly commands?: string;
  /** variables returned even when they end as the base environment had them (and exported for it) */
  readonly keep?: readonly string[];
}

export interface ShellEvalResult {
  /** the variables whose value the files set or changed */
  readonly variables: Readonly<Record<string, string>>;
  /** errors /bin/sh reported, with the file and line it named; any makes the evaluation unusable */
  readonly issues: readonly ConfigIssue[];
}

export const SHELL_EVAL_TIMEOUT_MS = 10_000;
const BOUNDARY = '--autodeploy-env-boundary--';
const DUMP = 'process.stdout.write(JSON.stringify(process.env))';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** sh's error lines that name one of the files, as issues at that file and line. */
function stderrIssues(stderr: string, files: readonly string[]): { issues: ConfigIssue[]; other: string[] } {
  const issues: ConfigIssue[] = [];
  const other: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line.trim() === '') continue;
    let matched = false;
    for (const file of files) {
      const f = escapeRegExp(file);
      // dash: "sh: 3: /path/env.local: foo: not found"; bash: "/path/env.local: line 3: foo: command not found"
      const m = new RegExp(`^(?:[^:]*: (\\d+): ${f}: (.*)|${f}: line (\\d+): (.*))$`).exec(line);
      if (m !== null) {
        issues.push({ file, line: Number(m[1] ?? m[3]), message: `/bin/sh: ${m[2] ?? m[4] ?? ''}` });
        matched = true;
        break;
      }
    }
    if (!matched) other.push(line);
  }
  return { issues, other };
}

function parseDump(text: string): Record<string, string> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    return value as Record<string, string>;
  } catch {
    return undefined;
  }
}

/**
 * Sources the files with /bin/sh under `set -a` and returns what they set.
 * The environment is dumped before and after by this same Node binary, so
 * whatever the shell adds on its own (PWD, SHLVL) does not count as set.
 */
export async function evaluateWithShell(options: ShellEvalOptions): Promise<ShellEvalResult> {
  const files = options.files.map((f) => resolve(f));
  const last = files.at(-1) ?? '';
  const node = quote([process.execPath]);
  const dump = `${node} -e ${quote([DUMP])}`;
  const keep = (options.keep ?? []).filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
  const setVariables =
    options.commands === undefined
      ? ['set -a', `{ ${files.map((f) => `. ${quote([f])};`).join(' ')} } >&2 </dev/null`, 'set +a']
      : [`{\n${options.commands}\n} >&2 </dev/null`];
  const script = [
    dump,
    `printf '\\n%s\\n' ${quote([BOUNDARY])}`,
    ...setVariables,
    ...(keep.length > 0 ? [`export ${keep.join(' ')}`] : []),
    `exec ${dump}`,
  ].join('\n');

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.baseEnv)) if (v !== undefined) env[k] = v;
  const shell = options.shell ?? '/bin/sh';
  const timeoutMs = options.timeoutMs ?? SHELL_EVAL_TIMEOUT_MS;
  const fail = (message: string, issues: readonly ConfigIssue[] = []): ShellEvalResult => ({ variables: {}, issues: [...issues, { file: last, line: undefined, message }] });

  let result: ProcessResult;
  try {
    result = await runProcess({
      argv: [shell, '-c', script, 'sh'],
      env,
      cwd: dirname(last),
      timeoutMs,
      // A timeout also stops what the files started.
      stopGroup: true,
      graceMs: 0,
      failures: 'return',
    });
  } catch (error) {
    if (!(error instanceof ProcessError)) throw error;
    const cause = error.cause as NodeJS.ErrnoException | undefined;
    return fail(
      cause?.code === 'ENOENT'
        ? `${shell} is not available to evaluate the env files; unset AUTODEPLOY_ENV_EVAL`
        : `${shell} could not be started to evaluate the env files (${cause?.message ?? error.message})`,
    );
  }

  const fromStderr = stderrIssues(result.stderr, files);
  if (result.timedOut) return fail(`${shell} did not finish evaluating the env files within ${timeoutMs / 1000}s; remove slow or interactive commands`);
  if (result.exitCode !== 0) {
    if (fromStderr.issues.length > 0 && fromStderr.other.length === 0) return { variables: {}, issues: fromStderr.issues };
    const detail = fromStderr.other.length > 0 ? `: ${fromStderr.other.join(' / ')}` : '';
    const status = result.exitCode === null ? `signal ${String(result.signal)}` : `exit code ${result.exitCode}`;
    return fail(`${shell} failed while evaluating the env files (${status})${detail}`, fromStderr.issues);
  }
  const out = result.stdout;
  const cut = out.indexOf(`\n${BOUNDARY}\n`);
  const before = cut < 0 ? undefined : parseDump(out.slice(0, cut));
  const after = cut < 0 ? undefined : parseDump(out.slice(cut + BOUNDARY.length + 2));
  if (before === undefined || after === undefined) {
    return fail(`${shell} evaluated the env files but their variables could not be read back (does a file call exit?)`, fromStderr.issues);
  }
  const variables: Record<string, string> = {};
  for (const [k, v] of Object.entries(after)) if (before[k] !== v || keep.includes(k)) variables[k] = v;
  return { variables, issues: fromStderr.issues };
}
