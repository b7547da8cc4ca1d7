// What a notebook publish (or rollback) tells as it goes, as plain data: one
// event per line of the story, in the order the steps happen. The flow
// (src/notebooks/notebook-deploy.ts) emits them and returns its report as
// before; src/core/notebook-event-text.ts gives each its sentence. Whether the
// set was published, unchanged, held or rolled back is the `finished` event's
// outcome: the run says it once, at its end.

import type { DeployKeyChoice } from './checkout.js';

export type NotebookOutcome = 'published' | 'unchanged' | 'held' | 'dry-run' | 'rolled-back' | 'locked' | 'failed';

export type FileChangeKind = 'added' | 'changed' | 'removed';

/** How many files a publish or rollback adds, changes and removes. */
export interface ChangeCounts {
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
}

/** The target link moved to a version. */
export interface TargetSwap {
  readonly target: string;
  /** the link's text, relative to the target's directory */
  readonly link: string;
  readonly version: string;
  /** the version the target held before, if any */
  readonly replaced: string | undefined;
}

export type NotebookEvent =
  /** said by the command, before the first step */
  | {
    readonly type: 'started';
    readonly mode: 'run' | 'dry-run' | 'rollback';
    readonly at: string;
    readonly sources: number;
    readonly target: string;
    readonly owner: string;
  }
  /** said by the command instead of a run: there is nothing to publish */
  | { readonly type: 'no-sources'; readonly envFile: string }
  | {
    readonly type: 'source-fetched';
    /** 1-based, in the order of AUTODEPLOY_NOTEBOOK_SOURCES */
    readonly number: number;
    readonly label: string;
    readonly commit: string;
    /** the commit the cache had for this ref before the run */
    readonly previous: string | undefined;
    readonly files: number;
    readonly glob: string;
    readonly dest: string;
    readonly key: DeployKeyChoice;
    /** paths the glob matched that are not regular files, and are not published */
    readonly skipped: readonly string[];
  }
  | { readonly type: 'source-failed'; readonly number: number; readonly label: string; readonly reason: string }
  | {
    readonly type: 'collision';
    readonly path: string;
    readonly kind: 'same-path' | 'file-and-directory';
    readonly first: number;
    readonly firstLabel: string;
    readonly second: number;
    readonly secondLabel: string;
  }
  /** a run stopped half-way had left the target missing; it points at the last version again */
  | { readonly type: 'restored'; readonly target: string; readonly version: string }
  /** the target pointed at a version the journal did not record */
  | { readonly type: 'journal-repaired'; readonly version: string; readonly at: string }
  | { readonly type: 'leftovers-removed'; readonly names: readonly string[] }
  /** one file a publish or rollback adds, changes or removes */
  | { readonly type: 'file-changed'; readonly change: FileChangeKind; readonly path: string }
  /** the files of one kind past those listed */
  | { readonly type: 'more-changes'; readonly change: FileChangeKind; readonly count: number }
  | { readonly type: 'staging'; readonly version: string; readonly files: number; readonly dir: string }
  /** a plain directory at the target became a version, kept for --rollback */
  | { readonly type: 'directory-adopted'; readonly target: string; readonly version: string }
  | { readonly type: 'directory-in-the-way'; readonly target: string; readonly version: string }
  | (TargetSwap & { readonly type: 'published' })
  | (TargetSwap & { readonly type: 'rolled-back' })
  | { readonly type: 'caches-removed'; readonly names: readonly string[] }
  | { readonly type: 'tidy-up-failed'; readonly after: 'publish' | 'rollback'; readonly reason: string }
  /** Docker could not say which containers mount the versions: none is removed */
  | { readonly type: 'prune-skipped'; readonly reason: string }
  | { readonly type: 'pruned'; readonly version: string }
  | { readonly type: 'prune-failed'; readonly version: string; readonly reason: string }
  | { readonly type: 'version-kept'; readonly version: string; readonly why: string }
  /** said by the command, with the report in hand */
  | {
    readonly type: 'finished';
    readonly outcome: NotebookOutcome;
    readonly message: string;
    readonly endedAt: string;
    readonly durationMs: number;
    readonly exitCode: number;
    /** the version the target points to after the run */
    readonly version: string | undefined;
    /** the version --rollback would go back to */
    readonly previous: string | undefined;
    readonly changes: ChangeCounts | undefined;
  };

export type NotebookEventType = NotebookEvent['type'];
