import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeCheckout } from '../../src/core/verdict.js';
import type { CheckoutVerdict } from '../../src/core/checkout.js';
import { chownTree } from '../../src/git/chown-tree.js';
import { gitClient } from '../../src/git/git-client.js';
import { inspectAll, inspectCheckout, type InspectOptions } from '../../src/git/inspect.js';
import { formatNameStatus } from '../../src/git/name-status.js';
import {
  cloneCheckout,
  commitFiles,
  createBareUpstream,
  git,
  GitCommandError,
  makeTempDir,
  pushUpstream,
  removeTempDir,
  runGit,
} from '../fixtures/git-repos.js';
import { closedPort } from '../helpers/ports.js';

let dir: string;
let options: InspectOptions;
let counter = 0;

beforeAll(async () => {
  dir = await makeTempDir('git-inspect');
  options = { keyRootDir: undefined, knownHostsFile: path.join(dir, 'state', 'known_hosts'), pinned: false, timeoutMs: 20_000 };
});

afterAll(async () => {
  await removeTempDir(dir);
});

/** A bare upstream with one commit and a clone of it, both new. */
async function fresh(files: Record<string, string> = { 'README.md': '# platform\n', 'env.local': 'export A=1\n' }): Promise<{ bare: string; checkout: string }> {
  counter += 1;
  const name = `repo${counter}`;
  const bare = await createBareUpstream(path.join(dir, 'upstreams'), name, files);
  const checkout = await cloneCheckout(bare, path.join(dir, 'checkouts', name));
  return { bare, checkout };
}

async function judge(checkout: string): Promise<CheckoutVerdict> {
  return judgeCheckout(await inspectCheckout(checkout, options));
}

async function head(checkout: string): Promise<string> {
  return (await git(checkout, 'rev-parse', 'HEAD')).trim();
}

describe('inspectCheckout and judgeCheckout on real checkouts', () => {
  it('finds a fresh clone up to date', async () => {
    const { bare, checkout } = await fresh();
    const v = await judge(checkout);
    expect(v.verdict).toBe('up-to-date');
    expect(v).toMatchObject({
      path: checkout, exists: true, isRepo: true, branch: 'main', upstream: 'origin/main', upstreamRef: 'refs/remotes/origin/main',
      remoteUrl: bare, ahead: 0, behind: 0, dirtyFiles: [], changedFiles: [], error: undefined,
      key: { path: undefined, reason: 'none' },
    });
    expect(v.head).toBe(await head(checkout));
    expect(v.upstreamHead).toBe(v.head);
  });

  it('fetches a new upstream commit and finds the checkout behind, with the changed files', async () => {
    const { bare, checkout } = await fresh();
    const before = await head(checkout);
    await pushUpstream(bare, { 'env.local': 'export A=2\n', 'config/new.yml': 'x: 1\n' }, 'Change env and add config');
    const pushed = await pushUpstream(bare, { 'README.md': '# platform v2\n' }, 'Readme');
    const v = await judge(checkout);
    expect(v.verdict).toBe('behind');
    expect(v.behind).toBe(2);
    expect(v.ahead).toBe(0);
    expect(v.upstreamHead).toBe(pushed);
    expect(v.head).toBe(before);
    expect(v.changedFiles).toEqual([
      { status: 'M', path: 'README.md' },
      { status: 'A', path: 'config/new.yml' },
      { status: 'M', path: 'env.local' },
    ]);
    expect(formatNameStatus(v.changedFiles)).toBe((await git(checkout, 'diff', '--name-status', 'HEAD', 'origin/main')).trimEnd());
    expect(v.reason).toContain('2 commits behind origin/main');
  });

  it('reports renames with both paths', async () => {
    const { bare, checkout } = await fresh({ 'old-name.yml': 'a: 1\nb: 2\nc: 3\nd: 4\n' });
    const scratch = await makeTempDir('rename');
    try {
      const work = await cloneCheckout(bare, path.join(scratch, 'w'));
      await git(work, 'mv', 'old-name.yml', 'new-name.yml');
      await git(work, 'commit', '-q', '-m', 'Rename');
      await git(work, 'push', '-q', 'origin', 'HEAD');
    } finally {
      await removeTempDir(scratch);
    }
    const v = await judge(checkout);
    expect(v.changedFiles).toEqual([{ status: 'R100', from: 'old-name.yml', path: 'new-name.yml' }]);
    expect(formatNameStatus(v.changedFiles)).toBe((await git(checkout, 'diff', '--name-status', 'HEAD', 'origin/main')).trimEnd());
  });

  it('finds a checkout with local commits ahead', async () => {
    const { checkout } = await fresh();
    await commitFiles(checkout, { 'local.txt': 'mine\n' }, 'Local work');
    const v = await judge(checkout);
    expect(v.verdict).toBe('ahead');
    expect(v.ahead).toBe(1);
    expect(v.behind).toBe(0);
  });

  it('finds a checkout with local commits and new upstream commits divergent', async () => {
    const { bare, checkout } = await fresh();
    await commitFiles(checkout, { 'local.txt': 'mine\n' }, 'Local work');
    await commitFiles(checkout, { 'local2.txt': 'mine\n' }, 'More local work');
    await pushUpstream(bare, { 'remote.txt': 'theirs\n' }, 'Upstream work');
    const v = await judge(checkout);
    expect(v.verdict).toBe('divergent');
    expect([v.ahead, v.behind]).toEqual([2, 1]);
  });

  it('finds a modified tracked file dirty, even when up to date', async () => {
    const { checkout } = await fresh();
    await writeFile(path.join(checkout, 'env.local'), 'export A=hand-edited\n');
    const v = await judge(checkout);
    expect(v.verdict).toBe('dirty');
    expect(v.dirtyFiles).toEqual([' M env.local']);
    expect(v.behind).toBe(0);
  });

  it('finds a staged change dirty', async () => {
    const { checkout } = await fresh();
    await writeFile(path.join(checkout, 'staged.txt'), 'x\n');
    await git(checkout, 'add', 'staged.txt');
    const v = await judge(checkout);
    expect(v.verdict).toBe('dirty');
    expect(v.dirtyFiles).toEqual(['A  staged.txt']);
  });

  it('finds an untracked file dirty, listing files inside untracked directories one by one', async () => {
    const { bare, checkout } = await fresh();
    await mkdir(path.join(checkout, 'scratch', 'deep'), { recursive: true });
    await writeFile(path.join(checkout, 'scratch', 'deep', 'a.txt'), 'a\n');
    await writeFile(path.join(checkout, 'scratch', 'b.txt'), 'b\n');
    await pushUpstream(bare, { 'new.txt': 'n\n' }, 'Upstream');
    const v = await judge(checkout);
    expect(v.verdict).toBe('dirty');
    expect(v.dirtyFiles).toEqual(['?? scratch/b.txt', '?? scratch/deep/a.txt']);
    // Still fetched and compared: the report says what a clean checkout would get.
    expect(v.behind).toBe(1);
  });

  it('ignores files the repository ignores', async () => {
    const { checkout } = await fresh({ '.gitignore': '*.log\n' });
    await writeFile(path.join(checkout, 'debug.log'), 'noise\n');
    expect((await judge(checkout)).verdict).toBe('up-to-date');
  });

  it('finds a branch without upstream', async () => {
    const { checkout } = await fresh();
    await git(checkout, 'switch', '-q', '-c', 'feature');
    const v = await judge(checkout);
    expect(v.verdict).toBe('no-upstream');
    expect(v.branch).toBe('feature');
    expect(v.upstream).toBeUndefined();
    expect(v.reason).toContain('git branch --set-upstream-to=origin/feature');
  });

  it('finds a detached HEAD', async () => {
    const { checkout } = await fresh();
    const commit = await head(checkout);
    await git(checkout, 'switch', '-q', '--detach', 'HEAD');
    const v = await judge(checkout);
    expect(v.verdict).toBe('detached');
    expect(v.branch).toBeUndefined();
    expect(v.head).toBe(commit);
  });

  it('finds a path that does not exist missing', async () => {
    const v = await judge(path.join(dir, 'no', 'such', 'checkout'));
    expect(v.verdict).toBe('missing');
    expect(v.exists).toBe(false);
  });

  it('finds a directory that is not a repository an error', async () => {
    const plain = path.join(dir, 'plain-dir');
    await mkdir(plain, { recursive: true });
    const v = await judge(plain);
    expect(v.verdict).toBe('error');
    expect(v.errorKind).toBe('not-a-repo');
    expect(v.reason).toContain(`${plain} is not a git checkout`);
  });

  it('finds a file in place of a checkout an error', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    const v = await judge(file);
    expect(v).toMatchObject({ verdict: 'error', exists: true, isRepo: false, errorKind: 'not-a-repo' });
  });

  it('reports an upstream branch deleted on the remote as an error, and keeps the last remote-tracking ref', async () => {
    const { bare, checkout } = await fresh();
    await git(checkout, 'switch', '-q', '-c', 'release');
    await git(checkout, 'push', '-q', '-u', 'origin', 'release');
    const tracked = (await git(checkout, 'rev-parse', 'origin/release')).trim();
    await git(bare, 'branch', '-D', 'release');
    const v = await judge(checkout);
    expect(v.verdict).toBe('error');
    expect(v.errorKind).toBe('branch-not-found');
    expect(v.reason).toContain('the upstream branch no longer exists on the remote');
    expect((await git(checkout, 'rev-parse', 'origin/release')).trim()).toBe(tracked);
  });

  it('reports a remote that is gone as an error naming it', async () => {
    const { bare, checkout } = await fresh();
    await rm(bare, { recursive: true });
    const v = await judge(checkout);
    expect(v.verdict).toBe('error');
    expect(v.errorKind).toBe('repo-not-found');
    expect(v.reason).toContain(bare);
  });

  it('reports an https remote that refuses connections as unreachable, without its credentials', async () => {
    const { checkout } = await fresh();
    const port = await closedPort();
    await git(checkout, 'remote', 'set-url', 'origin', `https://deploy:s3cret-token@127.0.0.1:${port}/platform.git`);
    const v = await judge(checkout);
    expect(v.verdict).toBe('error');
    expect(v.errorKind).toBe('unreachable');
    expect(v.remoteUrl).toBe(`https://***@127.0.0.1:${port}/platform.git`);
    expect(v.reason).toContain('Failed to connect');
    expect(JSON.stringify(v)).not.toContain('s3cret');
  });

  it('follows an upstream with another name on the remote', async () => {
    const { bare, checkout } = await fresh();
    await git(checkout, 'push', '-q', 'origin', 'HEAD:refs/heads/production');
    await git(checkout, 'switch', '-q', '-c', 'deployed', '--track', 'origin/production');
    const pushed = await pushUpstream(bare, { 'a.txt': 'a\n' }, 'On main only');
    expect((await judge(checkout)).verdict).toBe('up-to-date');
    await git(bare, 'update-ref', 'refs/heads/production', pushed);
    const v = await judge(checkout);
    expect(v).toMatchObject({ verdict: 'behind', branch: 'deployed', upstream: 'origin/production', upstreamHead: pushed });
  });

  it('fetches only the upstream branch', async () => {
    const { bare, checkout } = await fresh();
    const scratch = await makeTempDir('other-branch');
    try {
      const work = await cloneCheckout(bare, path.join(scratch, 'w'));
      await git(work, 'switch', '-q', '-c', 'unrelated');
      await commitFiles(work, { 'u.txt': 'u\n' }, 'Unrelated');
      await git(work, 'push', '-q', 'origin', 'unrelated');
    } finally {
      await removeTempDir(scratch);
    }
    expect((await judge(checkout)).verdict).toBe('up-to-date');
    const refs = await git(checkout, 'for-each-ref', '--format=%(refname)', 'refs/remotes/');
    expect(refs).not.toContain('unrelated');
  });

  it('changes neither HEAD, the index, the work tree nor FETCH_HEAD', async () => {
    const { bare, checkout } = await fresh();
    await writeFile(path.join(checkout, 'env.local'), 'export A=local\n');
    await writeFile(path.join(checkout, 'untracked.txt'), 'u\n');
    await pushUpstream(bare, { 'env.local': 'export A=upstream\n' }, 'Upstream env');
    const headBefore = await head(checkout);
    const indexBefore = await readFile(path.join(checkout, '.git', 'index'));
    const indexMtime = (await stat(path.join(checkout, '.git', 'index'))).mtimeMs;
    const v = await judge(checkout);
    expect(v.verdict).toBe('dirty');
    expect(v.behind).toBe(1);
    expect(await head(checkout)).toBe(headBefore);
    expect(await readFile(path.join(checkout, '.git', 'index'))).toEqual(indexBefore);
    expect((await stat(path.join(checkout, '.git', 'index'))).mtimeMs).toBe(indexMtime);
    expect(await readFile(path.join(checkout, 'env.local'), 'utf8')).toBe('export A=local\n');
    expect(await readFile(path.join(checkout, 'untracked.txt'), 'utf8')).toBe('u\n');
    await expect(stat(path.join(checkout, '.git', 'FETCH_HEAD'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('inspects several checkouts at once, each on its own', async () => {
    const a = await fresh();
    const b = await fresh();
    const c = await fresh();
    await pushUpstream(b.bare, { 'x.txt': 'x\n' }, 'New');
    await writeFile(path.join(c.checkout, 'y.txt'), 'y\n');
    const missing = path.join(dir, 'gone');
    const states = await inspectAll([a.checkout, b.checkout, c.checkout, missing], options);
    expect(states.map((s) => [s.path, judgeCheckout(s).verdict])).toEqual([
      [a.checkout, 'up-to-date'],
      [b.checkout, 'behind'],
      [c.checkout, 'dirty'],
      [missing, 'missing'],
    ]);
  });

  it('inspects a checkout owned by another user, as the deploy does running as root', async () => {
    const { bare, checkout } = await fresh();
    await pushUpstream(bare, { 'x.txt': 'x\n' }, 'New');
    if (process.getuid?.() !== 0) {
      throw new Error('this test needs to run as root to give the checkout to another user');
    }
    await chownTree(checkout, { uid: 4321, gid: 4321 });
    // Plain git refuses the checkout: that is the situation safe.directory=* is for.
    const refused = await runGit({ cwd: checkout }, ['status']).then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(GitCommandError);
    expect((refused as GitCommandError).stderr).toContain('dubious ownership');
    const v = await judge(checkout);
    expect(v.verdict).toBe('behind');
    expect(v.error).toBeUndefined();
  });
});

describe('gitClient', () => {
  it('turns a failing command into a GitError with the command, exit code, stderr and repository', async () => {
    const { checkout } = await fresh();
    const error = await gitClient(checkout).run(['rev-parse', '--verify', 'no-such-ref']).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({
      name: 'GitError',
      command: 'git rev-parse --verify no-such-ref',
      exitCode: 128,
      repoPath: checkout,
      timedOut: false,
      kind: 'other',
    });
    expect((error as { stderr: string }).stderr).toContain('fatal: Needed a single revision');
    expect((error as Error).message).toBe(`git rev-parse --verify no-such-ref in ${checkout} failed with exit code 128: fatal: Needed a single revision`);
    expect((error as Error).cause).toBeDefined();
  });

  it('fails on a non-zero exit even when git says nothing', async () => {
    const { checkout } = await fresh();
    expect(await gitClient(checkout).run(['diff', '--quiet'])).toBe('');
    await writeFile(path.join(checkout, 'env.local'), 'changed\n');
    const failure = await gitClient(checkout).run(['diff', '--quiet']).then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ name: 'GitError', exitCode: 1, stderr: '' });
  });

  it('does not take GIT_* variables from the environment of the process', async () => {
    const { checkout } = await fresh();
    const saved = { dir: process.env.GIT_DIR, tree: process.env.GIT_WORK_TREE };
    process.env.GIT_DIR = path.join(dir, 'not-a-git-dir');
    process.env.GIT_WORK_TREE = dir;
    try {
      expect((await gitClient(checkout).run(['rev-parse', '--show-toplevel'])).trim()).toBe(checkout);
    } finally {
      if (saved.dir === undefined) delete process.env.GIT_DIR; else process.env.GIT_DIR = saved.dir;
      if (saved.tree === undefined) delete process.env.GIT_WORK_TREE; else process.env.GIT_WORK_TREE = saved.tree;
    }
  });

  it('runs git in English whatever the locale', async () => {
    const { checkout } = await fresh();
    const saved = process.env.LC_ALL;
    process.env.LC_ALL = 'fr_FR.UTF-8';
    try {
      const error = await gitClient(checkout).run(['checkout', 'no-such-branch']).then(() => undefined, (e: unknown) => e);
      expect((error as { stderr: string }).stderr).toContain('did not match any file(s) known to git');
    } finally {
      if (saved === undefined) delete process.env.LC_ALL; else process.env.LC_ALL = saved;
    }
  });
});
