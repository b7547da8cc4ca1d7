import { copyFile, lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockHolderAlive } from '../../src/cli/deploy-setup.js';
import { dockerMountingContainers } from '../../src/docker/mounting-containers.js';
import { connectDocker } from '../../src/docker/job-containers.js';
import { SHARED_DEPLOY_KEY } from '../../src/git/deploy-keys.js';
import { cacheDirFor } from '../../src/git/source-cache.js';
import { runNotebookDeploy, type NotebookReport } from '../../src/notebooks/notebook-deploy.js';
import type { NotebookSource } from '../../src/core/notebook-source.js';
import { notebookEventText } from '../../src/core/notebook-event-text.js';
import { createBareUpstream, generateDeployKey, git, makeTempDir, pushUpstream, removeTempDir, type DeployKey } from '../fixtures/git-repos.js';
import { requireOpenSshClient, startSshGitServer, type SshGitServer } from '../fixtures/ssh-git-server.js';
import { tracingPackets } from '../fixtures/git-trace.js';

// Notebook sources over a real SSH git server that accepts each deploy key for its own
// repository only, with host keys checked: keys are chosen by repository name, and a source
// that has not moved costs one ref advertisement and transfers nothing.

let dir: string;
let server: SshGitServer;
let keyRoot: string;
let pinned: string;

beforeAll(async () => {
  await requireOpenSshClient();
  dir = await makeTempDir('notebook-ssh');
  await mkdir(path.join(dir, 'repos'));
  server = await startSshGitServer({ root: path.join(dir, 'repos') });
  keyRoot = path.join(dir, 'keys');
  pinned = path.join(dir, 'pinned_known_hosts');
  await writeFile(pinned, `${server.knownHostsLine()}\n`);
});

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) await removeTempDir(dir);
});

let counter = 0;

/** A repository on the server, and (unless withKey is false) its own deploy key, authorized for it alone. */
async function repo(prefix: string, options: { withKey?: boolean } = {}): Promise<{ name: string; bare: string; url: string; key: DeployKey | undefined }> {
  counter += 1;
  const name = `${prefix}${counter}`;
  const bare = await createBareUpstream(server.root, name, { 'notebooks/a.ipynb': '{"a": 1}\n', 'notebooks/b.ipynb': '{"b": 1}\n' });
  let key: DeployKey | undefined;
  if (options.withKey ?? true) {
    key = await generateDeployKey(keyRoot, `${name}_deploy_key`);
    server.authorize(name, key.publicKey);
  }
  return { name, bare, url: server.url(name), key };
}

function source(url: string): NotebookSource {
  return { url, ref: 'main', subdir: 'notebooks', glob: '*.ipynb', dest: '', line: undefined };
}

async function scene(options: { pinnedKnownHosts?: string | undefined; keyRootDir?: string } = {}) {
  counter += 1;
  const root = path.join(dir, `scene${counter}`);
  const lines: string[] = [];
  const target = path.join(root, 'user-data', 'tutorial-notebooks');
  const stateDir = path.join(root, 'state');
  const run = (sources: readonly NotebookSource[]): Promise<NotebookReport> =>
    runNotebookDeploy({
      sources,
      target,
      owner: { uid: 0, gid: 0 },
      stateDir,
      keyRootDir: options.keyRootDir ?? keyRoot,
      pinnedKnownHosts: 'pinnedKnownHosts' in options ? options.pinnedKnownHosts : pinned,
      containers: dockerMountingContainers(connectDocker()),
      isLockHolderAlive: lockHolderAlive(process.env),
      onEvent: (event) => lines.push(notebookEventText(event)),
      dryRun: false,
      gitTimeoutMs: 30_000,
      connectTimeoutSeconds: 5,
    });
  return { root, target, stateDir, lines, run };
}

/** Every file under the cache's objects/: a fetch that transfers objects adds loose objects or a pack. */
async function cacheObjects(stateDir: string, url: string, name: string): Promise<string[]> {
  const root = path.join(cacheDirFor(path.join(stateDir, 'notebooks', 'cache'), url, name), 'objects');
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
}

describe('notebook sources over ssh', () => {
  it('fetches with the repository\'s own deploy key; an unmoved source then costs one ref advertisement and transfers nothing', async () => {
    const r = await repo('tutorials');
    const s = await scene();
    const before = server.stats();
    const first = await s.run([source(r.url)]);
    expect(first.outcome, first.message).toBe('published');
    expect(s.lines.find((l) => l.startsWith('source 1'))).toContain(`deploy key ${path.join(keyRoot, `${r.name}_deploy_key`)} (per-repo)`);
    expect(server.stats().uploadPackSessions).toBe(before.uploadPackSessions + 1);

    const objects = await cacheObjects(s.stateDir, r.url, r.name);
    const linkBefore = await lstat(s.target);
    const sessions = server.stats();
    const unmoved = await tracingPackets(dir, () => s.run([source(r.url)]));
    expect(unmoved.result.outcome).toBe('unchanged');
    const after = server.stats();
    // Asked over protocol v2 for the one ref; no fetch command (no wants, no haves), nothing stored.
    expect(after.uploadPackSessions).toBe(sessions.uploadPackSessions + 1);
    expect(after.protocolV2Sessions).toBe(sessions.protocolV2Sessions + 1);
    expect(unmoved.sent).toContain('command=ls-refs');
    expect(unmoved.sent).toContain('ref-prefix refs/heads/main');
    expect(unmoved.sent).not.toContain('command=fetch');
    expect(await cacheObjects(s.stateDir, r.url, r.name)).toEqual(objects);
    const linkAfter = await lstat(s.target);
    expect([linkAfter.ino, linkAfter.mtimeMs]).toEqual([linkBefore.ino, linkBefore.mtimeMs]);

    // The same measures see a transfer when there is one.
    await pushUpstream(r.bare, { 'notebooks/a.ipynb': '{"a": 2}\n' }, 'Change a');
    const moved = await tracingPackets(dir, () => s.run([source(r.url)]));
    expect(moved.result.outcome).toBe('published');
    expect(moved.result.changes).toEqual({ added: [], changed: ['a.ipynb'], removed: [] });
    expect(moved.sent).toContain('command=fetch');
    expect((await cacheObjects(s.stateDir, r.url, r.name)).length).toBeGreaterThan(objects.length);
    expect(await readFile(path.join(s.target, 'a.ipynb'), 'utf8')).toBe('{"a": 2}\n');
  });

  it('does not even connect for a source pinned to a commit the cache already has', async () => {
    const r = await repo('pinned');
    const pinnedSource = { ...source(r.url), ref: (await git(r.bare, 'rev-parse', 'main')).trim() };
    const s = await scene();
    const before = server.stats();
    expect((await s.run([pinnedSource])).outcome).toBe('published');
    expect(server.stats().uploadPackSessions).toBe(before.uploadPackSessions + 1);

    await pushUpstream(r.bare, { 'notebooks/a.ipynb': '{"a": "moved on"}\n' }, 'Move main on');
    const connections = server.stats().connections;
    const again = await s.run([pinnedSource]);
    expect(again.outcome).toBe('unchanged');
    expect(server.stats().connections).toBe(connections);
    expect(await readFile(path.join(s.target, 'a.ipynb'), 'utf8')).toBe('{"a": 1}\n');
  });

  it('falls back to the shared read-only key when the repository has none of its own', async () => {
    const r = await repo('sharedkey', { withKey: false });
    const sharedRoot = path.join(dir, 'shared-keys');
    const shared = await generateDeployKey(sharedRoot, SHARED_DEPLOY_KEY);
    server.authorize(r.name, shared.publicKey);
    const s = await scene({ keyRootDir: sharedRoot });
    const report = await s.run([source(r.url)]);
    expect(report.outcome, report.message).toBe('published');
    expect(s.lines.find((l) => l.startsWith('source 1'))).toContain(`deploy key ${shared.privateKeyPath} (shared)`);
  });

  it('publishes nothing when a source\'s key is refused, and says which key to register', async () => {
    const good = await repo('allowed');
    const refused = await repo('refused');
    // The key on disk for "refused" is another repository's: the server does not know it for this one.
    await copyFile(good.key?.privateKeyPath ?? '', path.join(keyRoot, `${refused.name}_deploy_key`));
    const s = await scene();
    const first = await s.run([source(good.url)]);
    const report = await s.run([source(good.url), source(refused.url)]);
    expect(report.outcome).toBe('failed');
    expect(report.sources[1]?.error).toMatch(
      new RegExp(`^source 2 \\(.*${refused.name}\\.git main notebooks/\\): fetching main from .*: authentication or permission refused for the deploy key .*${refused.name}_deploy_key .*register .*${refused.name}_deploy_key\\.pub as a read-only deploy key`),
    );
    expect(path.basename(await readlink(s.target))).toBe(first.version);
  });

  it('checks host keys: trusts a server on first use, then refuses it once its key changes', async () => {
    const r = await repo('tofu');
    const s = await scene({});
    const trusting = await scene({ pinnedKnownHosts: undefined });
    const first = await trusting.run([source(r.url)]);
    expect(first.outcome, first.message).toBe('published');
    const known = await readFile(path.join(trusting.stateDir, 'known_hosts'), 'utf8');
    expect(known).toContain(server.hostPublicKey().split(' ')[1]);

    await server.restartWithNewHostKey();
    try {
      await pushUpstream(r.bare, { 'notebooks/c.ipynb': '{}\n' }, 'Add c');
      const report = await trusting.run([source(r.url)]);
      expect(report.outcome).toBe('failed');
      expect(report.sources[0]?.error).toContain('has changed since it was trusted in');
      expect(await readFile(path.join(trusting.stateDir, 'known_hosts'), 'utf8')).toBe(known);
      // The pinned file does not know the new key either.
      const pinnedRun = await s.run([source(r.url)]);
      expect(pinnedRun.outcome).toBe('failed');
      expect(pinnedRun.sources[0]?.error).toMatch(/host key/);
    } finally {
      await writeFile(pinned, `${server.knownHostsLine()}\n`);
    }
  });
});
