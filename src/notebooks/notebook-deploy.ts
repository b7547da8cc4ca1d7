// The notebook deploy flow: fetch every source -> plan the set -> stage it beside the target ->
// swap the target link -> prune versions nobody can see any more. Every step is an event as it
// happens; the report says what came of it, in a message the caller prints last. Over 300
// lines as one file, as the autodeploy flow is: the steps read in the order they run.
//
// Readers never see a partial set: the set is complete and synced before the link to it is made,
// and the link replaces the old one with a single rename. Nothing is published unless every
// source was fetched and no two sources want the same name. A running JupyterLab server keeps
// the set it started with (Docker bind-mounted what the link pointed to then); old versions are
// removed only once no running container can have them mounted.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { acquireDeployLock, type LockHolder } from '../state/lock.js';
import { redactCredentials } from '../core/remote-url.js';
import { hostKeyPolicy } from '../git/ssh-command.js';
import { fetchSources, removeUnusedCaches, type SourceResult } from './fetch-sources.js';
import { previousVersion, rolledBackFrom, trimJournal, type Journal, type Swap } from './journal.js';
import { legacyVersionId, linkText, newVersionId, notebookLayout, stagingDir, versionDir, type NotebookLayout } from './layout.js';
import { fingerprintOf, PUBLISH_FORMAT, type VersionManifest } from './manifest.js';
import { diffFiles, isEmptyChange, planTree, type Collision, type FileChanges } from './plan.js';
import type { MountingContainer, MountingContainers } from '../core/ports.js';
import { decidePrune } from './prune-plan.js';
import type { NotebookSource } from '../core/notebook-source.js';
import type { NotebookEvent, NotebookOutcome } from '../core/notebook-events.js';
import { formatOwnership, type Ownership } from '../core/ownership.js';
import { stageSet } from './stage.js';
import {
  ensureVersionsDir,
  isDirectoryInTheWay,
  listVersions,
  moveTargetAside,
  pointTargetAt,
  readJournal,
  readManifest,
  readTarget,
  removeLeftovers,
  removeVersion,
  renameStagingToVersion,
  scanFiles,
  targetLinkTime,
  writeJournal,
  writeManifest,
  type TargetState,
} from './version-store.js';

export type { NotebookOutcome } from '../core/notebook-events.js';

export interface NotebookRunInput {
  readonly sources: readonly NotebookSource[];
  readonly target: string;
  readonly owner: Ownership;
  readonly stateDir: string;
  readonly keyRootDir: string | undefined;
  readonly pinnedKnownHosts: string | undefined;
  readonly containers: MountingContainers;
  readonly isLockHolderAlive: (holder: LockHolder) => Promise<boolean>;
  /** each step, as it happens */
  readonly onEvent: (event: NotebookEvent) => void;
  readonly now?: () => Date;
  /** see PruneInput.marginMs; 60 s when absent */
  readonly pruneMarginMs?: number;
  readonly gitTimeoutMs?: number;
  readonly connectTimeoutSeconds?: number;
}

export interface SourceReport {
  readonly label: string;
  readonly commit: string | undefined;
  readonly previous: string | undefined;
  readonly files: number;
  readonly error: string | undefined;
}

/** What a run did, for the CLI to print and turn into an exit code. */
export interface NotebookReport {
  readonly outcome: NotebookOutcome;
  readonly message: string;
  readonly sources: readonly SourceReport[];
  readonly changes: FileChanges | undefined;
  readonly collisions: readonly Collision[];
  /** the version the target points to after the run */
  readonly version: string | undefined;
  /** the version --rollback would go back to after the run */
  readonly previous: string | undefined;
  readonly removedVersions: readonly string[];
  readonly keptVersions: readonly { readonly id: string; readonly why: string }[];
  readonly startedAt: Date;
  readonly endedAt: Date;
}

/** See PruneInput.marginMs: far more than Docker takes between mounting and recording a start. */
export const DEFAULT_PRUNE_MARGIN_MS = 60_000;
/** file names listed per kind of change; the counts are always given */
const LISTED_CHANGES = 200;

interface RunContext {
  readonly input: NotebookRunInput;
  readonly layout: NotebookLayout;
  readonly now: () => Date;
  readonly startedAt: Date;
}

type ReportDetails = Partial<Omit<NotebookReport, 'outcome' | 'message' | 'startedAt' | 'endedAt'>>;

function finish(ctx: RunContext, outcome: NotebookOutcome, message: string, extra: ReportDetails = {}): NotebookReport {
  return {
    outcome,
    message,
    sources: extra.sources ?? [],
    changes: extra.changes,
    collisions: extra.collisions ?? [],
    version: extra.version,
    previous: extra.previous,
    removedVersions: extra.removedVersions ?? [],
    keptVersions: extra.keptVersions ?? [],
    startedAt: ctx.startedAt,
    endedAt: ctx.now(),
  };
}

/** One run at a time over a target and its cache, whoever starts it (the job, or an operator). */
async function withLock(ctx: RunContext, purpose: string, onFailure: string, body: () => Promise<NotebookReport>): Promise<NotebookReport> {
  const lockDir = path.join(ctx.input.stateDir, 'notebooks');
  await mkdir(lockDir, { recursive: true });
  const locked = await acquireDeployLock({ stateDir: lockDir, purpose, isAlive: ctx.input.isLockHolderAlive });
  if (!locked.acquired) {
    const message = `another notebook deploy is running (started ${locked.holder.startedAt} in ${locked.holder.host}, pid ${locked.holder.pid}); not running now`;
    return finish(ctx, 'locked', message);
  }
  try {
    return await body();
  } catch (error) {
    const reason = error instanceof Error ? redactCredentials(error.message) : String(error);
    const message = `${onFailure}: ${reason}`;
    return finish(ctx, 'failed', message);
  } finally {
    await locked.lock.release();
  }
}

function context(input: NotebookRunInput): RunContext {
  const now = input.now ?? (() => new Date());
  return { input, layout: notebookLayout(input.target), now, startedAt: now() };
}

/** Publishes the sources' notebooks, or says why not. With `dryRun`, says what it would do and changes nothing but the git cache. */
export async function runNotebookDeploy(input: NotebookRunInput & { readonly dryRun: boolean }): Promise<NotebookReport> {
  const ctx = context(input);
  return withLock(ctx, input.dryRun ? 'notebooks dry run' : 'notebooks', 'nothing published, the current set stays', () => publish(ctx, input.dryRun));
}

async function publish(ctx: RunContext, dryRun: boolean): Promise<NotebookReport> {
  const { input, layout } = ctx;
  const emit = input.onEvent;
  if (input.sources.length === 0) {
    return finish(ctx, 'failed', 'no notebook sources are configured; nothing published, the current set stays');
  }
  const cacheRoot = path.join(input.stateDir, 'notebooks', 'cache');
  const results = await fetchSources(input.sources, {
    cacheRoot,
    keyRootDir: input.keyRootDir,
    hostKeys: hostKeyPolicy({ pinnedKnownHosts: input.pinnedKnownHosts, stateDir: input.stateDir }),
    timeoutMs: input.gitTimeoutMs,
    connectTimeoutSeconds: input.connectTimeoutSeconds,
  });
  const sources = results.map(sourceReport);
  for (const result of results) emit(fetchEvent(result));

  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    const message = `${failed.length} of ${results.length} source${results.length === 1 ? '' : 's'} could not be fetched; nothing published, the current set stays`;
    return finish(ctx, 'failed', message, { sources });
  }
  const ok = results.filter((r): r is Extract<SourceResult, { ok: true }> => r.ok);
  const plan = planTree(ok.map((r) => ({ number: r.number, dest: r.source.dest, files: r.files })));
  if (!plan.ok) {
    const labels = new Map(ok.map((r) => [r.number, r.label]));
    for (const c of plan.collisions) emit(collisionEvent(c, labels));
    const message = `${plan.collisions.length} name collision${plan.collisions.length === 1 ? '' : 's'} between sources; nothing published, the current set stays: give the sources different destinations or globs`;
    return finish(ctx, 'failed', message, { sources, collisions: plan.collisions });
  }

  let state = await readTarget(layout);
  if (state.kind === 'foreign-link' || state.kind === 'other') {
    const message =
      state.kind === 'foreign-link'
        ? `${layout.target} is a symbolic link to ${state.text}, which this job did not make; nothing published: remove the link, or set AUTODEPLOY_NOTEBOOK_TARGET_DIR to another path`
        : `${layout.target} is neither a directory nor a link; nothing published: remove it, or set AUTODEPLOY_NOTEBOOK_TARGET_DIR to another path`;
    return finish(ctx, 'failed', message, { sources });
  }
  let journal = await readJournal(layout);
  if (!dryRun) ({ state, journal } = await recover(ctx, state, journal));

  const current = state.kind === 'version' ? state.id : undefined;
  const currentManifest = current === undefined ? undefined : await readManifest(layout, current);
  const currentFiles = await filesOf(layout, state, currentManifest);
  const fingerprint = fingerprintOf(plan.contents, formatOwnership(input.owner));
  const changes = diffFiles(currentFiles, plan.contents);
  const previous = previousVersion(journal.swaps, current);
  const common = { sources, changes, version: current, previous };

  if (currentManifest?.fingerprint === fingerprint) {
    const message = `${layout.target} already holds this set (version ${current}); nothing written`;
    return finish(ctx, dryRun ? 'dry-run' : 'unchanged', message, common);
  }
  const heldFrom = rolledBackFrom(journal.swaps, current);
  if (heldFrom !== undefined && (await readManifest(layout, heldFrom))?.fingerprint === fingerprint) {
    const message = `the sources give the set of version ${heldFrom}, which --rollback went back from; it is published again once a source moves`;
    return finish(ctx, dryRun ? 'dry-run' : 'held', message, common);
  }

  emitChanges(emit, changes);
  if (dryRun) {
    const message = `would publish ${plan.files.length} file${plan.files.length === 1 ? '' : 's'} to ${layout.target} (${countChanges(changes)})${state.kind === 'directory' ? `, keeping the directory there as a version for --rollback` : ''}`;
    return finish(ctx, 'dry-run', message, common);
  }

  await ensureVersionsDir(layout);
  const taken = new Set(await listVersions(layout));
  const id = newVersionId(ctx.now(), fingerprint, taken);
  taken.add(id);
  const staging = stagingDir(layout, id);
  emit({ type: 'staging', version: id, files: plan.files.length, dir: staging });
  const cacheBySource = new Map(ok.map((r) => [r.number, r.cacheDir]));
  await stageSet({
    dir: staging,
    files: plan.files,
    cacheOf: (n) => cacheBySource.get(n) ?? '',
    owner: input.owner,
    timeoutMs: input.gitTimeoutMs,
  });
  await writeManifest(layout, {
    format: PUBLISH_FORMAT,
    id,
    fingerprint,
    createdAt: ctx.now().toISOString(),
    owner: formatOwnership(input.owner),
    adopted: false,
    sources: ok.map((r) => ({
      url: redactCredentials(r.source.url),
      ref: r.source.ref ?? null,
      subdir: r.source.subdir,
      glob: r.source.glob,
      dest: r.source.dest,
      commit: r.commit,
    })),
    files: { ...plan.contents },
  });
  await renameStagingToVersion(staging, layout, id);

  let swap: Awaited<ReturnType<typeof swapTo>>;
  try {
    let replaced = current;
    if (state.kind === 'directory') {
      ({ id: replaced, journal } = await adoptDirectory(ctx, taken, currentFiles, journal));
    }
    swap = await swapTo(ctx, id, replaced, 'publish', taken, journal);
  } catch (error) {
    // Never linked, so never seen: the new version goes, unless the link did reach it.
    const now = await readTarget(layout).catch(() => undefined);
    if (now?.kind !== 'version' || now.id !== id) await removeVersion(layout, id).catch(() => undefined);
    throw error;
  }
  journal = { ...journal, swaps: [...journal.swaps, ...swap.swaps] };
  const message = `published version ${id} to ${layout.target}: ${countChanges(changes)}${swap.replaced === undefined ? '' : `; previous version ${swap.replaced} kept for --rollback`}`;
  let pruned: Pick<NotebookReport, 'removedVersions' | 'keptVersions'> = { removedVersions: [], keptVersions: [] };
  try {
    // Recorded before pruning; a journal that misses the swap is repaired by the next run.
    await writeJournal(layout, journal);
    pruned = await prune(ctx, id, swap.replaced, journal);
    const unusedCaches = await removeUnusedCaches(cacheRoot, input.sources);
    if (unusedCaches.length > 0) emit({ type: 'caches-removed', names: unusedCaches });
  } catch (error) {
    emit({ type: 'tidy-up-failed', after: 'publish', reason: error instanceof Error ? error.message : String(error) });
  }
  return finish(ctx, 'published', message, { ...common, version: id, previous: swap.replaced, ...pruned });
}

/**
 * Repairs what a run stopped half-way leaves: a target that was moved aside but not yet replaced
 * by the link is pointed back at the last version the journal names; a link the journal does
 * not know of is recorded, at the time the link was made.
 */
async function recover(ctx: RunContext, found: TargetState, journal: Journal): Promise<{ state: TargetState; journal: Journal }> {
  const { layout, input } = ctx;
  const present = new Set(await listVersions(layout));
  const last = journal.swaps.at(-1);
  let state = found;
  let next = journal;
  if (state.kind === 'missing' && last !== undefined && present.has(last.to)) {
    await pointTargetAt(layout, last.to);
    input.onEvent({ type: 'restored', target: layout.target, version: last.to });
    state = { kind: 'version', id: last.to };
  } else if (state.kind === 'version' && last?.to !== state.id) {
    const at = (await targetLinkTime(layout)) ?? ctx.now();
    const swap: Swap = { at: at.toISOString(), from: last?.to ?? null, to: state.id, why: 'recovered' };
    next = { ...journal, swaps: [...journal.swaps, swap] };
    await ensureVersionsDir(layout);
    await writeJournal(layout, next);
    input.onEvent({ type: 'journal-repaired', version: state.id, at: swap.at });
  }
  const leftovers = await removeLeftovers(layout, present);
  if (leftovers.length > 0) input.onEvent({ type: 'leftovers-removed', names: leftovers });
  return { state, journal: next };
}

async function filesOf(layout: NotebookLayout, state: TargetState, manifest: VersionManifest | undefined): Promise<Record<string, string>> {
  if (manifest !== undefined) return manifest.files;
  if (state.kind === 'directory') return scanFiles(layout.target);
  if (state.kind === 'version') return scanFiles(versionDir(layout, state.id));
  return {};
}

/**
 * The directory found at the target (the reference script's, rewritten in place by it) becomes a
 * version: recorded first, then moved by one rename into the versions directory, where it stays
 * as it is for --rollback. A server that mounted it keeps seeing it, since the same directory moved.
 * Between this rename and the one that puts the link in its place the path is absent, once, for
 * the time of two system calls: exchanging a directory and a link in one step takes
 * renameat2(RENAME_EXCHANGE), which Node does not offer. swapTo handles a server starting just then.
 */
async function adoptDirectory(ctx: RunContext, taken: Set<string>, files: Readonly<Record<string, string>>, journal: Journal): Promise<{ id: string; journal: Journal }> {
  const { layout, input } = ctx;
  const id = legacyVersionId(ctx.now(), taken);
  taken.add(id);
  await writeManifest(layout, {
    format: PUBLISH_FORMAT,
    id,
    // Not comparable with a published set: its owner and modes are whatever they were.
    fingerprint: `adopted-${fingerprintOf(files, 'adopted')}`,
    createdAt: ctx.now().toISOString(),
    owner: 'unknown',
    adopted: true,
    sources: [],
    files: { ...files },
  });
  const next: Journal = { ...journal, swaps: [...journal.swaps, { at: ctx.now().toISOString(), from: null, to: id, why: 'adopt' }] };
  await writeJournal(layout, next);
  await moveTargetAside(layout, id);
  input.onEvent({ type: 'directory-adopted', target: layout.target, version: id });
  return { id, journal: next };
}

/**
 * Points the target at `id`. Between moving a directory aside and making the link, the path is
 * briefly absent, and Docker creates a missing bind-mount source as an empty directory: should
 * a server start just then, its directory is moved aside too (and kept) and the swap tried again.
 */
async function swapTo(
  ctx: RunContext,
  id: string,
  replaced: string | undefined,
  why: Swap['why'],
  taken: Set<string>,
  journal: Journal,
): Promise<{ swaps: Swap[]; replaced: string | undefined }> {
  const { layout } = ctx;
  let from = replaced;
  const adopted: Swap[] = [];
  for (let attempt = 1; ; attempt += 1) {
    // Taken before the rename: a server that starts after it gets this version.
    const at = ctx.now().toISOString();
    try {
      await pointTargetAt(layout, id);
      ctx.input.onEvent({ type: why === 'rollback' ? 'rolled-back' : 'published', target: layout.target, link: linkText(layout, id), version: id, replaced: from });
      return { swaps: [...adopted, { at, from: from ?? null, to: id, why }], replaced: from };
    } catch (error) {
      if (attempt >= 3 || !isDirectoryInTheWay(error)) throw error;
      const aside = legacyVersionId(ctx.now(), taken);
      taken.add(aside);
      await moveTargetAside(layout, aside);
      const swap: Swap = { at: ctx.now().toISOString(), from: from ?? null, to: aside, why: 'adopt' };
      adopted.push(swap);
      await writeJournal(layout, { ...journal, swaps: [...journal.swaps, ...adopted] });
      ctx.input.onEvent({ type: 'directory-in-the-way', target: layout.target, version: aside });
      from = aside;
    }
  }
}

async function prune(ctx: RunContext, current: string, previous: string | undefined, journal: Journal): Promise<Pick<NotebookReport, 'removedVersions' | 'keptVersions'>> {
  const { layout, input } = ctx;
  const versions = await listVersions(layout);
  let containers: readonly MountingContainer[] | undefined;
  try {
    containers = await input.containers([layout.target, layout.versionsDir]);
  } catch (error) {
    input.onEvent({ type: 'prune-skipped', reason: error instanceof Error ? error.message : String(error) });
  }
  const decision = decidePrune({
    target: layout.target,
    versionsDir: layout.versionsDir,
    versions,
    current,
    previous,
    swaps: journal.swaps,
    containers,
    marginMs: input.pruneMarginMs ?? DEFAULT_PRUNE_MARGIN_MS,
  });
  const removed: string[] = [];
  for (const id of decision.remove) {
    try {
      await removeVersion(layout, id);
      removed.push(id);
      input.onEvent({ type: 'pruned', version: id });
    } catch (error) {
      input.onEvent({ type: 'prune-failed', version: id, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  for (const k of decision.keep) if (k.id !== current && k.id !== previous) input.onEvent({ type: 'version-kept', version: k.id, why: k.why });
  const present = new Set(versions.filter((v) => !removed.includes(v)));
  if (removed.length > 0) await writeJournal(layout, trimJournal(journal, present));
  return { removedVersions: removed, keptVersions: decision.keep };
}

/** Points the target back at the previous version. The set left is not published again by a scheduled run until a source moves. */
export async function rollbackNotebooks(input: NotebookRunInput): Promise<NotebookReport> {
  const ctx = context(input);
  return withLock(ctx, 'notebooks rollback', 'nothing rolled back', async () => {
    const { layout } = ctx;
    const state = await readTarget(layout);
    if (state.kind !== 'version') {
      const message = `${layout.target} holds no set published by this job (${state.kind === 'missing' ? 'it does not exist' : `it is ${state.kind === 'directory' ? 'a plain directory' : 'not a link to a version'}`}); nothing to roll back`;
      return finish(ctx, 'failed', message);
    }
    let journal = await readJournal(layout);
    ({ journal } = await recover(ctx, state, journal));
    const previous = previousVersion(journal.swaps, state.id);
    const present = new Set(await listVersions(layout));
    if (previous === undefined || !present.has(previous)) {
      const message = previous === undefined
        ? `version ${state.id} is the only set known; nothing to roll back to`
        : `the previous version ${previous} is no longer in ${layout.versionsDir}; nothing rolled back`;
      return finish(ctx, 'failed', message, { version: state.id });
    }
    const before = (await readManifest(layout, state.id))?.files ?? {};
    const after = (await readManifest(layout, previous))?.files ?? (await scanFiles(versionDir(layout, previous)));
    const changes = diffFiles(before, after);
    emitChanges(input.onEvent, changes);
    const swap = await swapTo(ctx, previous, state.id, 'rollback', new Set(present), journal);
    journal = { ...journal, swaps: [...journal.swaps, ...swap.swaps] };
    const message = `rolled back ${layout.target} from version ${state.id} to version ${previous} (${countChanges(changes)}); a scheduled run publishes the set of ${state.id} again only once a source moves`;
    let pruned: Pick<NotebookReport, 'removedVersions' | 'keptVersions'> = { removedVersions: [], keptVersions: [] };
    try {
      await writeJournal(layout, journal);
      pruned = await prune(ctx, previous, state.id, journal);
    } catch (error) {
      input.onEvent({ type: 'tidy-up-failed', after: 'rollback', reason: error instanceof Error ? error.message : String(error) });
    }
    return finish(ctx, 'rolled-back', message, { changes, version: previous, previous: state.id, ...pruned });
  });
}

function sourceReport(result: SourceResult): SourceReport {
  return result.ok
    ? { label: result.label, commit: result.commit, previous: result.previous, files: result.files.length, error: undefined }
    : { label: result.label, commit: undefined, previous: undefined, files: 0, error: result.reason };
}

function fetchEvent(result: SourceResult): NotebookEvent {
  const { number, label } = result;
  if (!result.ok) return { type: 'source-failed', number, label, reason: result.reason };
  const { source, commit, previous, files, key, skipped } = result;
  return { type: 'source-fetched', number, label, commit, previous, files: files.length, glob: source.glob, dest: source.dest, key, skipped };
}

function collisionEvent(c: Collision, labels: ReadonlyMap<number, string>): NotebookEvent {
  const firstLabel = labels.get(c.first) ?? `source ${c.first}`;
  const secondLabel = labels.get(c.second) ?? `source ${c.second}`;
  return { type: 'collision', path: c.path, kind: c.kind, first: c.first, firstLabel, second: c.second, secondLabel };
}

function countChanges(changes: FileChanges): string {
  return isEmptyChange(changes)
    ? 'no file changed'
    : `${changes.added.length} added, ${changes.changed.length} changed, ${changes.removed.length} removed`;
}

function emitChanges(emit: (event: NotebookEvent) => void, changes: FileChanges): void {
  for (const [change, files] of [['added', changes.added], ['changed', changes.changed], ['removed', changes.removed]] as const) {
    for (const file of files.slice(0, LISTED_CHANGES)) emit({ type: 'file-changed', change, path: file });
    if (files.length > LISTED_CHANGES) emit({ type: 'more-changes', change, count: files.length - LISTED_CHANGES });
  }
}
