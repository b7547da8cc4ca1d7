// git obeys the scheduler, not the checkout: a checkout's own .git/config that names a program
// (fsmonitor, hooks, upload-pack, an ext:: remote, a credential helper, an ssh or askpass
// program) runs nothing, for checkouts owned by another user as much as for root's own.
import { chmod, chown, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeCheckout } from '../../src/core/verdict.js';
import { fastForward } from '../../src/git/fast-forward.js';
import { inspectAll, inspectCheckout, type InspectOptions } from '../../src/git/inspect.js';
import { fetchIntoCache, ensureCacheRepo } from '../../src/git/source-cache.js';
import { cloneCheckout, createBareUpstream, git, makeTempDir, pushUpstream, removeTempDir } from '../fixtures/git-repos.js';

let dir: string;
let marks: string;
let options: InspectOptions;
let counter = 0;

beforeAll(async () => {
  dir = await makeTempDir('git-hostile');
  marks = path.join(dir, 'marks');
  await mkdir(marks);
  await chmod(marks, 0o777);
  options = { keyRootDir: undefined, knownHostsFile: path.join(dir, 'state', 'known_hosts'), pinned: false, timeoutMs: 20_000 };
});

afterAll(async () => {
  await removeTempDir(dir);
});

/** A program that leaves a mark when anything runs it. */
async function marker(name: string): Promise<string> {
  const file = path.join(dir, `${name}.sh`);
  await writeFile(file, `#!/bin/sh\ntouch ${path.join(marks, name)}\nexec "$@"\n`, { mode: 0o755 });
  return file;
}

async function hostileCheckout(owner: number | undefined): Promise<{ bare: string; checkout: string }> {
  counter += 1;
  const bare = await createBareUpstream(path.join(dir, 'upstreams'), `repo${counter}`, { 'README.md': '# platform\n' });
  const checkout = await cloneCheckout(bare, path.join(dir, 'checkouts', `repo${counter}`));
  const hooks = path.join(checkout, '.git', 'hooks');
  await mkdir(hooks, { recursive: true });
  for (const hook of ['post-merge', 'post-checkout', 'reference-transaction', 'pre-auto-gc']) {
    await writeFile(path.join(hooks, hook), `#!/bin/sh\ntouch ${path.join(marks, `hook-${hook}`)}\n`, { mode: 0o755 });
  }
  const settings: [string, string][] = [
    ['core.fsmonitor', await marker('fsmonitor')],
    ['remote.origin.uploadpack', await marker('uploadpack')],
    ['credential.helper', `!${await marker('credential')}`],
    ['core.sshCommand', await marker('sshcommand')],
    ['core.askPass', await marker('askpass')],
    ['protocol.ext.allow', 'always'],
  ];
  for (const [key, value] of settings) await git(checkout, 'config', '--local', key, value);
  // A second remote reached through ext::, which runs a command by design.
  await git(checkout, 'config', '--local', 'remote.evil.url', `ext::sh -c touch% ${path.join(marks, 'ext')}`);
  await git(checkout, 'config', '--local', 'remote.evil.uploadpack', await marker('uploadpack-evil'));
  if (owner !== undefined) await chownRecursive(checkout, owner);
  return { bare, checkout };
}

async function chownRecursive(root: string, uid: number): Promise<void> {
  await chown(root, uid, uid);
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) await chownRecursive(full, uid);
    else await chown(full, uid, uid);
  }
}

describe.each([
  ['owned by root', undefined],
  ["owned by the operator's user (uid 1000)", 1000],
])('a checkout whose .git/config names programs, %s', (_what, owner) => {
  it('is checked, judged, fetched and fast-forwarded without running any of them', async () => {
    const { bare, checkout } = await hostileCheckout(owner);
    await pushUpstream(bare, { 'README.md': '# platform v2\n' }, 'v2');

    const [state] = await inspectAll([checkout], options);
    expect(state).toBeDefined();
    const verdict = judgeCheckout(state!);
    expect([verdict.verdict, verdict.error]).toEqual(['behind', undefined]);
    const alone = judgeCheckout(await inspectCheckout(checkout, options));
    expect(alone.verdict).toBe('behind');
    await fastForward(checkout, { to: alone.upstreamHead!, timeoutMs: 20_000 });
    expect((await git(checkout, '-c', `safe.directory=${checkout}`, 'rev-parse', 'HEAD')).trim()).toBe(alone.upstreamHead);

    expect(await readdir(marks)).toEqual([]);
  });
});

describe('a checkout that is not configured', () => {
  it('is not trusted by being below one that is: safe.directory names exact paths', async () => {
    const { checkout } = await hostileCheckout(1000);
    // The parent directory is what the scheduler was told about; the repository below it is not.
    const state = await inspectCheckout(path.dirname(checkout), options);
    expect(judgeCheckout(state).verdict).toBe('error');
    expect(await readdir(marks)).toEqual([]);
  });
});

describe('a notebook source cache', () => {
  it('refuses an ext:: URL and runs no upload-pack but git\'s own', async () => {
    const cache = path.join(dir, 'cache', 'ext');
    await ensureCacheRepo(cache);
    await expect(fetchIntoCache(cache, { url: `ext::sh -c touch% ${path.join(marks, 'ext-cache')}`, ref: 'main', sshCommand: undefined, timeoutMs: 20_000 })).rejects.toThrow(/transport 'ext' not allowed|not allowed/);
    expect(await readdir(marks)).toEqual([]);
  });
});
