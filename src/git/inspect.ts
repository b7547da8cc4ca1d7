// Looks at a checkout without changing it: its branch, upstream, local changes, and where
// it stands against the upstream after fetching that one branch. Never moves HEAD, never
// touches the work tree or the index.

import { stat } from 'node:fs/promises';
import type { CheckoutErrorKind, CheckoutState, DeployKeyChoice } from '../deploy/verdict-types.js';
import { chooseDeployKey } from './deploy-keys.js';
import { describeFetchFailure } from './fetch-failure.js';
import { gitClient, type GitClient } from './git-client.js';
import { GitError } from './git-error.js';
import { prepareKnownHosts } from './known-hosts.js';
import { parseNameStatus } from './name-status.js';
import { knownHostsName, redactCredentials } from './remote-url.js';
import { sshCommandFor, UnusableSshPathError, type HostKeyPolicy } from './ssh-command.js';

export interface InspectOptions extends HostKeyPolicy {
  /** AUTODEPLOY_DEPLOY_KEY_ROOT_DIR; undefined: no deploy keys */
  readonly keyRootDir: string | undefined;
  /** stop a git command after this long without output */
  readonly timeoutMs?: number;
  readonly connectTimeoutSeconds?: number;
}

interface Upstream {
  /** refs/remotes/origin/main */
  readonly ref: string;
  /** origin/main */
  readonly short: string;
  /** origin; `.` for a local branch */
  readonly remote: string;
  /** refs/heads/main, on the remote */
  readonly remoteRef: string;
}

const NO_KEY: DeployKeyChoice = { path: undefined, reason: 'none' };

function initialState(path: string): CheckoutState {
  return {
    path,
    exists: false,
    isRepo: false,
    branch: undefined,
    upstream: undefined,
    remoteUrl: undefined,
    head: undefined,
    upstreamHead: undefined,
    ahead: 0,
    behind: 0,
    dirtyFiles: [],
    changedFiles: [],
    key: NO_KEY,
    error: undefined,
  };
}

function failed(state: CheckoutState, errorKind: CheckoutErrorKind, error: string): CheckoutState {
  return { ...state, error, errorKind };
}

/** Every checkout at once: they spend their time waiting on the network. */
export function inspectAll(paths: readonly string[], options: InspectOptions): Promise<CheckoutState[]> {
  return Promise.all(paths.map((path) => inspectCheckout(path, options)));
}

/** What the checkout at `path` looks like; problems end up in `error`, never thrown. */
export async function inspectCheckout(path: string, options: InspectOptions): Promise<CheckoutState> {
  try {
    return await inspect(path, options);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    return failed({ ...initialState(path), exists: true }, 'unexpected', `${path}: inspecting the checkout failed: ${message}`);
  }
}

async function inspect(path: string, options: InspectOptions): Promise<CheckoutState> {
  let state = initialState(path);
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (stats === undefined) return state;
  state = { ...state, exists: true };
  if (!stats.isDirectory()) return failed(state, 'not-a-repo', `${path} is not a directory, so not a git checkout`);

  const local = gitClient(path, withTimeout({}, options.timeoutMs));
  const toplevel = await local.run(['rev-parse', '--show-toplevel']).then(
    (out) => out.trim(),
    (error: unknown) => {
      if (error instanceof GitError && /not a git repository/i.test(error.stderr)) return undefined;
      throw error;
    },
  );
  if (toplevel === undefined) return failed(state, 'not-a-repo', `${path} is not a git checkout: clone the repository there, or remove the path from the list of checkouts`);
  state = { ...state, isRepo: true };

  const pick = await chooseDeployKey(options.keyRootDir, toplevel);
  const branch = (await local.run(['branch', '--show-current'])).trim();
  const head = await revision(local, 'HEAD');
  const status = await local.run(['--no-optional-locks', 'status', '--porcelain', '--untracked-files=all']);
  state = {
    ...state,
    key: pick.key,
    branch: branch === '' ? undefined : branch,
    head,
    dirtyFiles: status.split('\n').filter((line) => line !== ''),
  };
  const upstream = state.branch === undefined ? undefined : await upstreamOf(local, state.branch);
  if (upstream !== undefined) {
    state = { ...state, upstream: upstream.short, upstreamRef: upstream.ref, remoteUrl: await remoteUrlOf(local, upstream.remote) };
  }
  // A key others can read is reported whatever the branch: it is a secret lying open.
  if (pick.problem !== undefined) return failed(state, 'unsafe-key', `${path}: ${pick.problem}`);
  if (upstream === undefined) return state;
  if (head === undefined) return failed(state, 'no-commits', `${path}: branch ${state.branch} has no commits yet`);

  if (upstream.remote !== '.') {
    const fetchError = await fetchUpstream(path, upstream, { ...options, key: pick.key, remoteUrl: state.remoteUrl ?? upstream.remote });
    if (fetchError !== undefined) return failed(state, fetchError.kind, fetchError.message);
  }

  const upstreamHead = await revision(local, upstream.ref);
  if (upstreamHead === undefined) {
    return failed(state, 'branch-not-found', `${path}: the upstream ${upstream.short} does not exist; fetch it, or set another upstream (git branch --set-upstream-to)`);
  }
  const counts = (await local.run(['rev-list', '--left-right', '--count', `HEAD...${upstream.ref}`])).trim().split(/\s+/);
  const diff = await local.run(['diff', '--name-status', 'HEAD', upstream.ref, '--']);
  return {
    ...state,
    upstreamHead,
    ahead: Number(counts[0] ?? 0),
    behind: Number(counts[1] ?? 0),
    changedFiles: parseNameStatus(diff),
  };
}

function withTimeout<T extends object>(base: T, timeoutMs: number | undefined): T & { timeoutMs?: number } {
  return timeoutMs === undefined ? base : { ...base, timeoutMs };
}

/** The commit a revision names, or undefined when it names none (an unborn branch, a missing ref). */
async function revision(git: GitClient, rev: string): Promise<string | undefined> {
  const out = await git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).catch((error: unknown) => {
    // --quiet: a missing revision exits 1 and says nothing.
    if (error instanceof GitError && error.exitCode === 1) return '';
    throw error;
  });
  const commit = out.trim();
  return commit === '' ? undefined : commit;
}

async function upstreamOf(git: GitClient, branch: string): Promise<Upstream | undefined> {
  const out = await git.run([
    'for-each-ref',
    '--format=%(upstream)%00%(upstream:short)%00%(upstream:remotename)%00%(upstream:remoteref)',
    `refs/heads/${branch}`,
  ]);
  const line = out.split('\n').find((l) => l !== '');
  if (line === undefined) return undefined;
  const [ref = '', short = '', remote = '', remoteRef = ''] = line.split('\0');
  if (ref === '' || remote === '' || remoteRef === '') return undefined;
  return { ref, short, remote, remoteRef };
}

async function remoteUrlOf(git: GitClient, remote: string): Promise<string | undefined> {
  if (remote === '.') return undefined;
  const url = await git.run(['remote', 'get-url', '--', remote]).then(
    (out) => out.trim(),
    // branch.<name>.remote may hold a URL rather than the name of a remote.
    () => remote,
  );
  return redactCredentials(url);
}

interface FetchOptions extends InspectOptions {
  readonly key: DeployKeyChoice;
  readonly remoteUrl: string;
}

/**
 * Fetches the upstream branch alone into its remote-tracking ref. With protocol v2 the
 * server only advertises the refs asked for, and when that ref has not moved nothing else
 * is exchanged. FETCH_HEAD is not written: the deploy does not use it, and it would be
 * another file in the checkout created by root.
 */
async function fetchUpstream(path: string, upstream: Upstream, options: FetchOptions): Promise<{ kind: CheckoutErrorKind; message: string } | undefined> {
  const hostKeys: HostKeyPolicy = { knownHostsFile: options.knownHostsFile, pinned: options.pinned };
  const overSsh = knownHostsName(options.remoteUrl) !== undefined;
  if (overSsh) {
    const problem = await prepareKnownHosts(hostKeys);
    if (problem !== undefined) return { kind: 'known-hosts', message: `${path}: ${problem}` };
  }
  let sshCommand: string;
  try {
    sshCommand = sshCommandFor({
      ...hostKeys,
      key: options.key,
      ...(options.connectTimeoutSeconds === undefined ? {} : { connectTimeoutSeconds: options.connectTimeoutSeconds }),
    });
  } catch (error) {
    if (error instanceof UnusableSshPathError) return { kind: 'unsafe-key', message: `${path}: ${error.message}` };
    throw error;
  }
  const git = gitClient(path, withTimeout({ sshCommand }, options.timeoutMs));
  try {
    await git.run(['fetch', '--no-write-fetch-head', '--', upstream.remote, `+${upstream.remoteRef}:${upstream.ref}`]);
    return undefined;
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    return {
      kind: error.kind,
      message: describeFetchFailure(error, { checkout: path, remoteUrl: options.remoteUrl, remoteRef: upstream.remoteRef, key: options.key, hostKeys }),
    };
  }
}
