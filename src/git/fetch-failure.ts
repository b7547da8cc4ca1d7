import type { DeployKeyChoice } from '../core/checkout.js';
import type { GitError } from './git-error.js';
import { summarizeStderr } from './git-error.js';
import { knownHostsName } from '../core/remote-url.js';
import type { HostKeyPolicy } from './ssh-command.js';
import { shellWord } from './shell-word.js';

export interface FetchFailureContext {
  readonly checkout: string;
  /** credentials already redacted */
  readonly remoteUrl: string;
  /** e.g. refs/heads/main */
  readonly remoteRef: string;
  readonly key: DeployKeyChoice;
  readonly hostKeys: HostKeyPolicy;
}

/** One sentence that says what failed, for which checkout, and what the operator can do. */
export function describeFetchFailure(error: GitError, context: FetchFailureContext): string {
  const { checkout, remoteUrl, key, hostKeys } = context;
  const host = knownHostsName(remoteUrl) ?? remoteUrl;
  const file = hostKeys.knownHostsFile;
  const said = summarizeStderr(error.stderr);
  const keyText = key.path === undefined ? 'the default ssh identity (no deploy key was found)' : `the deploy key ${key.path}`;
  const prefix = `${checkout}: fetching ${context.remoteRef} from ${remoteUrl}`;
  switch (error.kind) {
    case 'auth-refused':
      return `${prefix}: authentication or permission refused for ${keyText} (${said}); register ${key.path === undefined ? 'a key' : `${key.path}.pub`} as a read-only deploy key of that repository`;
    case 'host-key-changed':
      return `${prefix}: the host key of ${host} has changed since it was trusted in ${file}; nothing was fetched and the file was left as it is. If the server was really reinstalled, check its new fingerprint and run ssh-keygen -R ${shellWord(host)} -f ${shellWord(file)}${hostKeys.pinned ? ', then add its new key to that file' : ''}; otherwise someone may be intercepting the connection`;
    case 'host-key-unknown':
      return hostKeys.pinned
        ? `${prefix}: the host key of ${host} is not in the pinned known_hosts file ${file}; add it there after checking its fingerprint`
        : `${prefix}: the host key of ${host} could not be checked against ${file} (${said})`;
    case 'unreachable':
      return `${prefix}: the server is unreachable (${said}); check the host name, the port and the network`;
    case 'repo-not-found':
      return `${prefix}: the repository was not found (${said}); check the remote URL (git remote set-url) and that ${keyText} may read it`;
    case 'branch-not-found':
      return `${prefix}: the upstream branch no longer exists on the remote; push it again or set another upstream (git branch --set-upstream-to)`;
    case 'timeout':
      return `${prefix}: git made no progress and was stopped (${error.message}); check the network and the git server`;
    case 'other':
      return `${prefix}: git fetch failed (${said === '' ? error.message : said})`;
  }
}
