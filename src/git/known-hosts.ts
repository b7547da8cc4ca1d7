import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sshCommandFor, UnusableSshPathError, type HostKeyPolicy, type SshCommandOptions } from './ssh-command.js';

/**
 * Makes the known_hosts file usable before ssh needs it. A pinned file must be readable:
 * ssh would otherwise report every host as unknown. A trust-on-first-use file needs its
 * directory: ssh only warns when it cannot record a new host, and would trust it again next time.
 * Returns why the file cannot be used, or undefined.
 */
export async function prepareKnownHosts(policy: HostKeyPolicy): Promise<string | undefined> {
  if (policy.pinned) {
    return access(policy.knownHostsFile, constants.R_OK).then(
      () => undefined,
      (error: NodeJS.ErrnoException) => `the pinned known_hosts file ${policy.knownHostsFile} cannot be read (${error.code ?? error.message}): fix AUTODEPLOY_KNOWN_HOSTS or create the file with the git servers' host keys`,
    );
  }
  const dir = path.dirname(policy.knownHostsFile);
  return mkdir(dir, { recursive: true, mode: 0o700 }).then(
    () => undefined,
    (error: NodeJS.ErrnoException) => `the directory ${dir} for trusted host keys cannot be created (${error.code ?? error.message}): check AUTODEPLOY_STATE_DIR and its volume`,
  );
}

export type SshSetup = { readonly command: string } | { readonly kind: 'known-hosts' | 'unsafe-key'; readonly problem: string };

/**
 * The GIT_SSH_COMMAND for a remote, or why there is none. The known_hosts file is made usable
 * first when the remote is reached over ssh (a remote on a local path needs none of it); the
 * key's and known_hosts' paths must then be safe to put in the command.
 */
export async function sshSetup(options: SshCommandOptions, overSsh = true): Promise<SshSetup> {
  if (overSsh) {
    const problem = await prepareKnownHosts(options);
    if (problem !== undefined) return { kind: 'known-hosts', problem };
  }
  try {
    return { command: sshCommandFor(options) };
  } catch (error) {
    if (error instanceof UnusableSshPathError) return { kind: 'unsafe-key', problem: error.message };
    throw error;
  }
}
