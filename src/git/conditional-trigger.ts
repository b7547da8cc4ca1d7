// A repository may decide for itself whether a change needs a deploy: the script
// `autodeploy/conditional-trigger`, read from the upstream tree (the version being deployed,
// not the one checked out), exits 0 for "deploy". GIT_CHANGED_FILES holds the
// `git diff --name-status` between HEAD and upstream. Same contract as birdhouse-deploy's
// triggerdeploy.sh.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gitClient } from './git-client.js';
import { ProcessError, runProcess } from '../process/run.js';

export const CONDITIONAL_TRIGGER_PATH = 'autodeploy/conditional-trigger';
export const DEFAULT_TRIGGER_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_BYTES = 64 * 1024;

export type TriggerResult =
  | { readonly present: false }
  | {
    readonly present: true;
    /** exit code 0, within the time allowed */
    readonly trigger: boolean;
    /** null when the script was killed */
    readonly exitCode: number | null;
    /** stdout and stderr together, cut at 64 KiB */
    readonly output: string;
    readonly timedOut: boolean;
  };

export interface TriggerOptions {
  readonly timeoutMs?: number;
}

/** The script's text in `revision`, or undefined when that tree has none. */
async function scriptAt(checkout: string, revision: string, timeoutMs: number): Promise<Buffer | undefined> {
  const git = gitClient(checkout, { timeoutMs });
  const entry = await git.run(['ls-tree', '-z', '--full-tree', '--end-of-options', revision, '--', CONDITIONAL_TRIGGER_PATH]);
  // "<mode> <type> <object>\t<path>\0"
  const match = /^\d+ blob ([0-9a-f]+)\t/.exec(entry);
  if (match === null || match[1] === undefined) return undefined;
  return git.showBytes(match[1]);
}

/**
 * Runs the upstream's conditional trigger in the checkout's directory. `revision` is what
 * would be deployed, best the upstream commit recorded by the inspection. A missing script
 * means "deploy"; a script still running after the timeout is killed and means "no".
 */
export async function runConditionalTrigger(checkout: string, revision: string, changedFilesText: string, options: TriggerOptions = {}): Promise<TriggerResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TRIGGER_TIMEOUT_MS;
  const script = await scriptAt(checkout, revision, timeoutMs);
  if (script === undefined) return { present: false };

  const dir = await mkdtemp(path.join(os.tmpdir(), 'autodeploy-trigger-'));
  try {
    const file = path.join(dir, 'conditional-trigger');
    await writeFile(file, script, { mode: 0o700 });
    // Like sh running a file without "#!": the PAVICS example script has none.
    const [command, args] = script.subarray(0, 2).toString() === '#!' ? [file, []] : ['/bin/sh', [file]];
    const outcome = await runScript(command, args, { cwd: checkout, changedFilesText, timeoutMs });
    return { present: true, trigger: outcome.exitCode === 0 && !outcome.timedOut, ...outcome };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface ScriptOutcome {
  readonly exitCode: number | null;
  readonly output: string;
  readonly timedOut: boolean;
}

async function runScript(command: string, args: readonly string[], options: { cwd: string; changedFilesText: string; timeoutMs: number }): Promise<ScriptOutcome> {
  try {
    const result = await runProcess({
      argv: [command, ...args],
      cwd: options.cwd,
      env: { ...process.env, GIT_CHANGED_FILES: options.changedFilesText },
      timeoutMs: options.timeoutMs,
      // Its own process group, so that whatever the script started goes with it; a background
      // process left by the script would keep the output open: it ends with the script.
      stopGroup: true,
      stopLeftovers: true,
      graceMs: 0,
      mergeStderr: true,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      // The exit code is the answer, and a script that hangs means "no".
      failures: 'return',
    });
    return { exitCode: result.timedOut ? null : result.exitCode, output: result.stdout, timedOut: result.timedOut };
  } catch (error) {
    if (!(error instanceof ProcessError)) throw error;
    const reason = error.cause instanceof Error ? error.cause.message : error.message;
    return { exitCode: null, output: `the conditional trigger could not be started: ${reason}`, timedOut: false };
  }
}
