import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerMountingContainers } from '../../src/docker/mounting-containers.js';
import { lockHolderAlive } from '../../src/cli/deploy-setup.js';
import { connectDocker } from '../../src/docker/job-containers.js';
import { rollbackNotebooks, runNotebookDeploy, type NotebookReport, type NotebookRunInput } from '../../src/notebooks/notebook-deploy.js';
import type { NotebookSource } from '../../src/core/notebook-source.js';
import { notebookEventText } from '../../src/core/notebook-event-text.js';
import { cloneCheckout, commitFiles, createBareUpstream, git, makeTempDir, removeTempDir } from '../fixtures/git-repos.js';
import { parseEventLine } from '../../src/core/event-line.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULTS_FILE } from '../helpers/scheduler-env.js';
import { parseOwnership } from '../../src/core/ownership.js';

// The notebook deploy flow against real git repositories and a real file system: what a reader
// of the target sees after each kind of run, and what the run says about it.

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await makeTempDir('notebook-publish');
});

afterAll(async () => {
  await removeTempDir(dir);
});

interface Scene {
  readonly root: string;
  readonly target: string;
  readonly stateDir: string;
  readonly upstreams: string;
  readonly lines: string[];
  run(sources: readonly NotebookSource[], options?: { dryRun?: boolean; owner?: string }): Promise<NotebookReport>;
  rollback(sources: readonly NotebookSource[]): Promise<NotebookReport>;
}

/** A fresh user-data directory, state directory and place for upstreams. */
async function scene(): Promise<Scene> {
  counter += 1;
  const root = path.join(dir, `scene${counter}`);
  const lines: string[] = [];
  const target = path.join(root, 'jupyterhub_user_data', 'tutorial-notebooks');
  const stateDir = path.join(root, 'state');
  const input = (sources: readonly NotebookSource[], owner = '1234:2345'): NotebookRunInput => ({
    sources,
    target,
    owner: parseOwnership(owner),
    stateDir,
    keyRootDir: undefined,
    pinnedKnownHosts: undefined,
    containers: dockerMountingContainers(connectDocker()),
    isLockHolderAlive: lockHolderAlive(process.env),
    onEvent: (event) => lines.push(notebookEventText(event)),
    gitTimeoutMs: 30_000,
  });
  return {
    root,
    target,
    stateDir,
    upstreams: path.join(root, 'upstreams'),
    lines,
    run: (sources, options = {}) => runNotebookDeploy({ ...input(sources, options.owner), dryRun: options.dryRun ?? false }),
    rollback: (sources) => rollbackNotebooks(input(sources)),
  };
}

function source(url: string, fields: Partial<Omit<NotebookSource, 'url'>> = {}): NotebookSource {
  return { url, ref: 'main', subdir: '', glob: '*.ipynb', dest: '', line: undefined, ...fields };
}

/** Commits to the bare repository's main branch: files written, paths removed. Returns the commit. */
async function change(bare: string, edit: { write?: Record<string, string>; remove?: string[] }, message: string): Promise<string> {
  const scratch = await makeTempDir('notebook-change');
  try {
    const work = await cloneCheckout(bare, path.join(scratch, 'work'));
    if (edit.remove !== undefined && edit.remove.length > 0) await git(work, 'rm', '--quiet', '--', ...edit.remove);
    const commit = await commitFiles(work, edit.write ?? {}, message);
    await git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    return commit;
  } finally {
    await removeTempDir(scratch);
  }
}

/** What a reader finds under the target: path → content, following the link. */
async function published(target: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(target, relative), { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else files[child] = await readFile(path.join(target, child), 'utf8');
    }
  };
  await walk('');
  return files;
}

/** Every entry under `root` with its inode, mode, size and times: equal snapshots mean nothing was written. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      const s = await lstat(full);
      out[path.relative(root, full)] = `${s.ino} ${s.mode.toString(8)} ${s.size} ${s.mtimeMs} ${s.ctimeMs}`;
      if (entry.isDirectory()) await walk(full);
    }
  };
  await walk(root);
  return out;
}

async function linkedVersion(target: string): Promise<string> {
  return path.basename(await readlink(target));
}

const nb = (text: string): string => `${JSON.stringify({ cells: [{ source: text }] })}\n`;

describe('publishing notebooks from git', () => {
  it('publishes a first set read-only, owned as configured, and behind a link to a version', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'tutorials', {
      'docs/nb/01-intro.ipynb': nb('intro'),
      'docs/nb/02-data.ipynb': nb('data'),
      'docs/nb/sub/03-deep.ipynb': nb('deep'),
      'docs/nb/README.md': '# tutorials\n',
      'setup.py': '',
    });
    const head = (await git(bare, 'rev-parse', 'main')).trim();
    const report = await s.run([source(bare, { subdir: 'docs/nb' })]);

    expect(report.outcome, report.message).toBe('published');
    expect(report.changes).toEqual({ added: ['01-intro.ipynb', '02-data.ipynb'], changed: [], removed: [] });
    expect(await published(s.target)).toEqual({ '01-intro.ipynb': nb('intro'), '02-data.ipynb': nb('data') });
    expect(await readlink(s.target)).toBe(`.tutorial-notebooks.d/${report.version}`);

    const versionDir = path.join(path.dirname(s.target), '.tutorial-notebooks.d', report.version ?? '');
    for (const [entry, mode] of [['', 0o555], ['01-intro.ipynb', 0o444], ['02-data.ipynb', 0o444]] as const) {
      const st = await lstat(path.join(versionDir, entry));
      expect({ entry, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }).toEqual({ entry, mode, uid: 1234, gid: 2345 });
    }
    // The log names the source and the commit it published.
    expect(s.lines.find((l) => l.startsWith('source 1 ('))).toContain(`commit ${head} (first fetch), 2 files matching *.ipynb`);
    expect(s.lines).toContain(`swapped ${s.target} -> .tutorial-notebooks.d/${report.version}`);
    expect(report.message).toBe(`published version ${report.version} to ${s.target}: 2 added, 0 changed, 0 removed`);
  });

  it('follows a tag, and the remote\'s default branch when no ref is given', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'tagged', { 'a.ipynb': nb('v1') });
    await git(bare, 'tag', '-a', '-m', 'Release 1', 'v1', 'main');
    await change(bare, { write: { 'a.ipynb': nb('v2') } }, 'After the release');
    const report = await s.run([source(bare, { ref: 'v1', dest: 'release' }), source(bare, { ref: undefined, dest: 'latest' })]);
    expect(report.outcome, report.message).toBe('published');
    expect(await published(s.target)).toEqual({ 'release/a.ipynb': nb('v1'), 'latest/a.ipynb': nb('v2') });
    expect(s.lines.find((l) => l.startsWith('source 2 ('))).toContain('(default branch)');
  });

  it('selects with a glob of many wildcards over long and deep names, within the test\'s time', async () => {
    // A backtracking matcher takes minutes on `*a*a…*b` against a long name of `a`s.
    const s = await scene();
    const long = 'a'.repeat(240);
    const deep = Array.from({ length: 30 }, () => 'a').join('/');
    const bare = await createBareUpstream(s.upstreams, 'hostile', {
      [`${long}.ipynb`]: nb('long'),
      [`${deep}/${long}`]: nb('deep'),
      [`${deep}/${'a'.repeat(30)}b.ipynb`]: nb('matched'),
    });
    const glob = `**/${'*a'.repeat(30)}*b.ipynb`;
    const report = await s.run([source(bare, { glob })]);
    expect(report.outcome, s.lines.join('\n')).toBe('published');
    expect(await published(s.target)).toEqual({ [`${deep}/${'a'.repeat(30)}b.ipynb`]: nb('matched') });
  });

  it('changes nothing, not even a time stamp, when the sources have not moved', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'stable', { 'a.ipynb': nb('a') });
    expect((await s.run([source(bare)])).outcome).toBe('published');
    const before = await snapshot(path.dirname(s.target));

    const again = await s.run([source(bare)]);
    expect(again.outcome).toBe('unchanged');
    expect(again.message).toContain('already holds this set');
    expect(s.lines.filter((l) => l.includes('(not moved)'))).toHaveLength(1);
    expect(await snapshot(path.dirname(s.target))).toEqual(before);

    // A commit that leaves the matched files as they were publishes nothing either.
    await change(bare, { write: { 'README.md': 'docs\n' } }, 'Docs only');
    const moved = await s.run([source(bare)]);
    expect(moved.outcome).toBe('unchanged');
    expect(s.lines.some((l) => /\(moved from [0-9a-f]{12}\)/.test(l))).toBe(true);
    expect(await snapshot(path.dirname(s.target))).toEqual(before);
  });

  it('publishes a changed notebook and a removed one as a new version, keeping the one before for --rollback', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'evolving', { 'a.ipynb': nb('a1'), 'b.ipynb': nb('b1'), 'c.ipynb': nb('c1') });
    const first = await s.run([source(bare)]);

    await change(bare, { write: { 'a.ipynb': nb('a2') } }, 'Improve a');
    const changed = await s.run([source(bare)]);
    expect(changed.outcome).toBe('published');
    expect(changed.changes).toEqual({ added: [], changed: ['a.ipynb'], removed: [] });
    expect(changed.previous).toBe(first.version);
    expect(await published(s.target)).toEqual({ 'a.ipynb': nb('a2'), 'b.ipynb': nb('b1'), 'c.ipynb': nb('c1') });
    expect(s.lines).toContain('  changed: a.ipynb');

    await change(bare, { remove: ['b.ipynb'], write: { 'd.ipynb': nb('d1') } }, 'Replace b by d');
    const removed = await s.run([source(bare)]);
    expect(removed.changes).toEqual({ added: ['d.ipynb'], changed: [], removed: ['b.ipynb'] });
    expect(await published(s.target)).toEqual({ 'a.ipynb': nb('a2'), 'c.ipynb': nb('c1'), 'd.ipynb': nb('d1') });
    expect(s.lines).toContain('  removed: b.ipynb');
    // The first version is neither current nor previous, and no container mounts it.
    expect(removed.removedVersions).toEqual([first.version]);
    expect((await readdir(path.join(path.dirname(s.target), '.tutorial-notebooks.d'))).sort()).toEqual(
      [changed.version, `${changed.version}.json`, removed.version, `${removed.version}.json`, 'journal.json'].sort(),
    );
  });

  it('publishes nothing when one source fails, says which and why, and keeps the current set', async () => {
    const s = await scene();
    const good = await createBareUpstream(s.upstreams, 'good', { 'a.ipynb': nb('a') });
    const other = await createBareUpstream(s.upstreams, 'other', { 'x/b.ipynb': nb('b') });
    const first = await s.run([source(good)]);
    await change(good, { write: { 'a.ipynb': nb('a2') } }, 'Change a');
    const before = await snapshot(path.dirname(s.target));

    const cases: Array<[NotebookSource, RegExp]> = [
      [source(other, { ref: 'no-such-branch', subdir: 'x' }), /source 2 \(.*other\.git no-such-branch x\/\): the remote has no branch, tag or commit "no-such-branch"/],
      [source(path.join(s.upstreams, 'missing.git')), /source 2 \(.*missing\.git main\): fetching main from .*missing\.git: the repository was not found/],
      [source(other, { subdir: 'nowhere' }), /source 2 .*: the sub-directory "nowhere" does not exist at commit [0-9a-f]{12}/],
      [source(other, { subdir: 'x', glob: '*.py' }), /source 2 .*: no file matches "\*\.py" in "x" at commit [0-9a-f]{12}; check the sub-directory and the glob/],
    ];
    for (const [bad, why] of cases) {
      s.lines.length = 0;
      const report = await s.run([source(good), bad]);
      expect(report.outcome).toBe('failed');
      expect(report.message).toBe('1 of 2 sources could not be fetched; nothing published, the current set stays');
      expect(s.lines.filter((l) => l.startsWith('failed: ')).join('\n')).toMatch(why);
      expect(report.sources[1]?.error).toMatch(why);
      expect(await snapshot(path.dirname(s.target))).toEqual(before);
      expect(await published(s.target)).toEqual({ 'a.ipynb': nb('a') });
      expect(await linkedVersion(s.target)).toBe(first.version);
    }
    // The good source's move is published once the other one is fixed.
    const fixed = await s.run([source(good), source(other, { subdir: 'x', dest: 'more' })]);
    expect(fixed.outcome).toBe('published');
    expect(await published(s.target)).toEqual({ 'a.ipynb': nb('a2'), 'more/b.ipynb': nb('b') });
  });

  it('publishes nothing when two sources want the same name, and names both', async () => {
    const s = await scene();
    const one = await createBareUpstream(s.upstreams, 'one', { 'intro.ipynb': nb('one') });
    const two = await createBareUpstream(s.upstreams, 'two', { 'intro.ipynb': nb('two'), 'more.ipynb': nb('more') });
    const first = await s.run([source(one)]);
    const before = await snapshot(path.dirname(s.target));

    const report = await s.run([source(one), source(two)]);
    expect(report.outcome).toBe('failed');
    expect(report.collisions).toEqual([{ path: 'intro.ipynb', first: 1, second: 2, kind: 'same-path' }]);
    expect(s.lines).toContain(`collision: intro.ipynb is published by both source 1 (${one} main) and source 2 (${two} main)`);
    expect(report.message).toMatch(/^1 name collision between sources; nothing published, the current set stays/);
    expect(await snapshot(path.dirname(s.target))).toEqual(before);
    expect(await linkedVersion(s.target)).toBe(first.version);

    // A destination of its own resolves it.
    const apart = await s.run([source(one), source(two, { dest: 'two' })]);
    expect(apart.outcome).toBe('published');
    expect(Object.keys(await published(s.target)).sort()).toEqual(['intro.ipynb', 'two/intro.ipynb', 'two/more.ipynb']);

    // A source taken out of the list takes its notebooks and its git cache with it.
    const cacheRoot = path.join(s.stateDir, 'notebooks', 'cache');
    expect((await readdir(cacheRoot)).map((name) => name.replace(/-[0-9a-f]{16}\.git$/, '')).sort()).toEqual(['one', 'two']);
    const alone = await s.run([source(one)]);
    expect(alone.changes).toEqual({ added: [], changed: [], removed: ['two/intro.ipynb', 'two/more.ipynb'] });
    expect((await readdir(cacheRoot)).map((name) => name.replace(/-[0-9a-f]{16}\.git$/, ''))).toEqual(['one']);
    expect(s.lines.some((l) => /^removed the git caches of sources no longer listed: two-[0-9a-f]{16}\.git$/.test(l))).toBe(true);
  });

  it('rolls back one step, holds the set it left until a source moves, and can go forward again', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'roll', { 'a.ipynb': nb('good') });
    const good = await s.run([source(bare)]);
    await change(bare, { write: { 'a.ipynb': nb('bad') } }, 'Break a');
    const bad = await s.run([source(bare)]);
    expect(await published(s.target)).toEqual({ 'a.ipynb': nb('bad') });

    const back = await s.rollback([source(bare)]);
    expect(back.outcome).toBe('rolled-back');
    expect(back.changes).toEqual({ added: [], changed: ['a.ipynb'], removed: [] });
    expect(await published(s.target)).toEqual({ 'a.ipynb': nb('good') });
    expect(await linkedVersion(s.target)).toBe(good.version);
    expect(back.previous).toBe(bad.version);

    // The scheduled run sees the same bad commit and leaves the rollback in place.
    const held = await s.run([source(bare)]);
    expect(held.outcome).toBe('held');
    expect(held.message).toBe(`the sources give the set of version ${bad.version}, which --rollback went back from; it is published again once a source moves`);
    expect(await linkedVersion(s.target)).toBe(good.version);

    // A fix moves the source: published, and the held version goes.
    await change(bare, { write: { 'a.ipynb': nb('fixed') } }, 'Fix a');
    const fixed = await s.run([source(bare)]);
    expect(fixed.outcome).toBe('published');
    expect(await published(s.target)).toEqual({ 'a.ipynb': nb('fixed') });
    expect(fixed.previous).toBe(good.version);
    expect(fixed.removedVersions).toEqual([bad.version]);

    // Rolling back twice goes back and forth; with nothing before the first set there is nothing to do.
    expect((await s.rollback([source(bare)])).version).toBe(good.version);
    expect((await s.rollback([source(bare)])).version).toBe(fixed.version);
    const lone = await scene();
    const loneBare = await createBareUpstream(lone.upstreams, 'lone', { 'a.ipynb': nb('a') });
    const only = await lone.run([source(loneBare)]);
    const nothing = await lone.rollback([source(loneBare)]);
    expect(nothing.outcome).toBe('failed');
    expect(nothing.message).toBe(`version ${only.version} is the only set known; nothing to roll back to`);
  });

  it('keeps a directory found at the target (the reference script\'s) as the version to roll back to', async () => {
    const s = await scene();
    await mkdir(path.join(s.target, 'old-sub'), { recursive: true });
    await writeFile(path.join(s.target, 'old.ipynb'), nb('old'));
    await writeFile(path.join(s.target, 'old-sub', 'x.ipynb'), nb('x'));
    await writeFile(path.join(s.target, 'same.ipynb'), nb('same'));
    const bare = await createBareUpstream(s.upstreams, 'new', { 'same.ipynb': nb('same'), 'new.ipynb': nb('new') });

    const dry = await s.run([source(bare)], { dryRun: true });
    expect(dry.outcome).toBe('dry-run');
    expect(dry.changes).toEqual({ added: ['new.ipynb'], changed: [], removed: ['old-sub/x.ipynb', 'old.ipynb'] });
    expect((await lstat(s.target)).isDirectory()).toBe(true);

    const report = await s.run([source(bare)]);
    expect(report.outcome).toBe('published');
    expect(report.previous).toMatch(/^legacy-\d{8}-\d{6}$/);
    expect(s.lines).toContain(`moved the existing directory ${s.target} to version ${report.previous}, kept as it is for --rollback`);
    expect(await published(s.target)).toEqual({ 'same.ipynb': nb('same'), 'new.ipynb': nb('new') });

    const back = await s.rollback([source(bare)]);
    expect(back.version).toBe(report.previous);
    expect(await published(s.target)).toEqual({ 'old.ipynb': nb('old'), 'old-sub/x.ipynb': nb('x'), 'same.ipynb': nb('same') });
  });

  it('says in a dry run what would change, and writes nothing to the target', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'dry', { 'a.ipynb': nb('a'), 'b.ipynb': nb('b') });
    const dryFirst = await s.run([source(bare)], { dryRun: true });
    expect(dryFirst.outcome).toBe('dry-run');
    expect(dryFirst.message).toBe(`would publish 2 files to ${s.target} (2 added, 0 changed, 0 removed)`);
    await expect(lstat(path.dirname(s.target))).rejects.toThrow(/ENOENT/);

    await s.run([source(bare)]);
    await change(bare, { write: { 'b.ipynb': nb('b2') } }, 'Change b');
    const before = await snapshot(path.dirname(s.target));
    const dry = await s.run([source(bare)], { dryRun: true });
    expect(dry.changes).toEqual({ added: [], changed: ['b.ipynb'], removed: [] });
    expect(s.lines).toContain('  changed: b.ipynb');
    expect(await snapshot(path.dirname(s.target))).toEqual(before);
  });

  it('repairs what a run stopped half-way leaves: a half-written set, a temporary link, a missing link, a journal that missed a swap', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'stopped', { 'a.ipynb': nb('a') });
    const v1 = await s.run([source(bare)]);
    const parent = path.dirname(s.target);
    const versions = path.join(parent, '.tutorial-notebooks.d');
    const staging = path.join(versions, '.staging-20240101-000000-deadbeef');
    await mkdir(staging);
    await writeFile(path.join(staging, 'a.ipynb'), 'half');
    await chmod(path.join(staging, 'a.ipynb'), 0o444);
    await chmod(staging, 0o555);
    await symlink(`.tutorial-notebooks.d/${v1.version}`, path.join(parent, '.tutorial-notebooks.swap-20240101-000000-deadbeef'));
    await rm(s.target);

    const repaired = await s.run([source(bare)]);
    expect(repaired.outcome).toBe('unchanged');
    expect(s.lines).toContain(`restored ${s.target} -> version ${v1.version}: an earlier run had stopped before making the link`);
    const removedLine = s.lines.find((l) => l.startsWith('removed what an earlier run left unfinished: ')) ?? '';
    expect(removedLine.split(': ')[1]?.split(', ').sort()).toEqual(['.staging-20240101-000000-deadbeef', '.tutorial-notebooks.swap-20240101-000000-deadbeef']);
    expect((await readdir(versions)).sort()).toEqual([v1.version, `${v1.version}.json`, 'journal.json'].sort());
    expect((await readdir(parent)).sort()).toEqual(['.tutorial-notebooks.d', 'tutorial-notebooks']);
    expect(await published(s.target)).toEqual({ 'a.ipynb': nb('a') });

    await rm(path.join(versions, 'journal.json'));
    const linkMade = (await lstat(s.target)).mtime.toISOString();
    expect((await s.run([source(bare)])).outcome).toBe('unchanged');
    expect(s.lines).toContain(`recorded the link to version ${v1.version}, made at ${linkMade}, which the journal had missed`);
    const journal = JSON.parse(await readFile(path.join(versions, 'journal.json'), 'utf8')) as { swaps: unknown[] };
    expect(journal.swaps).toEqual([{ at: linkMade, from: null, to: v1.version, why: 'recovered' }]);
  });

  it('runs one at a time, and refuses to replace a target it did not make', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'guarded', { 'a.ipynb': nb('a') });
    const outcomes = await Promise.all([s.run([source(bare)]), s.run([source(bare)])]);
    expect(outcomes.map((r) => r.outcome).sort()).toEqual(['locked', 'published']);
    expect(outcomes.find((r) => r.outcome === 'locked')?.message).toMatch(/^another notebook deploy is running \(started .* pid \d+\); not running now$/);

    const elsewhere = path.join(s.root, 'elsewhere');
    await mkdir(elsewhere);
    await rm(s.target);
    await symlink(elsewhere, s.target);
    const foreign = await s.run([source(bare)]);
    expect(foreign.outcome).toBe('failed');
    expect(foreign.message).toBe(`${s.target} is a symbolic link to ${elsewhere}, which this job did not make; nothing published: remove the link, or set AUTODEPLOY_NOTEBOOK_TARGET_DIR to another path`);
    expect(await readlink(s.target)).toBe(elsewhere);

    // A parent that is a file: the run fails whole, with the step and the path.
    const blocked = await scene();
    await mkdir(blocked.root, { recursive: true });
    await writeFile(path.dirname(blocked.target), 'a file where the user data directory should be');
    const report = await blocked.run([source(bare)]);
    expect(report.outcome).toBe('failed');
    expect(report.message).toMatch(/^nothing published, the current set stays: .* failed on .*jupyterhub_user_data.* \(ENOTDIR\)/);
  });

  it('republishes when only the owner changes', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'owned', { 'a.ipynb': nb('a') });
    await s.run([source(bare)], { owner: '0:0' });
    const report = await s.run([source(bare)], { owner: '1000:100' });
    expect(report.outcome).toBe('published');
    expect(report.changes).toEqual({ added: [], changed: [], removed: [] });
    expect((await lstat(path.join(s.target, 'a.ipynb'))).uid).toBe(1000);
  });
});

describe('autodeploy notebooks', () => {
  const cli = (argv: string[]): ReturnType<typeof runCli> =>
    runCli(argv, { PATH: process.env.PATH, HOME: process.env.HOME, AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE });

  it('publishes what env.local lists, prints each step with secrets masked, and exits 0, 1 or 2', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'cli', { 'nb/a.ipynb': nb('a') });
    const envFile = path.join(s.root, 'env.local');
    const env = (sources: string): Promise<void> =>
      writeFile(
        envFile,
        [
          `AUTODEPLOY_STATE_DIR=${s.stateDir}`,
          `AUTODEPLOY_LOG_DIR=${path.join(s.root, 'log')}`,
          `JUPYTERHUB_USER_DATA_DIR=${path.dirname(s.target)}`,
          'AUTODEPLOY_NOTEBOOK_OWNER=4321:4321',
          'NOTEBOOK_TOKEN=hush-hush-value',
          'AUTODEPLOY_NOTEBOOK_SOURCES="',
          sources,
          '"',
          '',
        ].join('\n'),
      );
    await env(`${bare} main nb`);

    const dry = await cli(['notebooks', '--env-file', envFile, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^notebooks dry run started at .*: 1 source, target .*tutorial-notebooks, owner 4321:4321$/m);
    expect(dry.stdout).toContain('  added: a.ipynb');
    expect(dry.stdout).toMatch(/notebooks finished at .* \(\d+\.\ds\): dry-run: would publish 1 file/);

    const run = await cli(['notebooks', '--env-file', envFile]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/source 1 \(line 7: .*cli\.git main nb\/\): commit [0-9a-f]{40} \(not moved\), 1 file matching \*\.ipynb/);
    expect(run.stdout).toMatch(/: published: published version \S+ to /);
    expect((await lstat(path.join(s.target, 'a.ipynb'))).uid).toBe(4321);

    await env(`https://hush-hush-value@127.0.0.1:9/nothing.git main nb`);
    const failed = await cli(['notebooks', '--env-file', envFile]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('failed: source 1');
    expect(failed.stdout).not.toContain('hush-hush-value');
    expect(failed.stdout).toMatch(/: failed: 1 of 1 source could not be fetched; nothing published, the current set stays$/m);

    const both = await cli(['notebooks', '--env-file', envFile, '--dry-run', '--rollback']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--dry-run and --rollback do not go together');

    await env('not a url at all');
    const invalid = await cli(['notebooks', '--env-file', envFile]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(`${envFile}:7: AUTODEPLOY_NOTEBOOK_SOURCES: the line "not a url at all"`);
  });

  it('writes each step as an event line when it runs as the notebookdeploy job, secrets masked', async () => {
    const s = await scene();
    const bare = await createBareUpstream(s.upstreams, 'job', { 'a.ipynb': nb('a'), 'b.ipynb': nb('b') });
    const envFile = path.join(s.root, 'env.local');
    const sources = (line: string): Promise<void> =>
      writeFile(
        envFile,
        [`AUTODEPLOY_STATE_DIR=${s.stateDir}`, `JUPYTERHUB_USER_DATA_DIR=${path.dirname(s.target)}`, 'NOTEBOOK_TOKEN=hush-hush-value', `AUTODEPLOY_NOTEBOOK_SOURCES="${line}"`, ''].join('\n'),
      );
    const asJob = (argv: string[]): ReturnType<typeof runCli> =>
      runCli(argv, { PATH: process.env.PATH, HOME: process.env.HOME, AUTODEPLOY_DEFAULTS_FILE: DEFAULTS_FILE, AUTODEPLOY_JOB: 'notebookdeploy', AUTODEPLOY_RUN: 'r1' });

    await sources(`${bare} main`);
    const published = await asJob(['notebooks', '--env-file', envFile]);
    expect(published.code, published.stderr).toBe(0);
    const lines = published.stdout.trimEnd().split('\n').map((line) => parseEventLine(line));
    expect(lines.every((line) => line !== undefined)).toBe(true);
    expect(lines.map((line) => line?.event)).toEqual([
      'notebooks.started',
      'notebooks.source-fetched',
      'notebooks.file-changed',
      'notebooks.file-changed',
      'notebooks.staging',
      'notebooks.published',
      'notebooks.finished',
    ]);
    expect(lines[1]?.fields).toMatchObject({ number: 1, commit: expect.stringMatching(/^[0-9a-f]{40}$/), files: 2, glob: '*.ipynb' });
    expect(lines[6]?.fields).toMatchObject({ outcome: 'published', exitCode: 0, changes: { added: 2, changed: 0, removed: 0 } });
    expect(lines[6]?.msg).toMatch(/^notebooks finished at .* \(\d+\.\ds\): published: published version \S+ to /);
    expect(lines.map((line) => line?.msg)).toContain('  added: a.ipynb');

    await sources('https://hush-hush-value@127.0.0.1:9/nothing.git main');
    const failed = await asJob(['notebooks', '--env-file', envFile]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).not.toContain('hush-hush-value');
    const failure = failed.stdout.split('\n').map((line) => parseEventLine(line)).find((line) => line?.event === 'notebooks.source-failed');
    expect(failure?.msg).toMatch(/^failed: source 1/);
    expect(failure?.fields['reason']).toBe(failure?.msg.slice('failed: '.length));
  });
});
