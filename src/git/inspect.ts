// Looks at a checkout without changing it: its branch, upstream, local changes, and where
// it stands against the upstream after fetching that one branch. Never moves HEAD, never
// touches the work tree or the index. Over 300 lines as one file: the batched first look
// and each checkout's finish read the same raw answers into one CheckoutState.

import { stat } from 'node:fs/promises';
import type { CheckoutErrorKind, CheckoutState, DeployKeyChoice } from '../core/checkout.js';
import { chooseDeployKey, type DeployKeyPick } from './deploy-keys.js';
import { describeFetchFailure } from './fetch-failure.js';
import { commitOf, DEFAULT_GIT_TIMEOUT_MS, gitClient, OWN_UPLOAD_PACK, type GitClient } from './git-client.js';
import { firstLook, type FirstLook, type RawRemoteAnswer } from './first-look.js';
import { GitError } from './git-error.js';
import { sshSetup } from './known-hosts.js';
import { parseNameStatus } from './name-status.js';
import { knownHostsName, redactCredentials } from '../core/remote-url.js';
import type { HostKeyPolicy } from './ssh-command.js';

export interface InspectOptions extends HostKeyPolicy {
  /** AUTODEPLOY_DEPLOY_KEY_ROOT_DIR; undefined: no deploy keys */
  readonly keyRootDir: string | undefined;
  /** stop a git command after this long without output */
  readonly timeoutMs?: number | undefined;
  readonly connectTimeoutSeconds?: number | undefined;
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

/** A checkout whose first look is to be taken, or its state already when there is nothing to ask. */
type Prepared = { readonly done: CheckoutState } | Asking;

interface Asking {
  readonly state: CheckoutState;
  readonly pick: DeployKeyPick;
  /** the ssh command of the first question; undefined: the remote is asked later, when its URL is known */
  readonly sshCommand: string | undefined;
}

/**
 * Every checkout at once: they spend their time waiting on the network. Each is prepared (is it
 * there, which key), then one shell asks all remotes and reads all local states (first-look.ts)
 * instead of Node starting sixty processes in turn, then each checkout is finished alone.
 */
export async function inspectAll(paths: readonly string[], options: InspectOptions): Promise<CheckoutState[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  const prepared = await Promise.all(paths.map((path) => guarded(path, () => prepare(path, options), (done) => ({ done }))));
  const asking = prepared.flatMap((p, i) => ('done' in p ? [] : [{ i, request: { path: p.state.path, sshCommand: p.sshCommand } }]));
  // A first look that could not be taken at all leaves every checkout to read its own.
  const looks = await firstLook(asking.map((a) => a.request), timeoutMs).catch((): FirstLook[] => []);
  const lookOf = new Map(asking.map((a, k) => [a.i, looks[k]]));
  return Promise.all(prepared.map((p, i) => ('done' in p ? p.done : guarded(p.state.path, () => finish(p, lookOf.get(i), options), (state) => state))));
}

/** What the checkout at `path` looks like; problems end up in `error`, never thrown. */
export async function inspectCheckout(path: string, options: InspectOptions): Promise<CheckoutState> {
  const [state] = await inspectAll([path], options);
  return state ?? failed({ ...initialState(path), exists: true }, 'unexpected', `${path}: inspecting the checkout gave no answer`);
}

/** `step`'s result, or an unexpected failure turned into the checkout's error. */
async function guarded<T>(path: string, step: () => Promise<T>, asResult: (state: CheckoutState) => T): Promise<T> {
  try {
    return await step();
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    return asResult(failed({ ...initialState(path), exists: true }, 'unexpected', `${path}: inspecting the checkout failed: ${message}`));
  }
}

async function prepare(path: string, options: InspectOptions): Promise<Prepared> {
  const state = initialState(path);
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (stats === undefined) return { done: state };
  if (!stats.isDirectory()) return { done: failed({ ...state, exists: true }, 'not-a-repo', `${path} is not a directory, so not a git checkout`) };
  // The key comes from the checkout's name, not from git: the remote can be asked before anything
  // else is known. When the ssh command cannot be made yet, it is made later, with the reason.
  const pick = await chooseDeployKey(options.keyRootDir, path);
  const setup = pick.problem === undefined ? await sshSetup({ ...options, key: pick.key }) : undefined;
  return { state: { ...state, exists: true }, pick, sshCommand: setup !== undefined && 'command' in setup ? setup.command : undefined };
}

async function finish(prepared: Asking, look: FirstLook | undefined, options: InspectOptions): Promise<CheckoutState> {
  const { pick } = prepared;
  let state = prepared.state;
  const path = state.path;
  const timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  // Not read with the others (the shell was stopped, or failed): read alone.
  const raw = look?.local ?? (await firstLook([{ path, sshCommand: undefined }], timeoutMs))[0]?.local;
  if (raw === undefined) throw new Error('git status could not be run in it');
  if (raw.statusExit !== 0) {
    if (/not a git repository/i.test(raw.statusError)) {
      return failed(state, 'not-a-repo', `${path} is not a git checkout: clone the repository there, or remove the path from the list of checkouts`);
    }
    throw new GitError({ args: ['status'], repoPath: path, exitCode: raw.statusExit, stderr: raw.statusError, timedOutAfterMs: undefined });
  }
  const status = parseStatus(raw.status);
  const config = parseConfig(raw.config);
  const { head, branch } = status;
  state = { ...state, isRepo: true, key: pick.key, branch, head, dirtyFiles: status.dirty };
  const upstream = branch === undefined ? undefined : upstreamOf(branch, status.upstreamShort, config);
  if (upstream !== undefined) {
    const url = upstream.remote === '.' ? undefined : redactCredentials(config.get(`remote.${upstream.remote}.url`) ?? upstream.remote);
    const upstreamBranch = upstream.remote === '.' || !upstream.remoteRef.startsWith('refs/heads/') ? undefined : upstream.remoteRef.slice('refs/heads/'.length);
    state = { ...state, upstream: upstream.short, upstreamRef: upstream.ref, remoteUrl: url, ...(upstreamBranch === undefined ? {} : { upstreamBranch }) };
  }
  // A key others can read is reported whatever the branch: it is a secret lying open.
  if (pick.problem !== undefined) return failed(state, 'unsafe-key', `${path}: ${pick.problem}`);
  if (upstream === undefined) return state;
  if (head === undefined) return failed(state, 'no-commits', `${path}: branch ${state.branch} has no commits yet`);

  const local = gitClient(path, { timeoutMs: options.timeoutMs });
  if (upstream.remote !== '.') {
    const fetched = await fetchUpstream(path, local, upstream, {
      ...options,
      key: pick.key,
      remoteUrl: state.remoteUrl ?? upstream.remote,
      head,
      advertised: look?.remote === undefined ? undefined : advertisedFrom(path, look.remote, timeoutMs),
      earlySshCommand: prepared.sshCommand,
    });
    if ('kind' in fetched) return failed(state, fetched.kind, fetched.message);
    // The remote branch is where HEAD is: up to date, and nothing was fetched.
    if (fetched.remoteHead === head) return { ...state, upstreamHead: head };
  }

  const upstreamHead = await commitOf(local, upstream.ref);
  if (upstreamHead === undefined) {
    return failed(state, 'branch-not-found', `${path}: the upstream ${upstream.short} does not exist; fetch it, or set another upstream (git branch --set-upstream-to)`);
  }
  // The common case, nothing new: no counting and no diff to run.
  if (upstreamHead === head) return { ...state, upstreamHead };
  const [counts, diff] = await Promise.all([
    local.run(['rev-list', '--left-right', '--count', `HEAD...${upstream.ref}`]).then((out) => out.trim().split(/\s+/)),
    local.run(['diff', '--name-status', 'HEAD', upstream.ref, '--']),
  ]);
  return {
    ...state,
    upstreamHead,
    ahead: Number(counts[0] ?? 0),
    behind: Number(counts[1] ?? 0),
    changedFiles: parseNameStatus(diff),
  };
}

/**
 * What `git ls-remote --heads` of the current branch's remote said when it was asked first,
 * before anything else was known (the key comes from the checkout's name, not from git): ref →
 * commit, or git's error.
 */
type Advertised = Map<string, string> | GitError;

function advertisedFrom(path: string, answer: RawRemoteAnswer, timeoutMs: number): Advertised {
  const args = ['ls-remote', OWN_UPLOAD_PACK, '--heads'];
  if (answer.exitCode === 0) return parseAdvertised(answer.stdout);
  return new GitError({
    args,
    repoPath: path,
    exitCode: answer.exitCode,
    stderr: redactCredentials(answer.stderr),
    timedOutAfterMs: answer.exitCode === undefined ? timeoutMs : undefined,
  });
}

/** `<commit>\t<ref>` lines, as ls-remote prints them. */
function parseAdvertised(out: string): Map<string, string> {
  return new Map(
    out.split('\n').filter((line) => line.includes('\t')).map((line) => {
      const [commit = '', ref = ''] = line.split('\t');
      return [ref, commit] as const;
    }),
  );
}

interface LocalStatus {
  readonly head: string | undefined;
  readonly branch: string | undefined;
  /** `origin/main`: the remote-tracking branch, as git shortens it */
  readonly upstreamShort: string | undefined;
  /** `XY path` per changed or untracked file, as `git status --porcelain` prints them */
  readonly dirty: readonly string[];
}

/**
 * HEAD, the branch, its upstream and every local change, from `git status --porcelain=v2
 * --branch -z` (https://git-scm.com/docs/git-status#_porcelain_format_version_2).
 */
function parseStatus(out: string): LocalStatus {
  let head: string | undefined;
  let branch: string | undefined;
  let upstreamShort: string | undefined;
  const dirty: string[] = [];
  const entries = out.split('\0');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] ?? '';
    if (entry.startsWith('# branch.oid ')) {
      const oid = entry.slice('# branch.oid '.length);
      head = oid === '(initial)' ? undefined : oid;
    } else if (entry.startsWith('# branch.head ')) {
      const name = entry.slice('# branch.head '.length);
      branch = name === '(detached)' ? undefined : name;
    } else if (entry.startsWith('# branch.upstream ')) {
      upstreamShort = entry.slice('# branch.upstream '.length);
    } else if (entry.startsWith('? ')) {
      dirty.push(`?? ${entry.slice(2)}`);
    } else if (/^[12u] /.test(entry)) {
      const fields = entry.split(' ');
      const xy = (fields[1] ?? '..').replace(/\./g, ' ');
      // Ordinary: 9 fields before the path; renamed: 10, then the original path as the next entry; unmerged: 11.
      const before = entry[0] === '1' ? 8 : entry[0] === '2' ? 9 : 10;
      dirty.push(`${xy} ${fields.slice(before).join(' ')}`);
      if (entry[0] === '2') i += 1;
    }
  }
  return { head, branch, upstreamShort, dirty };
}

/** `branch.*.remote`, `branch.*.merge` and `remote.*.url` as `git config -z --get-regexp` prints them. */
function parseConfig(out: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const entry of out.split('\0')) {
    const newline = entry.indexOf('\n');
    if (newline !== -1) values.set(entry.slice(0, newline), entry.slice(newline + 1));
  }
  return values;
}

/**
 * The branch's upstream from its configuration: git's own `@{upstream}` rules (branch.<b>.remote
 * and branch.<b>.merge; `.` for a local branch), with the remote-tracking ref named as status
 * shortened it.
 */
function upstreamOf(branch: string, upstreamShort: string | undefined, config: ReadonlyMap<string, string>): Upstream | undefined {
  const remote = config.get(`branch.${branch}.remote`);
  const remoteRef = config.get(`branch.${branch}.merge`);
  if (remote === undefined || remoteRef === undefined || upstreamShort === undefined) return undefined;
  const ref = remote === '.' ? remoteRef : `refs/remotes/${upstreamShort}`;
  return { ref, short: upstreamShort, remote, remoteRef };
}

interface FetchOptions extends InspectOptions {
  readonly key: DeployKeyChoice;
  readonly remoteUrl: string;
  /** HEAD's commit: when the remote branch is there too, nothing is fetched */
  readonly head: string;
  /** what the remote said when asked early, if it was */
  readonly advertised: Advertised | undefined;
  /** the ssh command it was asked with, if it was */
  readonly earlySshCommand: string | undefined;
}

type FetchOutcome = { readonly remoteHead: string } | { readonly kind: CheckoutErrorKind; readonly message: string };

/**
 * Asks the remote where the upstream branch is (`ls-remote`, one SSH session: a handshake and
 * the one ref) and fetches only when it is not where HEAD already is: a checkout whose remote
 * has not moved costs no fetch and no object transfer. The fetch takes the upstream branch
 * alone into its remote-tracking ref; FETCH_HEAD is not written: the deploy does not use it,
 * and it would be another file in the checkout created by root.
 */
async function fetchUpstream(path: string, local: GitClient, upstream: Upstream, options: FetchOptions): Promise<FetchOutcome> {
  const hostKeys: HostKeyPolicy = { knownHostsFile: options.knownHostsFile, pinned: options.pinned };
  const failure = (error: GitError): FetchOutcome => ({
    kind: error.kind,
    message: describeFetchFailure(error, { checkout: path, remoteUrl: options.remoteUrl, remoteRef: upstream.remoteRef, key: options.key, hostKeys }),
  });
  // An early answer that failed is the answer: asking again would only wait for the same timeout.
  if (options.advertised instanceof GitError) return failure(options.advertised);
  // The first question's ssh command is used again; made here, it says why it cannot be.
  let sshCommand = options.earlySshCommand;
  if (sshCommand === undefined) {
    const setup = await sshSetup({ ...options, key: options.key }, knownHostsName(options.remoteUrl) !== undefined);
    if (!('command' in setup)) return { kind: setup.kind, message: `${path}: ${setup.problem}` };
    sshCommand = setup.command;
  }
  const git = gitClient(path, { sshCommand, timeoutMs: options.timeoutMs });
  try {
    const advertised = options.advertised ?? parseAdvertised(await git.run(['ls-remote', OWN_UPLOAD_PACK, '--', upstream.remote, upstream.remoteRef]));
    const remoteHead = advertised.get(upstream.remoteRef);
    if (remoteHead === undefined) {
      return { kind: 'branch-not-found', message: `${path}: ${upstream.remoteRef} on ${options.remoteUrl}: the upstream branch no longer exists on the remote; push it again or set another upstream (git branch --set-upstream-to)` };
    }
    // Nothing to fetch when HEAD or the remote-tracking ref is there already.
    if (remoteHead === options.head || remoteHead === (await commitOf(local, upstream.ref))) return { remoteHead };
    await git.run(['fetch', OWN_UPLOAD_PACK, '--no-write-fetch-head', '--', upstream.remote, `+${upstream.remoteRef}:${upstream.ref}`]);
    return { remoteHead };
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    return failure(error);
  }
}
