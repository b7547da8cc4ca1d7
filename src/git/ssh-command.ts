import path from 'node:path';
import type { DeployKeyChoice } from '../core/checkout.js';
import { shellWord } from './shell-word.js';

/** Where host keys are checked against, and whether unknown hosts may be added. */
export interface HostKeyPolicy {
  readonly knownHostsFile: string;
  /** true: the operator's file is the only truth (StrictHostKeyChecking=yes); false: trust on first use */
  readonly pinned: boolean;
}

export const TRUSTED_HOSTS_FILE = 'known_hosts';

/**
 * The operator's pinned known_hosts file (AUTODEPLOY_KNOWN_HOSTS) when given; otherwise
 * trust on first use, remembered in the state directory so that it survives restarts.
 */
export function hostKeyPolicy(options: { readonly pinnedKnownHosts: string | undefined; readonly stateDir: string }): HostKeyPolicy {
  if (options.pinnedKnownHosts !== undefined && options.pinnedKnownHosts !== '') {
    return { knownHostsFile: path.resolve(options.pinnedKnownHosts), pinned: true };
  }
  return { knownHostsFile: path.join(path.resolve(options.stateDir), TRUSTED_HOSTS_FILE), pinned: false };
}

export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 20;

export interface SshCommandOptions extends HostKeyPolicy {
  readonly key: DeployKeyChoice;
  /** seconds for the TCP connection and the ssh banner; 20 when absent */
  readonly connectTimeoutSeconds?: number | undefined;
}

/** A key or known_hosts path that ssh would read as something else. */
export class UnusableSshPathError extends Error {
  readonly path: string;
  constructor(file: string, why: string) {
    super(`ssh cannot be given the path ${JSON.stringify(file)}: ${why}; move the file to a path without such characters`);
    this.name = 'UnusableSshPathError';
    this.path = file;
  }
}

/**
 * GIT_SSH_COMMAND for one checkout: its own key only, never a prompt, and host keys always
 * checked. git runs this through the shell (https://git-scm.com/docs/git#Documentation/git.txt-codeGITSSHCOMMANDcode).
 */
export function sshCommandFor(options: SshCommandOptions): string {
  const words = ['ssh'];
  if (options.key.path !== undefined) {
    // `-o IdentityFile=` rather than `-i`: ssh checks a `-i` path before expanding its
    // %-tokens, so that no escaping makes a path with `%` work there.
    words.push('-o', `IdentityFile=${sshFilePath(options.key.path)}`, '-o', 'IdentitiesOnly=yes');
  }
  words.push(
    '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${sshFilePath(options.knownHostsFile)}`,
    '-o', `StrictHostKeyChecking=${options.pinned ? 'yes' : 'accept-new'}`,
    '-o', `ConnectTimeout=${Math.max(1, Math.round(options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS))}`,
    // git does not stop ssh when it is itself stopped: these bound how long ssh can outlive it.
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=4',
  );
  return words.map(shellWord).join(' ');
}

// An ssh_config value: ssh expands %-tokens and ${VAR} in IdentityFile and UserKnownHostsFile
// (ssh_config(5), TOKENS), and splits on white space unless the value is double-quoted.
function sshFilePath(file: string): string {
  if (!path.isAbsolute(file)) throw new UnusableSshPathError(file, 'it is not absolute');
  if (/[\u0000-\u001f\u007f"\\]/.test(file)) throw new UnusableSshPathError(file, 'it contains a double quote, a backslash or a control character');
  if (file.includes('${')) throw new UnusableSshPathError(file, 'ssh would expand "${" in it as an environment variable');
  const escaped = file.replace(/%/g, '%%');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}
