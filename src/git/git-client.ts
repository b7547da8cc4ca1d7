// Every git command of the project is started from here, so that all of them run with the
// same sealed environment and the same configuration: one command at a time through simple-git
// (gitClient), with a timeout of silence and a GitError when it fails; or many at once in one
// shell script (runGitScript), stopped whole after a timeout, whose commands report their own
// exit codes.
//
// simple-git is the one library here that starts processes itself: it takes no spawn function
// to hand to process/run.ts. Its abort and timeout stop the git it started; an ssh under that
// git sees its pipes close, and one stuck on a silent server ends by ssh-command.ts's
// ServerAliveInterval. test/unit/layers.test.ts keeps simple-git inside this file.

import { realpathSync } from 'node:fs';
import { quote } from 'shell-quote';
import { GitError as SimpleGitError, GitPluginError, simpleGit, type SimpleGit, type SimpleGitOptions } from 'simple-git';
import { GitError } from './git-error.js';
import { redactCredentials } from '../core/remote-url.js';
import { runProcess } from '../process/run.js';

/** How long a git command may run, or stay silent, before it is stopped. */
export const DEFAULT_GIT_TIMEOUT_MS = 120_000;

export interface GitClientOptions {
  /** GIT_SSH_COMMAND, for the commands that reach an ssh remote */
  readonly sshCommand?: string | undefined;
  /** stop a command after this long, or this long without output; DEFAULT_GIT_TIMEOUT_MS when absent */
  readonly timeoutMs?: number | undefined;
}

/**
 * `-c` settings of every git command: git obeys the scheduler, not the checkout. Settings on
 * the command line win over a repository's own .git/config, so nothing a checkout configures
 * can run a command: no fsmonitor, no hooks, no credential helper, no ext:: or fd:: transport,
 * no ssh or askpass program of its own, and upload-pack is git's own (also given by option to
 * every fetch and ls-remote, for remotes not named origin).
 * https://git-scm.com/docs/git-config
 */
const GIT_CONFIG = [
  'core.quotePath=false',
  'core.fsmonitor=false',
  'core.hooksPath=/dev/null',
  'core.sshCommand=ssh',
  'credential.helper=',
  'protocol.ext.allow=never',
  'protocol.fd.allow=never',
  'remote.origin.uploadpack=git-upload-pack',
  'remote.origin.receivepack=git-receive-pack',
] as const;

/** git's own upload-pack, for every fetch and ls-remote: a checkout's remote.<name>.uploadpack may name any program. */
export const OWN_UPLOAD_PACK = '--upload-pack=git-upload-pack';

/**
 * safe.directory for exactly the configured checkouts: the deploy runs as root over checkouts
 * owned by the operator's user, which git refuses since 2.35.2 otherwise
 * (https://git-scm.com/docs/git-config#Documentation/git-config.txt-safedirectory). A
 * repository elsewhere, or found by walking up from a configured path, stays untrusted.
 */
export function gitSettings(trusted: readonly string[]): string[] {
  const paths = new Set<string>();
  for (const path of trusted) {
    paths.add(path);
    try {
      paths.add(realpathSync(path));
    } catch {
      // a path that does not exist yet (a cache about to be created) is trusted as written
    }
  }
  return [...[...paths].map((path) => `safe.directory=${path}`), ...GIT_CONFIG];
}

/** git, run in one checkout. */
export interface GitClient {
  readonly path: string;
  /** stdout of `git <args>`; any non-zero exit is a GitError */
  run(args: readonly string[]): Promise<string>;
  /** the raw bytes of `git show <object>`, e.g. a blob that may not be text */
  showBytes(object: string): Promise<Buffer>;
}

// Lets simple-git hand back the exit status: its own error keeps only the text.
class ExitStatus extends SimpleGitError {
  readonly exitCode: number | undefined;
  readonly stderrText: string;
  constructor(exitCode: number | undefined, stderr: string) {
    super(undefined, stderr);
    this.exitCode = exitCode;
    this.stderrText = stderr;
  }
}

export function sealedEnv(sshCommand: string | undefined): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    // git's and ssh's messages are matched in English by classifyGitError.
    LANG: 'C',
    LC_ALL: 'C',
    // A deploy runs unattended: a prompt for a user name or a passphrase must fail, not wait.
    GIT_TERMINAL_PROMPT: '0',
    // Over a checkout's core.askPass: asking for a password fails at once, and runs nothing of its.
    GIT_ASKPASS: 'false',
    SSH_ASKPASS: 'false',
  };
  for (const name of ['HOME', 'TMPDIR'] as const) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  if (sshCommand !== undefined) env.GIT_SSH_COMMAND = sshCommand;
  return env;
}

/**
 * A git client for the checkout at `path`. The environment is built from scratch (no
 * askpass helper, no agent socket, no inherited GIT_* variable), and every command runs with
 * GIT_CONFIG.
 */
export function gitClient(path: string, options: GitClientOptions = {}): GitClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  const simpleGitOptions: Partial<SimpleGitOptions> = {
    baseDir: path,
    config: gitSettings([path]),
    timeout: { block: timeoutMs },
    allowEnvironment: ['GIT_TERMINAL_PROMPT', 'GIT_ASKPASS', 'SSH_ASKPASS', ...(options.sshCommand === undefined ? [] : ['GIT_SSH_COMMAND'])],
    // simple-git refuses every -c key that can name a program, whatever its value; ours name
    // none (they switch those off), and only the constants of GIT_CONFIG are passed that way.
    unsafe: {
      allowUnsafeSshCommand: true,
      allowUnsafeFsMonitor: true,
      allowUnsafeHooksPath: true,
      allowUnsafeCredentialHelper: true,
      allowUnsafePack: true,
      allowUnsafeProtocolOverride: true,
      allowUnsafeAskPass: true,
    },
    errors(error, result) {
      if (error instanceof GitPluginError) return error;
      // exitCode is null at run time when git was killed by a signal that was not ours.
      const exitCode: number | null = result.exitCode;
      // Redacted here already: this error is kept as the cause, and causes get logged.
      if (exitCode !== 0) return new ExitStatus(exitCode ?? undefined, redactCredentials(Buffer.concat(result.stdErr).toString('utf8')));
      return error;
    },
  };

  function instance(args: readonly string[]): SimpleGit {
    try {
      // The timeout above stops a command that says nothing for that long; this one stops any
      // command at that long, so that a remote trickling out bytes cannot hold a deploy either.
      return simpleGit({ ...simpleGitOptions, abort: AbortSignal.timeout(timeoutMs) }).env(sealedEnv(options.sshCommand));
    } catch (cause) {
      throw toGitError(cause, args);
    }
  }

  function toGitError(cause: unknown, args: readonly string[]): GitError {
    if (cause instanceof ExitStatus) {
      return new GitError({ args, repoPath: path, exitCode: cause.exitCode, stderr: cause.stderrText, timedOutAfterMs: undefined }, { cause });
    }
    if (cause instanceof GitPluginError && (cause.plugin === 'timeout' || cause.plugin === 'abort')) {
      return new GitError({ args, repoPath: path, exitCode: undefined, stderr: '', timedOutAfterMs: timeoutMs }, { cause });
    }
    const message = cause instanceof Error ? cause.message : String(cause);
    return new GitError({ args, repoPath: path, exitCode: undefined, stderr: message, timedOutAfterMs: undefined }, { cause });
  }

  return {
    path,
    async run(args) {
      const git = instance(args);
      try {
        return await git.raw([...args]);
      } catch (cause) {
        throw toGitError(cause, args);
      }
    },
    async showBytes(object) {
      const args = ['show', object];
      const git = instance(args);
      try {
        return await git.showBuffer([object]);
      } catch (cause) {
        throw toGitError(cause, args);
      }
    },
  };
}

/** The commit a revision names, or undefined when it names none (an unborn branch, a missing ref). */
export async function commitOf(git: GitClient, rev: string): Promise<string | undefined> {
  const out = await git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).catch((error: unknown) => {
    // --quiet: a missing revision exits 1 and says nothing.
    if (error instanceof GitError && error.exitCode === 1) return '';
    throw error;
  });
  const commit = out.trim();
  return commit === '' ? undefined : commit;
}

export interface GitScriptOptions {
  /** a POSIX sh script; the `git` it runs is given GIT_CONFIG */
  readonly script: string;
  /** the script's "$@": data, never shell text */
  readonly args: readonly string[];
  /** added to the sealed environment, e.g. one ssh command per checkout; they cannot replace its variables */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** the script and every git and ssh under it are killed after this long */
  readonly timeoutMs: number;
  /** the checkouts the script's git runs in: the only ones git trusts (safe.directory) */
  readonly trusted: readonly string[];
}

export interface GitScriptOutcome {
  /** the script's own exit code; null when it was killed */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
}

// A function, not an alias: aliases are not expanded in a non-interactive bash.
function gitFunction(trusted: readonly string[]): string {
  return `git() { command git ${gitSettings(trusted).map((setting) => `-c ${quote([setting])}`).join(' ')} "$@"; }`;
}

/**
 * Runs many git commands in one shell: starting a process blocks Node for milliseconds, a
 * shell forks its children for almost nothing. What the commands print is the script's to
 * keep (in files, each with its exit code), so that what finished survives a timeout. Throws
 * a ProcessError when the shell cannot be started.
 */
export async function runGitScript(options: GitScriptOptions): Promise<GitScriptOutcome> {
  const result = await runProcess({
    argv: ['sh', '-c', `${gitFunction(options.trusted)}\n${options.script}`, 'sh', ...options.args],
    env: { ...options.env, ...sealedEnv(undefined) },
    timeoutMs: options.timeoutMs,
    // Its own process group, so that a stop reaches every git and ssh under it.
    stopGroup: true,
    graceMs: 0,
    maxOutputBytes: 64 * 1024,
    failures: 'return',
  });
  return { exitCode: result.exitCode, timedOut: result.timedOut };
}
