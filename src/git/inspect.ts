// Looks at a checkout without changing it: its branch, upstream, local changes, and where
// it stands against the upstream after fetching that one branch. Never moves HEAD, never
// touches the work tree or the index.

import { stat } from 'node:fs/promises';
import type { CheckoutErrorKind, CheckoutState, DeployKeyChoice } from '../deploy/verdict-types.js';
import { chooseDeployKey } from './deploy-keys.js';
import { describeFetchFailure } from './fetch-failure.js';
import { commitOf, DEFAULT_GIT_TIMEOUT_MS, gitClient, type GitClient } from './git-client.js';
import { firstLook, type FirstLook, type FirstLookRequest, type RawRemoteAnswer } from './first-look.js';
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

/**
 * Lets every checkout hand in its first question before any is asked: then one shell asks all
 * of them at once (see first-look.ts), instead of Node starting sixty processes in turn.
 */
interface Phase {
  /** this checkout's request, or undefined when it has none; resolves with every checkout's answers */
  readonly look: (request: FirstLookRequest | undefined) => Promise<FirstLook | undefined>;
}

/** A checkout inspected alone still asks in one process. */
const ALONE: (timeoutMs: number) => Phase = (timeoutMs) => ({
  look: async (request) => (request === undefined ? undefined : (await firstLook([request], timeoutMs))[0]),
});

/** Every checkout at once: they spend their time waiting on the network. */
export function inspectAll(paths: readonly string[], options: InspectOptions): Promise<CheckoutState[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  const requests: Array<FirstLookRequest | undefined> = [];
  let waiting = paths.length;
  let release: (answers: Promise<Array<FirstLook | undefined>>) => void = () => undefined;
  const answers = new Promise<Array<FirstLook | undefined>>((resolve) => {
    release = resolve;
  });
  const arrived = (): void => {
    waiting -= 1;
    if (waiting > 0) return;
    const asked = requests.flatMap((r, i) => (r === undefined ? [] : [{ r, i }]));
    release(
      // A first look that could not be taken at all leaves every checkout to ask alone.
      firstLook(asked.map((a) => a.r), timeoutMs).catch(() => []).then((looks: readonly FirstLook[]) => {
        const byIndex: Array<FirstLook | undefined> = new Array(paths.length).fill(undefined);
        asked.forEach((a, k) => (byIndex[a.i] = looks[k]));
        return byIndex;
      }),
    );
  };
  return Promise.all(
    paths.map((path, i) => {
      let handedIn = false;
      const phase: Phase = {
        look: async (request) => {
          if (!handedIn) {
            handedIn = true;
            requests[i] = request;
            arrived();
          }
          return (await answers)[i];
        },
      };
      return inspectCheckout(path, options, phase).finally(() => {
        if (!handedIn) {
          handedIn = true;
          arrived();
        }
      });
    }),
  );
}

/** What the checkout at `path` looks like; problems end up in `error`, never thrown. */
export async function inspectCheckout(path: string, options: InspectOptions, phase?: Phase): Promise<CheckoutState> {
  try {
    return await inspect(path, options, phase ?? ALONE(options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS));
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    return failed({ ...initialState(path), exists: true }, 'unexpected', `${path}: inspecting the checkout failed: ${message}`);
  }
}

async function inspect(path: string, options: InspectOptions, phase: Phase): Promise<CheckoutState> {
  let state = initialState(path);
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (stats === undefined) return state;
  state = { ...state, exists: true };
  if (!stats.isDirectory()) return failed(state, 'not-a-repo', `${path} is not a directory, so not a git checkout`);

  // Twenty checkouts are inspected at once on a small host, and the network is the slow part:
  // the remote is asked first, and the disk meanwhile, in as few git processes as git allows.
  const local = gitClient(path, withTimeout({ ownAliases: true }, options.timeoutMs));
  const pick = await chooseDeployKey(options.keyRootDir, path);
  const sshCommand = pick.problem === undefined ? await earlySshCommand(pick.key, options) : undefined;
  const look = await phase.look({ path, sshCommand });
  const raw = look?.local;
  const observed = raw !== undefined && raw.statusExit === 0 ? { status: parseStatus(raw.status), config: parseConfig(raw.config) } : await localStateOf(local);
  const status = observed?.status;
  const config = observed?.config ?? new Map<string, string>();
  if (status === undefined) {
    return failed(state, 'not-a-repo', `${path} is not a git checkout: clone the repository there, or remove the path from the list of checkouts`);
  }
  const { head, branch } = status;
  state = { ...state, isRepo: true, key: pick.key, branch, head, dirtyFiles: status.dirty };
  const upstream = branch === undefined ? undefined : upstreamOf(branch, status.upstreamShort, config);
  if (upstream !== undefined) {
    const url = upstream.remote === '.' ? undefined : redactCredentials(config.get(`remote.${upstream.remote}.url`) ?? upstream.remote);
    state = { ...state, upstream: upstream.short, upstreamRef: upstream.ref, remoteUrl: url };
  }
  // A key others can read is reported whatever the branch: it is a secret lying open.
  if (pick.problem !== undefined) return failed(state, 'unsafe-key', `${path}: ${pick.problem}`);
  if (upstream === undefined) return state;
  if (head === undefined) return failed(state, 'no-commits', `${path}: branch ${state.branch} has no commits yet`);

  if (upstream.remote !== '.') {
    const fetched = await fetchUpstream(path, local, upstream, {
      ...options,
      key: pick.key,
      remoteUrl: state.remoteUrl ?? upstream.remote,
      head,
      advertised: look?.remote === undefined ? undefined : advertisedFrom(path, look.remote, options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS),
      earlySshCommand: sshCommand,
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

/** The ssh command of the first question, or undefined when it cannot be asked yet (it is asked later, precisely). */
async function earlySshCommand(key: DeployKeyChoice, options: InspectOptions): Promise<string | undefined> {
  const hostKeys: HostKeyPolicy = { knownHostsFile: options.knownHostsFile, pinned: options.pinned };
  if ((await prepareKnownHosts(hostKeys)) !== undefined) return undefined;
  try {
    return sshCommandFor({ ...hostKeys, key, ...(options.connectTimeoutSeconds === undefined ? {} : { connectTimeoutSeconds: options.connectTimeoutSeconds }) });
  } catch {
    return undefined;
  }
}

function advertisedFrom(path: string, answer: RawRemoteAnswer, timeoutMs: number): Advertised {
  const args = ['ls-remote', '--heads'];
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

const CONFIG_MARK = '#config';
/**
 * `git status` and `git config` in one process started by Node (git runs the two itself,
 * through a one-off alias): each child process Node starts blocks it for a few milliseconds,
 * and twenty checkouts at once would queue forty of them. The status exit code is the
 * command's; `git config` exits 1 when nothing matches, which is not a failure.
 */
const LOCAL_STATE_ALIAS =
  '!git --no-optional-locks status --porcelain=v2 --branch --untracked-files=all -z; s=$?; ' +
  `printf '\\0${CONFIG_MARK}\\0'; ` +
  "git config -z --get-regexp '^(branch\\..*\\.(remote|merge)|remote\\..*\\.url)$'; exit $s";

/** Undefined when the checkout is not a git checkout. */
async function localStateOf(git: GitClient): Promise<{ status: LocalStatus; config: Map<string, string> } | undefined> {
  let out: string;
  try {
    out = await git.run(['-c', `alias.autodeploy-local-state=${LOCAL_STATE_ALIAS}`, 'autodeploy-local-state']);
  } catch (error) {
    if (error instanceof GitError && /not a git repository/i.test(error.stderr)) return undefined;
    throw error;
  }
  const mark = out.indexOf(`\0${CONFIG_MARK}\0`);
  if (mark === -1) throw new Error(`unexpected output of git status and git config: ${JSON.stringify(out.slice(0, 200))}`);
  return { status: parseStatus(out.slice(0, mark)), config: parseConfig(out.slice(mark + CONFIG_MARK.length + 2)) };
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

function withTimeout<T extends object>(base: T, timeoutMs: number | undefined): T & { timeoutMs?: number } {
  return timeoutMs === undefined ? base : { ...base, timeoutMs };
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
  // The first question's ssh command was built once the host keys were ready: it is used again.
  let sshCommand = options.earlySshCommand;
  if (sshCommand === undefined) {
    const overSsh = knownHostsName(options.remoteUrl) !== undefined;
    if (overSsh) {
      const problem = await prepareKnownHosts(hostKeys);
      if (problem !== undefined) return { kind: 'known-hosts', message: `${path}: ${problem}` };
    }
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
  }
  const git = gitClient(path, withTimeout({ sshCommand }, options.timeoutMs));
  try {
    const advertised = options.advertised ?? parseAdvertised(await git.run(['ls-remote', '--', upstream.remote, upstream.remoteRef]));
    const remoteHead = advertised.get(upstream.remoteRef);
    if (remoteHead === undefined) {
      return { kind: 'branch-not-found', message: `${path}: ${upstream.remoteRef} on ${options.remoteUrl}: the upstream branch no longer exists on the remote; push it again or set another upstream (git branch --set-upstream-to)` };
    }
    // Nothing to fetch when HEAD or the remote-tracking ref is there already.
    if (remoteHead === options.head || remoteHead === (await commitOf(local, upstream.ref))) return { remoteHead };
    await git.run(['fetch', '--no-write-fetch-head', '--', upstream.remote, `+${upstream.remoteRef}:${upstream.ref}`]);
    return { remoteHead };
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    return failure(error);
  }
}
