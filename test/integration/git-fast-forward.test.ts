import { lstat, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatOwnership, OwnershipFormatError, parseOwnership } from '../../src/core/ownership.js';
import { chownTree } from '../../src/git/chown-tree.js';
import { fastForward, FastForwardRefused, headOf, moveBack, MoveBackRefused } from '../../src/git/fast-forward.js';
import { cloneCheckout, commitFiles, createBareUpstream, git, makeTempDir, pushUpstream, removeTempDir } from '../fixtures/git-repos.js';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await makeTempDir('git-fast-forward');
});

afterAll(async () => {
  await removeTempDir(dir);
});

async function fresh(): Promise<{ bare: string; checkout: string }> {
  counter += 1;
  const name = `repo${counter}`;
  const bare = await createBareUpstream(path.join(dir, 'upstreams'), name, { 'env.local': 'export A=1\n', 'README.md': '# r\n' });
  const checkout = await cloneCheckout(bare, path.join(dir, 'checkouts', name));
  return { bare, checkout };
}

async function refused(promise: Promise<unknown>): Promise<unknown> {
  return promise.then((value) => new Error(`expected a refusal, got ${JSON.stringify(value)}`), (error: unknown) => error);
}

async function commitCount(checkout: string): Promise<number> {
  return Number((await git(checkout, 'rev-list', '--count', 'HEAD')).trim());
}

// Bytes no text conversion would leave alone: a NUL, a CR, invalid UTF-8.
const LOCAL_BYTES = Buffer.from([0x65, 0x78, 0x70, 0x6f, 0x72, 0x74, 0x00, 0x0d, 0x0a, 0xff, 0xfe, 0x41, 0x3d, 0x39]);

describe('fastForward', () => {
  it('moves the branch to its fetched upstream and says from where to where', async () => {
    const { bare, checkout } = await fresh();
    const from = await headOf(checkout);
    const to = await pushUpstream(bare, { 'env.local': 'export A=2\n' }, 'New value');
    await git(checkout, 'fetch', '-q', 'origin');
    expect(await fastForward(checkout)).toEqual({ from, to });
    expect(await headOf(checkout)).toBe(to);
    expect(await readFile(path.join(checkout, 'env.local'), 'utf8')).toBe('export A=2\n');
    // A fast-forward adds no commit of its own.
    expect(await commitCount(checkout)).toBe(2);
    expect((await git(checkout, 'status', '--porcelain')).trim()).toBe('');
  });

  it('moves only as far as the commit it is given', async () => {
    const { bare, checkout } = await fresh();
    const decided = await pushUpstream(bare, { 'a.txt': 'a\n' }, 'Decided on');
    await pushUpstream(bare, { 'b.txt': 'b\n' }, 'Pushed after the decision');
    await git(checkout, 'fetch', '-q', 'origin');
    const move = await fastForward(checkout, { to: decided });
    expect(move.to).toBe(decided);
    expect(await headOf(checkout)).toBe(decided);
  });

  it('leaves a checkout already at its upstream where it is', async () => {
    const { checkout } = await fresh();
    const at = await headOf(checkout);
    expect(await fastForward(checkout)).toEqual({ from: at, to: at });
  });

  it('refuses a divergent checkout and leaves it exactly as it was', async () => {
    const { bare, checkout } = await fresh();
    const local = await commitFiles(checkout, { 'local.txt': 'mine\n' }, 'Local commit');
    await pushUpstream(bare, { 'remote.txt': 'theirs\n' }, 'Upstream commit');
    await git(checkout, 'fetch', '-q', 'origin');
    const error = await refused(fastForward(checkout));
    expect(error).toBeInstanceOf(FastForwardRefused);
    expect(error).toMatchObject({ why: 'not-fast-forward', path: checkout, target: '@{upstream}' });
    expect((error as Error).message).toContain('never makes a merge commit');
    expect(await headOf(checkout)).toBe(local);
    expect(await commitCount(checkout)).toBe(2);
    await expect(stat(path.join(checkout, 'remote.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await git(checkout, 'status', '--porcelain')).trim()).toBe('');
  });

  it('refuses to overwrite a local change, which is still there byte for byte', async () => {
    const { bare, checkout } = await fresh();
    const before = await headOf(checkout);
    await writeFile(path.join(checkout, 'env.local'), LOCAL_BYTES);
    await pushUpstream(bare, { 'env.local': 'export A=upstream\n' }, 'Upstream env');
    await git(checkout, 'fetch', '-q', 'origin');
    const error = await refused(fastForward(checkout));
    expect(error).toBeInstanceOf(FastForwardRefused);
    expect(error).toMatchObject({ why: 'local-changes' });
    expect(await readFile(path.join(checkout, 'env.local'))).toEqual(LOCAL_BYTES);
    expect(await headOf(checkout)).toBe(before);
  });

  it('refuses to overwrite an untracked file, which is still there byte for byte', async () => {
    const { bare, checkout } = await fresh();
    const before = await headOf(checkout);
    await writeFile(path.join(checkout, 'new.conf'), LOCAL_BYTES);
    await pushUpstream(bare, { 'new.conf': 'upstream\n' }, 'Upstream adds the file');
    await git(checkout, 'fetch', '-q', 'origin');
    const error = await refused(fastForward(checkout));
    expect(error).toMatchObject({ name: 'FastForwardRefused', why: 'local-changes' });
    expect(await readFile(path.join(checkout, 'new.conf'))).toEqual(LOCAL_BYTES);
    expect(await headOf(checkout)).toBe(before);
  });

  it('carries along a local change to a file the upstream did not touch', async () => {
    const { bare, checkout } = await fresh();
    await writeFile(path.join(checkout, 'README.md'), LOCAL_BYTES);
    const to = await pushUpstream(bare, { 'env.local': 'export A=2\n' }, 'Upstream env');
    await git(checkout, 'fetch', '-q', 'origin');
    expect((await fastForward(checkout)).to).toBe(to);
    expect(await readFile(path.join(checkout, 'README.md'))).toEqual(LOCAL_BYTES);
  });
});

describe('moveBack', () => {
  it('moves the checkout back to the recorded commit', async () => {
    const { bare, checkout } = await fresh();
    const recorded = await headOf(checkout);
    const to = await pushUpstream(bare, { 'env.local': 'export A=broken\n', 'added.txt': 'x\n' }, 'Breaks a service');
    await git(checkout, 'fetch', '-q', 'origin');
    await fastForward(checkout);
    expect(await moveBack(checkout, recorded)).toEqual({ from: to, to: recorded });
    expect(await headOf(checkout)).toBe(recorded);
    expect(await readFile(path.join(checkout, 'env.local'), 'utf8')).toBe('export A=1\n');
    await expect(stat(path.join(checkout, 'added.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    // The branch moved, not HEAD alone: still on main, now behind its upstream again.
    expect((await git(checkout, 'branch', '--show-current')).trim()).toBe('main');
    expect((await git(checkout, 'rev-list', '--count', 'HEAD..origin/main')).trim()).toBe('1');
  });

  it('keeps a local change to a file the two commits share', async () => {
    const { bare, checkout } = await fresh();
    const recorded = await headOf(checkout);
    await pushUpstream(bare, { 'env.local': 'export A=2\n' }, 'Upstream env');
    await git(checkout, 'fetch', '-q', 'origin');
    await fastForward(checkout);
    await writeFile(path.join(checkout, 'README.md'), LOCAL_BYTES);
    await moveBack(checkout, recorded);
    expect(await headOf(checkout)).toBe(recorded);
    expect(await readFile(path.join(checkout, 'README.md'))).toEqual(LOCAL_BYTES);
  });

  it('refuses when a local change would be lost, and leaves everything as it was', async () => {
    const { bare, checkout } = await fresh();
    const recorded = await headOf(checkout);
    const to = await pushUpstream(bare, { 'env.local': 'export A=2\n' }, 'Upstream env');
    await git(checkout, 'fetch', '-q', 'origin');
    await fastForward(checkout);
    await writeFile(path.join(checkout, 'env.local'), LOCAL_BYTES);
    const error = await refused(moveBack(checkout, recorded));
    expect(error).toBeInstanceOf(MoveBackRefused);
    expect(error).toMatchObject({ path: checkout, commit: recorded });
    expect((error as Error).message).toContain('local changes in files that differ would be lost');
    expect(await headOf(checkout)).toBe(to);
    expect(await readFile(path.join(checkout, 'env.local'))).toEqual(LOCAL_BYTES);
  });
});

describe('chownTree', () => {
  it('reads numeric ownership only', () => {
    expect(parseOwnership('1000:1001')).toEqual({ uid: 1000, gid: 1001 });
    expect(() => parseOwnership('www-data:www-data')).toThrow(OwnershipFormatError);
    expect(() => parseOwnership('1000')).toThrow('uid:gid');
  });

  it('reads a uid alone when asked, with the group left alone, and refuses an id chown cannot give', () => {
    expect(parseOwnership('1000', { uidAlone: true })).toEqual({ uid: 1000, gid: undefined });
    expect(parseOwnership(' 1000:100 ', { uidAlone: true })).toEqual({ uid: 1000, gid: 100 });
    expect(parseOwnership(`${2 ** 32 - 2}:0`)).toEqual({ uid: 2 ** 32 - 2, gid: 0 });
    expect(() => parseOwnership(`${2 ** 32 - 1}:0`)).toThrow('"4294967295:0" has uid 4294967295, over 4294967294, the largest id chown can give');
    expect(() => parseOwnership(`0:${2 ** 32}`)).toThrow('has gid 4294967296, over 4294967294');
    expect(() => parseOwnership('1000:', { uidAlone: true })).toThrow('"1000:" is not an ownership of the form uid or uid:gid in numbers');
    expect(formatOwnership({ uid: 1000, gid: undefined })).toBe('1000');
    expect(formatOwnership({ uid: 1000, gid: 100 })).toBe('1000:100');
  });

  it('gives the files to a uid alone and leaves their group, as chown uid does', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs to run as root to give files to another user');
    const { checkout } = await fresh();
    await chownTree(checkout, parseOwnership('4321:4322'));
    await chownTree(checkout, parseOwnership('5432', { uidAlone: true }));
    for (const relative of ['.', '.git/HEAD', 'env.local']) {
      const s = await lstat(path.join(checkout, relative));
      expect([relative, s.uid, s.gid]).toEqual([relative, 5432, 4322]);
    }
  });

  it('gives every file of the checkout, .git included, to the owner, without following links out of it', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs to run as root to give files to another user');
    const { checkout } = await fresh();
    const outside = path.join(dir, 'outside.txt');
    await writeFile(outside, 'not in the checkout\n');
    await mkdir(path.join(checkout, 'deep', 'er'), { recursive: true });
    await writeFile(path.join(checkout, 'deep', 'er', 'f.txt'), 'f\n');
    await symlink(outside, path.join(checkout, 'link-out'));
    await chownTree(checkout, parseOwnership('4321:4322'));
    for (const relative of ['.', '.git', '.git/HEAD', '.git/objects', 'env.local', 'deep/er/f.txt', 'link-out']) {
      const s = await lstat(path.join(checkout, relative));
      expect([relative, s.uid, s.gid]).toEqual([relative, 4321, 4322]);
    }
    const o = await stat(outside);
    expect([o.uid, o.gid]).toEqual([0, 0]);
  });
});
