import { execFile } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstLook } from '../../src/git/first-look.js';
import { cloneCheckout, createBareUpstream, git, makeTempDir, removeTempDir } from '../fixtures/git-repos.js';

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('git-first-look');
});

afterAll(async () => {
  await removeTempDir(dir);
});

const SSH = 'ssh -o BatchMode=yes';

describe('firstLook: many checkouts asked by one shell', () => {
  it('gives each checkout its own remote answer and local state, in the order asked', async () => {
    const bare = await createBareUpstream(path.join(dir, 'up'), 'one', { 'README.md': 'one\n' });
    // A name a shell would run, were it ever read as shell text.
    const odd = await cloneCheckout(bare, path.join(dir, 'a $(touch pwned) `touch pwned` b'));
    await writeFile(path.join(odd, 'new file.txt'), 'x\n');
    const plain = await cloneCheckout(bare, path.join(dir, 'plain'));
    const notRepo = path.join(dir, 'not-a-repo');
    await mkdir(notRepo);
    const missing = path.join(dir, 'missing');
    const upstreamHead = (await git(bare, 'rev-parse', 'refs/heads/main')).trim();

    const looks = await firstLook(
      [
        { path: odd, sshCommand: SSH },
        { path: plain, sshCommand: undefined },
        { path: notRepo, sshCommand: SSH },
        { path: missing, sshCommand: SSH },
      ],
      20_000,
    );

    const [a, b, c, d] = looks;
    expect(a?.local?.statusExit).toBe(0);
    expect(a?.local?.status.split('\0')).toContain('? new file.txt');
    expect(a?.local?.status).toContain(`# branch.oid ${upstreamHead}`);
    expect(a?.local?.config).toContain(`remote.origin.url\n${bare}\0`);
    expect(a?.remote).toMatchObject({ exitCode: 0, stdout: `${upstreamHead}\trefs/heads/main\n` });
    // Not asked: no answer.
    expect(b?.local?.statusExit).toBe(0);
    expect(b?.local?.status.split('\0')).not.toContain('? new file.txt');
    expect(b?.remote).toBeUndefined();
    // Not a checkout: git status says so with its exit code, and ls-remote fails.
    expect(c?.local?.statusExit).toBe(128);
    expect(c?.remote?.exitCode).not.toBe(0);
    // Not there at all: nothing could be read, so the caller asks again alone.
    expect(d).toEqual({ local: undefined, remote: undefined });
    await expect(access(path.join(dir, 'pwned'))).rejects.toThrow();
    await expect(access(path.join(odd, 'pwned'))).rejects.toThrow();
  });

  it('keeps git\'s exit code and message when a remote fails', async () => {
    const bare = await createBareUpstream(path.join(dir, 'up'), 'gone', { 'README.md': 'gone\n' });
    const checkout = await cloneCheckout(bare, path.join(dir, 'gone-checkout'));
    await git(checkout, 'remote', 'set-url', 'origin', path.join(dir, 'up', 'nowhere.git'));
    const [look] = await firstLook([{ path: checkout, sshCommand: SSH }], 20_000);
    expect(look?.remote?.exitCode).toBe(128);
    expect(look?.remote?.stderr).toMatch(/does not appear to be a git repository/);
    expect(look?.local?.statusExit).toBe(0);
  });

  it('stops a remote that does not answer after the timeout, with everything under it, and keeps what did answer', async () => {
    const bare = await createBareUpstream(path.join(dir, 'up'), 'quick', { 'README.md': 'quick\n' });
    const quick = await cloneCheckout(bare, path.join(dir, 'quick'));
    const hung = await cloneCheckout(bare, path.join(dir, 'hung'));
    await git(hung, 'remote', 'set-url', 'origin', 'ssh://git@example.invalid/hung.git');
    const marker = `autodeploy-first-look-${process.pid}`;
    // git runs the ssh command through a shell: this one never connects.
    const hangs = `sleep 300 && echo ${marker} &&`;

    const looks = await firstLook([{ path: hung, sshCommand: hangs }, { path: quick, sshCommand: SSH }], 1_500);

    expect(looks[0]?.remote?.exitCode).toBeUndefined();
    expect(looks[0]?.local?.statusExit).toBe(0);
    expect(looks[1]?.remote?.exitCode).toBe(0);
    // The stop reached the ssh command's shell and its sleep, not only the shell that started them.
    const { stdout } = await promisify(execFile)('ps', ['-eo', 'args']);
    expect(stdout).not.toContain(marker);
  });
});
