// What the autodeploy check finds out about one checkout, as plain data.

/** What went wrong with a git command, from what git (and ssh or curl under it) wrote. */
export const GIT_ERROR_KINDS = [
  'auth-refused',
  'host-key-changed',
  'host-key-unknown',
  'unreachable',
  'repo-not-found',
  'branch-not-found',
  'timeout',
  'other',
] as const;
export type GitErrorKind = (typeof GIT_ERROR_KINDS)[number];

export const VERDICTS = ['up-to-date', 'ahead', 'behind', 'divergent', 'dirty', 'no-upstream', 'detached', 'missing', 'error'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Which deploy key a checkout uses, and why that one. */
export interface DeployKeyChoice {
  /** absolute path of the private key, or undefined: no key (https or public remote) */
  readonly path: string | undefined;
  readonly reason: 'per-repo' | 'shared' | 'none';
}

/** One changed path between HEAD and upstream, as `git diff --name-status` gives it. */
export interface ChangedFile {
  readonly status: string;
  readonly path: string;
  /** the old path of a rename or copy (status R… or C…) */
  readonly from?: string;
}

/** What kind of problem `error` describes: a failed git command's kind, or a check made before any. */
export type CheckoutErrorKind = GitErrorKind | 'not-a-repo' | 'no-commits' | 'unsafe-key' | 'known-hosts' | 'unexpected';

/** Everything observed of one checkout, before any decision. */
export interface CheckoutState {
  readonly path: string;
  readonly exists: boolean;
  readonly isRepo: boolean;
  /** current branch; undefined when detached */
  readonly branch: string | undefined;
  /** e.g. origin/main; undefined when the branch tracks nothing */
  readonly upstream: string | undefined;
  readonly remoteUrl: string | undefined;
  readonly head: string | undefined;
  readonly upstreamHead: string | undefined;
  readonly ahead: number;
  readonly behind: number;
  /** tracked changes (staged or not) and untracked files, as `git status --porcelain` lines */
  readonly dirtyFiles: readonly string[];
  readonly changedFiles: readonly ChangedFile[];
  readonly key: DeployKeyChoice;
  /** a fetch or inspection failure, in words an operator can act on */
  readonly error: string | undefined;
  /** set with `error` */
  readonly errorKind?: CheckoutErrorKind;
  /** the full name of the upstream's remote-tracking ref, e.g. refs/remotes/origin/main */
  readonly upstreamRef?: string;
  /** the upstream's branch on its remote (`main` for refs/heads/main), which a push names */
  readonly upstreamBranch?: string;
}

export interface CheckoutVerdict extends CheckoutState {
  readonly verdict: Verdict;
  /** why this verdict, in one sentence */
  readonly reason: string;
}
