// A repository may decide for itself whether a change needs a deploy: the script
// `autodeploy/conditional-trigger`, read from the upstream tree (the version being deployed,
// not the one checked out), exits 0 for "deploy". GIT_CHANGED_FILES holds the
// `git diff --name-status` between HEAD and upstream. Same contract as birdhouse-deploy's
// triggerdeploy.sh.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gitClient } from './git-client.js';
import { signalGroup } from '../process/group.js';

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

function runScript(command: string, args: readonly string[], options: { cwd: string; changedFilesText: string; timeoutMs: number }): Promise<ScriptOutcome> {
  return new Promise<ScriptOutcome>((resolve) => {
    // Its own process group, so that whatever the script started goes with it.
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, GIT_CHANGED_FILES: options.changedFilesText },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (chunk: Buffer): void => {
      if (size >= MAX_OUTPUT_BYTES) return;
      chunks.push(chunk.subarray(0, MAX_OUTPUT_BYTES - size));
      size += chunk.length;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);

    let timedOut = false;
    const killGroup = (): void => signalGroup(child, 'SIGKILL');
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    let exitCode: number | null = null;
    // A background process left by the script would keep the pipes open: it ends with the script.
    child.once('exit', (code) => {
      exitCode = code;
      killGroup();
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ exitCode: null, output: `the conditional trigger could not be started: ${error.message}`, timedOut: false });
    });
    child.once('close', () => {
      clearTimeout(timer);
      resolve({ exitCode: timedOut ? null : exitCode, output: Buffer.concat(chunks).toString('utf8'), timedOut });
    });
  });
}
