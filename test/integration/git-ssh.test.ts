import { chmod, copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeCheckout } from '../../src/core/verdict.js';
import type { CheckoutVerdict } from '../../src/core/checkout.js';
import { inspectAll, inspectCheckout, type InspectOptions } from '../../src/git/inspect.js';
import { hostKeyPolicy } from '../../src/git/ssh-command.js';
import {
  cloneCheckout,
  createBareUpstream,
  generateDeployKey,
  git,
  makeTempDir,
  pushUpstream,
  removeTempDir,
  type DeployKey,
} from '../fixtures/git-repos.js';
import { requireOpenSshClient, startSshGitServer, type SshGitServer } from '../fixtures/ssh-git-server.js';
import { tracingPackets } from '../fixtures/git-trace.js';
import { closedPort } from '../helpers/ports.js';

const PARALLEL_CHECKOUTS = 20;

interface SshRepo {
  name: string;
  bare: string;
  checkout: string;
  key: DeployKey | undefined;
}

/** Bare upstreams served by one SSH server, their clones, and one deploy key per repository. */
class Platform {
  private counter = 0;
  constructor(readonly dir: string, readonly server: SshGitServer, readonly keyRoot: string) {}

  /**
   * A repository served over ssh, cloned under `checkouts/<name>`, with `<keyRoot>/<name>_deploy_key`
   * allowed to read it (unless `withKey` is false).
   */
  async repo(prefix: string, options: { withKey?: boolean; authorize?: boolean } = {}): Promise<SshRepo> {
    this.counter += 1;
    const name = `${prefix}${this.counter}`;
    const bare = await createBareUpstream(this.server.root, name, { 'README.md': `# ${name}\n` });
    const checkout = await cloneCheckout(bare, path.join(this.dir, 'checkouts', name));
    await git(checkout, 'remote', 'set-url', 'origin', this.server.url(name));
    let key: DeployKey | undefined;
    if (options.withKey ?? true) {
      key = await generateDeployKey(this.keyRoot, `${name}_deploy_key`);
      if (options.authorize ?? true) this.server.authorize(name, key.publicKey);
    }
    return { name, bare, checkout, key };
  }
}

async function pinnedFile(dir: string, server: SshGitServer, name = 'pinned_known_hosts'): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `${server.knownHostsLine()}\n`);
  return file;
}

async function judge(checkout: string, options: InspectOptions): Promise<CheckoutVerdict> {
  return judgeCheckout(await inspectCheckout(checkout, options));
}

/** Every file under .git/objects: a fetch that transfers objects adds loose objects or a pack. */
async function objectFiles(checkout: string): Promise<string[]> {
  const root = path.join(checkout, '.git', 'objects');
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
}

/** The known_hosts line ssh finds for the host, or '' (ssh-keygen -F reads hashed names too). */
async function knownHostsEntry(file: string, host: string): Promise<string> {
  const { spawn } = await import('node:child_process');
  return new Promise<string>((resolve, reject) => {
    const child = spawn('ssh-keygen', ['-F', host, '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.once('error', reject);
    child.once('close', () => resolve(out.split('\n').filter((l) => l !== '' && !l.startsWith('#')).join('\n')));
  });
}

beforeAll(async () => {
  await requireOpenSshClient();
});

describe('inspecting checkouts over ssh with deploy keys', () => {
  let dir: string;
  let server: SshGitServer;
  let platform: Platform;
  let pinned: InspectOptions;

  beforeAll(async () => {
    dir = await makeTempDir('git-ssh');
    await mkdir(path.join(dir, 'repos'));
    server = await startSshGitServer({ root: path.join(dir, 'repos') });
    platform = new Platform(dir, server, path.join(dir, 'keys'));
    pinned = { keyRootDir: platform.keyRoot, knownHostsFile: await pinnedFile(dir, server), pinned: true, timeoutMs: 30_000 };
  });

  afterAll(async () => {
    await server.close();
    await removeTempDir(dir);
  });

  it('fetches with the checkout\'s own deploy key', async () => {
    const repo = await platform.repo('own');
    const pushed = await pushUpstream(repo.bare, { 'env.local': 'export A=1\n' }, 'New setting');
    const sessions = server.stats().uploadPackSessions;
    const v = await judge(repo.checkout, pinned);
    expect(v).toMatchObject({
      verdict: 'behind', behind: 1, upstreamHead: pushed, remoteUrl: server.url(repo.name),
      key: { path: path.join(platform.keyRoot, `${repo.name}_deploy_key`), reason: 'per-repo' },
    });
    // The remote moved: one session to learn where it is (ls-remote), one to fetch it.
    expect(server.stats().uploadPackSessions).toBe(sessions + 2);
  });

  it('falls back to the shared read-only key', async () => {
    const repo = await platform.repo('shared', { withKey: false });
    const sharedRoot = path.join(dir, 'shared-keys');
    const shared = await generateDeployKey(sharedRoot, 'id_rsa_git_ssh_read_only');
    server.authorize(repo.name, shared.publicKey);
    await pushUpstream(repo.bare, { 'x.txt': 'x\n' }, 'New');
    const v = await judge(repo.checkout, { ...pinned, keyRootDir: sharedRoot });
    expect(v.verdict).toBe('behind');
    expect(v.key).toEqual({ path: shared.privateKeyPath, reason: 'shared' });
  });

  it('prefers the checkout\'s own key to the shared one', async () => {
    const repo = await platform.repo('prefers');
    const sharedRoot = path.join(dir, 'prefers-keys');
    await mkdir(sharedRoot);
    if (repo.key === undefined) throw new Error('no key');
    await copyFile(repo.key.privateKeyPath, path.join(sharedRoot, `${repo.name}_deploy_key`));
    await chmod(path.join(sharedRoot, `${repo.name}_deploy_key`), 0o600);
    // The shared key exists but may read nothing: only the own key can succeed.
    await generateDeployKey(sharedRoot, 'id_rsa_git_ssh_read_only');
    const v = await judge(repo.checkout, { ...pinned, keyRootDir: sharedRoot });
    expect(v.verdict).toBe('up-to-date');
    expect(v.key.reason).toBe('per-repo');
  });

  it('reports another repository\'s key as authentication or permission refused', async () => {
    const alpha = await platform.repo('alpha');
    const beta = await platform.repo('beta');
    if (beta.key === undefined) throw new Error('no key');
    // alpha's key slot holds beta's key: the server knows the key, but not for alpha.
    const wrongRoot = path.join(dir, 'wrong-keys');
    await mkdir(wrongRoot);
    await copyFile(beta.key.privateKeyPath, path.join(wrongRoot, `${alpha.name}_deploy_key`));
    await chmod(path.join(wrongRoot, `${alpha.name}_deploy_key`), 0o600);
    const before = await git(alpha.checkout, 'rev-parse', 'origin/main');
    const v = await judge(alpha.checkout, { ...pinned, keyRootDir: wrongRoot });
    expect(v.verdict).toBe('error');
    expect(v.errorKind).toBe('auth-refused');
    expect(v.reason).toContain('authentication or permission refused');
    expect(v.reason).toContain(`Permission to ${alpha.name}.git denied to deploy key`);
    expect(v.reason).toContain(path.join(wrongRoot, `${alpha.name}_deploy_key`));
    expect(await git(alpha.checkout, 'rev-parse', 'origin/main')).toBe(before);
  });

  it('reports a key the server does not know as authentication refused', async () => {
    const repo = await platform.repo('unknown', { authorize: false });
    const v = await judge(repo.checkout, pinned);
    expect(v.errorKind).toBe('auth-refused');
    expect(v.reason).toContain('Permission denied (publickey)');
  });

  it('reports an ssh remote without any deploy key as authentication refused, saying no key was found', async () => {
    const repo = await platform.repo('nokey', { withKey: false });
    const v = await judge(repo.checkout, { ...pinned, keyRootDir: path.join(dir, 'no-such-key-dir') });
    expect(v.key).toEqual({ path: undefined, reason: 'none' });
    expect(v.errorKind).toBe('auth-refused');
    expect(v.reason).toContain('no deploy key was found');
  });

  it('reports a repository the server does not have as not found', async () => {
    const repo = await platform.repo('ghost');
    await git(repo.checkout, 'remote', 'set-url', 'origin', server.url(`${repo.name}-moved`));
    if (repo.key === undefined) throw new Error('no key');
    server.authorize(`${repo.name}-moved`, repo.key.publicKey);
    const v = await judge(repo.checkout, pinned);
    expect(v.errorKind).toBe('repo-not-found');
    expect(v.reason).toContain('Repository not found');
  });

  it('reports a server that refuses connections as unreachable', async () => {
    const repo = await platform.repo('closed');
    const port = await closedPort();
    await git(repo.checkout, 'remote', 'set-url', 'origin', `ssh://git@127.0.0.1:${port}/${repo.name}.git`);
    const v = await judge(repo.checkout, pinned);
    expect(v.errorKind).toBe('unreachable');
    expect(v.reason).toContain('Connection refused');
  });

  it('reports a key readable by others, telling to chmod 600 it, without connecting', async () => {
    const repo = await platform.repo('loose');
    if (repo.key === undefined) throw new Error('no key');
    await chmod(repo.key.privateKeyPath, 0o644);
    const connections = server.stats().connections;
    const v = await judge(repo.checkout, pinned);
    expect(v.verdict).toBe('error');
    expect(v.errorKind).toBe('unsafe-key');
    expect(v.reason).toContain(`chmod 600 ${repo.key.privateKeyPath}`);
    expect(v.reason).toContain('mode 0644');
    expect(server.stats().connections).toBe(connections);
    await chmod(repo.key.privateKeyPath, 0o600);
    expect((await judge(repo.checkout, pinned)).verdict).toBe('up-to-date');
  });

  it('refuses a host missing from the pinned known_hosts file, and leaves the file alone', async () => {
    const repo = await platform.repo('unpinned');
    const other = await startSshGitServer({ root: path.join(dir, 'repos') });
    try {
      const file = await pinnedFile(dir, other, 'other_known_hosts');
      const content = await readFile(file);
      const v = await judge(repo.checkout, { ...pinned, knownHostsFile: file });
      expect(v.errorKind).toBe('host-key-unknown');
      expect(v.reason).toContain(`is not in the pinned known_hosts file ${file}`);
      expect(await readFile(file)).toEqual(content);
    } finally {
      await other.close();
    }
  });

  it('reports a pinned known_hosts file that does not exist', async () => {
    const repo = await platform.repo('nopinned');
    const file = path.join(dir, 'absent_known_hosts');
    const connections = server.stats().connections;
    const v = await judge(repo.checkout, { ...pinned, knownHostsFile: file });
    expect(v.errorKind).toBe('known-hosts');
    expect(v.reason).toContain(`the pinned known_hosts file ${file} cannot be read`);
    expect(server.stats().connections).toBe(connections);
  });

  it('works with key and known_hosts paths that hold spaces, quotes and percent signs', async () => {
    const repo = await platform.repo('oddpath');
    if (repo.key === undefined) throw new Error('no key');
    const oddRoot = path.join(dir, "deploy keys %h 100% it's");
    await mkdir(oddRoot);
    await copyFile(repo.key.privateKeyPath, path.join(oddRoot, `${repo.name}_deploy_key`));
    await chmod(path.join(oddRoot, `${repo.name}_deploy_key`), 0o600);
    const oddKnownHosts = await pinnedFile(oddRoot, server, 'known hosts %d');
    await pushUpstream(repo.bare, { 'x.txt': 'x\n' }, 'New');
    const v = await judge(repo.checkout, { ...pinned, keyRootDir: oddRoot, knownHostsFile: oddKnownHosts });
    expect(v.error).toBeUndefined();
    expect(v.verdict).toBe('behind');
  });

  it(`inspects ${PARALLEL_CHECKOUTS} checkouts at once, each with its own key`, async () => {
    const repos = await Promise.all(Array.from({ length: PARALLEL_CHECKOUTS }, () => platform.repo('many')));
    const pushed = new Map<string, string>();
    for (const repo of repos) pushed.set(repo.checkout, await pushUpstream(repo.bare, { 'n.txt': `${repo.name}\n` }, `Change ${repo.name}`));
    const rejections = server.stats().authRejections;
    const sessions = server.stats().uploadPackSessions;
    const states = await inspectAll(repos.map((r) => r.checkout), pinned);
    expect(states.map((s) => judgeCheckout(s).reason).filter((r) => !r.includes('1 commit behind'))).toEqual([]);
    for (const [i, state] of states.entries()) {
      const repo = repos[i];
      if (repo === undefined) throw new Error('no repo');
      expect(state.path).toBe(repo.checkout);
      expect(state.upstreamHead).toBe(pushed.get(repo.checkout));
      expect(state.key.path).toBe(repo.key?.privateKeyPath);
    }
    // IdentitiesOnly: no checkout offered a key that is not its own.
    expect(server.stats().authRejections).toBe(rejections);
    // Each remote moved: an ls-remote and a fetch for each checkout.
    expect(server.stats().uploadPackSessions).toBe(sessions + 2 * PARALLEL_CHECKOUTS);
  });

  it('transfers no objects when the remote branch has not moved', async () => {
    const repo = await platform.repo('unmoved');
    await pushUpstream(repo.bare, { 'a.txt': 'a\n' }, 'First');
    expect((await judge(repo.checkout, pinned)).verdict).toBe('behind');
    const objects = await objectFiles(repo.checkout);
    const before = server.stats();

    const unmoved = await tracingPackets(dir, () => judge(repo.checkout, pinned));
    expect(unmoved.result.verdict).toBe('behind');
    const after = server.stats();
    // The server was asked, over protocol v2 and in one session, for its branches; the client
    // never sent a fetch command (no wants, no haves), and nothing was stored.
    expect(after.uploadPackSessions).toBe(before.uploadPackSessions + 1);
    expect(after.protocolV2Sessions).toBe(before.protocolV2Sessions + 1);
    expect(unmoved.sent).toContain('command=ls-refs');
    expect(unmoved.sent).toContain('ref-prefix refs/heads/');
    expect(unmoved.sent).not.toContain('command=fetch');
    expect(await objectFiles(repo.checkout)).toEqual(objects);

    // The same measures see a transfer when there is one.
    await pushUpstream(repo.bare, { 'b.txt': 'b\n' }, 'Second');
    const moved = await tracingPackets(dir, () => judge(repo.checkout, pinned));
    expect(moved.result.behind).toBe(2);
    expect(moved.sent).toContain('command=fetch');
    expect((await objectFiles(repo.checkout)).length).toBeGreaterThan(objects.length);
  });

  it('stops a fetch from a server that never answers, at the timeout', async () => {
    const repo = await platform.repo('silent');
    const sockets = new Set<net.Socket>();
    let closedSockets = 0;
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      // Flowing, so that the client's hang-up is seen.
      socket.resume();
      socket.on('error', () => {});
      socket.once('close', () => { closedSockets += 1; });
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const address = silent.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      await git(repo.checkout, 'remote', 'set-url', 'origin', `ssh://git@127.0.0.1:${address.port}/${repo.name}.git`);
      const started = Date.now();
      const v = await judge(repo.checkout, { ...pinned, timeoutMs: 1000, connectTimeoutSeconds: 4 });
      expect(Date.now() - started).toBeLessThan(3500);
      expect(v.errorKind).toBe('timeout');
      expect(v.reason).toContain('made no progress and was stopped');
      expect(sockets.size).toBe(1);
      // git does not take ssh down with it; ssh's own connect timeout bounds how long it stays.
      const deadline = Date.now() + 10_000;
      while (closedSockets < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closedSockets).toBe(1);

      // ssh's own limit on the banner, when it comes first, is reported the same way.
      const banner = await judge(repo.checkout, { ...pinned, timeoutMs: 60_000, connectTimeoutSeconds: 1 });
      expect(banner.errorKind).toBe('timeout');
      expect(banner.reason).toContain('banner exchange');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('host keys', () => {
  let dir: string;
  let server: SshGitServer;
  let platform: Platform;

  beforeAll(async () => {
    dir = await makeTempDir('git-ssh-hostkeys');
    await mkdir(path.join(dir, 'repos'));
    server = await startSshGitServer({ root: path.join(dir, 'repos') });
    platform = new Platform(dir, server, path.join(dir, 'keys'));
  });

  afterAll(async () => {
    await server.close();
    await removeTempDir(dir);
  });

  it('trusts a host on first use, remembers it in the state directory, and refuses it once its key changed', async () => {
    const repo = await platform.repo('tofu');
    const policy = hostKeyPolicy({ pinnedKnownHosts: undefined, stateDir: path.join(dir, 'state', 'nested') });
    expect(policy).toEqual({ knownHostsFile: path.join(dir, 'state', 'nested', 'known_hosts'), pinned: false });
    const options: InspectOptions = { keyRootDir: platform.keyRoot, ...policy, timeoutMs: 30_000 };
    const host = `[127.0.0.1]:${server.port}`;

    expect((await judge(repo.checkout, options)).verdict).toBe('up-to-date');
    const entry = await knownHostsEntry(policy.knownHostsFile, host);
    expect(entry.split(' ').slice(1).join(' ')).toBe(server.hostPublicKey());
    const trusted = await readFile(policy.knownHostsFile);

    // Known now: accepted again, and not written twice.
    await pushUpstream(repo.bare, { 'x.txt': 'x\n' }, 'New');
    expect((await judge(repo.checkout, options)).verdict).toBe('behind');
    expect(await readFile(policy.knownHostsFile)).toEqual(trusted);

    await server.restartWithNewHostKey();
    const before = await git(repo.checkout, 'rev-parse', 'origin/main');
    await pushUpstream(repo.bare, { 'y.txt': 'y\n' }, 'Newer');
    const v = await judge(repo.checkout, options);
    expect(v.verdict).toBe('error');
    expect(v.errorKind).toBe('host-key-changed');
    expect(v.reason).toContain(`the host key of ${host} has changed since it was trusted in ${policy.knownHostsFile}`);
    expect(v.reason).toContain('ssh-keygen -R');
    expect(await readFile(policy.knownHostsFile)).toEqual(trusted);
    expect(await git(repo.checkout, 'rev-parse', 'origin/main')).toBe(before);
  });

  it('refuses a changed host key with a pinned file, and leaves the file alone', async () => {
    const repo = await platform.repo('pinned');
    const file = await pinnedFile(dir, server);
    const options: InspectOptions = { keyRootDir: platform.keyRoot, ...hostKeyPolicy({ pinnedKnownHosts: file, stateDir: path.join(dir, 'unused') }), timeoutMs: 30_000 };
    expect(options.pinned).toBe(true);
    expect((await judge(repo.checkout, options)).verdict).toBe('up-to-date');
    const content = await readFile(file);
    await server.restartWithNewHostKey();
    const v = await judge(repo.checkout, options);
    expect(v.errorKind).toBe('host-key-changed');
    expect(v.reason).toContain('then add its new key to that file');
    expect(await readFile(file)).toEqual(content);
  });
});
