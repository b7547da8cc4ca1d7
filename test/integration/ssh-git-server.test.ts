import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cloneCheckout,
  createBareUpstream,
  deployKeySshCommand,
  generateDeployKey,
  git,
  GitCommandError,
  makeTempDir,
  pushUpstream,
  removeTempDir,
  runGit,
  sealedGitEnv,
  type DeployKey,
} from '../fixtures/git-repos.js';
import { requireOpenSshClient, startSshGitServer, type SshGitServer } from '../fixtures/ssh-git-server.js';

const PARALLEL_REPOS = 20;

/** Offers one public key and signs with whatever private key it was given. */
class SigningAgent extends ssh2.BaseAgent<ParsedKey> {
  constructor(private readonly offered: ParsedKey, private readonly signer: ParsedKey) {
    super();
  }

  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.offered]);
  }

  sign(_pubKey: ParsedKey, data: Buffer, options: unknown, cb?: (err: Error | undefined, signature?: Buffer) => void): void {
    const callback = typeof options === 'function' ? options as typeof cb : cb;
    callback?.(undefined, this.signer.sign(data));
  }
}

async function loadKey(file: string): Promise<ParsedKey> {
  const parsed = ssh2.utils.parseKey(await readFile(file));
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || key instanceof Error) throw new Error(`cannot parse ${file}`, { cause: key });
  return key;
}

/** Authenticates with ssh2's own client through the agent, then asks for the ref advertisement. */
function refAdvertisementThroughAgent(server: SshGitServer, agent: SigningAgent, repo: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', (error) => {
      client.end();
      reject(error);
    });
    client.on('ready', () => {
      client.exec(`git-upload-pack '/${repo}.git'`, (error, channel) => {
        if (error !== undefined && error !== null) {
          client.end();
          reject(error);
          return;
        }
        channel.once('data', (chunk: Buffer) => {
          client.end();
          resolve(chunk.toString());
        });
      });
    });
    client.connect({
      host: server.host,
      port: server.port,
      username: 'git',
      agent,
      hostVerifier: (key: Buffer) => key.toString('base64') === server.hostPublicKey().split(' ')[1],
    });
  });
}

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runProcess(command: string, args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<ProcessResult> {
  return new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The stderr of a git command that must fail; fails the test if it succeeds. */
async function gitFailure(run: Promise<string>): Promise<GitCommandError> {
  const outcome = await run.then(
    (stdout) => new Error(`expected git to fail, but it succeeded with: ${stdout}`),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(GitCommandError);
  return outcome as GitCommandError;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

beforeAll(async () => {
  // Fails, rather than skips, on a machine without the client: these tests are the only proof of deploy-key handling.
  await requireOpenSshClient();
});

describe('SSH git server with per-repository deploy keys', () => {
  let dir: string;
  let server: SshGitServer;
  let knownHosts: string;
  const keys: Record<string, DeployKey> = {};
  const upstreams: Record<string, string> = {};

  const sshWith = (key: DeployKey): string =>
    deployKeySshCommand({ privateKeyPath: key.privateKeyPath, knownHostsPath: knownHosts, strictHostKeyChecking: 'yes' });

  beforeAll(async () => {
    dir = await makeTempDir('ssh-git-server');
    const root = path.join(dir, 'repos');
    upstreams.alpha = await createBareUpstream(root, 'alpha', { 'README.md': '# alpha\n' });
    upstreams.beta = await createBareUpstream(root, 'beta', { 'README.md': '# beta\n' }, { branch: 'production' });
    upstreams.writable = await createBareUpstream(root, 'writable', { 'env.local': 'export A=1\n' });
    for (const name of ['alpha', 'beta', 'writable', 'ghost', 'stranger']) {
      keys[name] = await generateDeployKey(path.join(dir, 'keys'), `${name}_deploy_key`);
    }
    server = await startSshGitServer({ root });
    server.authorize('alpha', keys.alpha!.publicKey);
    server.authorize('beta', keys.beta!.publicKey);
    server.authorize('writable', keys.writable!.publicKey, { push: true });
    // Authorized, but no such repository exists under the root.
    server.authorize('ghost', keys.ghost!.publicKey);
    knownHosts = path.join(dir, 'known_hosts');
    await writeFile(knownHosts, `${server.knownHostsLine()}\n`);
  });

  afterAll(async () => {
    await server?.close();
    if (dir !== undefined) await removeTempDir(dir);
  });

  it('clones, then fetches a new upstream commit, with the repository\'s own key over protocol v2', async () => {
    const before = server.stats();
    const checkout = await cloneCheckout(server.url('alpha'), path.join(dir, 'work', 'alpha'), { sshCommand: sshWith(keys.alpha!) });
    expect(await readFile(path.join(checkout, 'README.md'), 'utf8')).toBe('# alpha\n');

    const pushed = await pushUpstream(upstreams.alpha!, { 'docker-compose.yml': 'services: {}\n' }, 'Add compose file');
    await runGit({ cwd: checkout, sshCommand: sshWith(keys.alpha!) }, ['fetch', '--quiet', 'origin']);
    expect((await git(checkout, 'rev-parse', 'origin/main')).trim()).toBe(pushed);

    const after = server.stats();
    expect(after.uploadPackSessions - before.uploadPackSessions).toBe(2);
    expect(after.protocolV2Sessions - before.protocolV2Sessions).toBe(2);
  });

  it('lists refs with git ls-remote', async () => {
    const head = (await git(upstreams.beta!, 'rev-parse', 'refs/heads/production')).trim();
    const refs = await runGit({ cwd: dir, sshCommand: sshWith(keys.beta!) }, ['ls-remote', server.url('beta')]);
    expect(refs).toContain(`${head}\trefs/heads/production`);
    expect(refs).toContain(`${head}\tHEAD`);
  });

  it('authenticates another repository\'s key but refuses it the repository, with a message naming the repository', async () => {
    const before = server.stats();
    const failure = await gitFailure(
      cloneCheckout(server.url('beta'), path.join(dir, 'work', 'beta-with-alpha-key'), { sshCommand: sshWith(keys.alpha!) }),
    );
    expect(failure.stderr).toContain('ERROR: Permission to beta.git denied to deploy key SHA256:');
    expect(failure.stderr).toContain('Could not read from remote repository');
    const after = server.stats();
    expect(after.authenticated - before.authenticated).toBe(1);
    expect(after.refusedCommands - before.refusedCommands).toBe(1);
    expect(after.uploadPackSessions).toBe(before.uploadPackSessions);
  });

  it('fails authentication for a key no repository knows', async () => {
    const before = server.stats();
    const failure = await gitFailure(
      runGit({ cwd: dir, sshCommand: sshWith(keys.stranger!) }, ['ls-remote', server.url('alpha')]),
    );
    expect(failure.stderr).toContain('Permission denied (publickey)');
    const after = server.stats();
    expect(after.authenticated).toBe(before.authenticated);
    expect(after.authRejections).toBeGreaterThan(before.authRejections);
    expect(after.uploadPackSessions).toBe(before.uploadPackSessions);
  });

  it('checks the signature, not only the offered public key', async () => {
    const alphaPublic = await loadKey(keys.alpha!.publicKeyPath);
    const alphaPrivate = await loadKey(keys.alpha!.privateKeyPath);
    const strangerPrivate = await loadKey(keys.stranger!.privateKeyPath);

    const genuine = await refAdvertisementThroughAgent(server, new SigningAgent(alphaPublic, alphaPrivate), 'alpha');
    expect(genuine).toContain('refs/heads/main');

    const before = server.stats();
    const forged = await refAdvertisementThroughAgent(server, new SigningAgent(alphaPublic, strangerPrivate), 'alpha').then(
      () => new Error('a signature from another key was accepted'),
      (error: unknown) => error,
    );
    expect(forged).toMatchObject({ level: 'client-authentication' });
    expect(server.stats().authenticated).toBe(before.authenticated);
    expect(server.stats().uploadPackSessions).toBe(before.uploadPackSessions);
  });

  it('answers "Repository not found" for an authorized name with no repository behind it', async () => {
    const failure = await gitFailure(
      runGit({ cwd: dir, sshCommand: sshWith(keys.ghost!) }, ['ls-remote', server.url('ghost')]),
    );
    expect(failure.stderr).toContain('ERROR: Repository not found.');
  });

  it('refuses a push with a read-only key and accepts one with a push key', async () => {
    const readOnly = await cloneCheckout(server.url('alpha'), path.join(dir, 'work', 'alpha-push'), { sshCommand: sshWith(keys.alpha!) });
    await writeFile(path.join(readOnly, 'local.txt'), 'local\n');
    await git(readOnly, 'add', 'local.txt');
    await git(readOnly, 'commit', '--quiet', '-m', 'Local change');
    const refused = await gitFailure(runGit({ cwd: readOnly, sshCommand: sshWith(keys.alpha!) }, ['push', 'origin', 'HEAD']));
    expect(refused.stderr).toContain('ERROR: The key you are authenticating with has been marked as read only.');

    const writable = await cloneCheckout(server.url('writable'), path.join(dir, 'work', 'writable'), { sshCommand: sshWith(keys.writable!) });
    await writeFile(path.join(writable, 'env.local'), 'export A=2\n');
    await git(writable, 'commit', '--quiet', '-am', 'Bump A');
    const local = (await git(writable, 'rev-parse', 'HEAD')).trim();
    const before = server.stats();
    await runGit({ cwd: writable, sshCommand: sshWith(keys.writable!) }, ['push', '--quiet', 'origin', 'HEAD']);
    expect((await git(upstreams.writable!, 'rev-parse', 'refs/heads/main')).trim()).toBe(local);
    expect(server.stats().receivePackSessions - before.receivePackSessions).toBe(1);
  });

  it('refuses commands other than git-upload-pack and git-receive-pack, and paths outside its root', async () => {
    const env = sealedGitEnv(dir);
    const ssh = (command: string): Promise<ProcessResult> => runProcess('ssh', [
      '-i', keys.alpha!.privateKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
      '-p', String(server.port), `git@${server.host}`, command,
    ], { cwd: dir, env });

    const shell = await ssh('cat /etc/passwd');
    expect(shell.code).toBe(128);
    expect(shell.stderr).toContain('ERROR: Only git-upload-pack and git-receive-pack are served here');
    expect(shell.stdout).toBe('');

    const traversal = await ssh(`git-upload-pack '/../repos/alpha.git'`);
    expect(traversal.code).toBe(128);
    expect(traversal.stderr).toContain('ERROR: Repository not found.');
    expect(traversal.stdout).toBe('');

    const chained = await ssh(`git-upload-pack '/alpha.git'; cat /etc/passwd`);
    expect(chained.code).toBe(128);
    expect(chained.stderr).toContain('ERROR: Repository not found.');
    expect(chained.stdout).toBe('');

    // The control: the same key and quoting, well formed, is served.
    const advertised = await ssh(`git-upload-pack '/alpha.git'`);
    expect(advertised.stdout).toContain('refs/heads/main');
  });

  it('keeps serving others when clients send garbage, stall in the handshake, or vanish mid-session', async () => {
    const garbage = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => garbage.once('connect', () => resolve()));
    garbage.write('GET / HTTP/1.1\r\nHost: example\r\n\r\n');
    const stalled = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));

    // An upload-pack session killed right after the ref advertisement.
    const vanishing = spawn('ssh', [
      '-i', keys.alpha!.privateKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
      '-p', String(server.port), `git@${server.host}`, `git-upload-pack '/alpha.git'`,
    ], { cwd: dir, env: sealedGitEnv(dir), stdio: ['pipe', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => vanishing.stdout.once('data', () => resolve()));
    expect(server.stats().activeGitProcesses).toBeGreaterThan(0);
    const vanished = new Promise<void>((resolve) => vanishing.once('close', () => resolve()));
    vanishing.kill('SIGKILL');
    await vanished;

    const refs = await runGit({ cwd: dir, sshCommand: sshWith(keys.alpha!) }, ['ls-remote', server.url('alpha')]);
    expect(refs).toContain('refs/heads/main');
    await waitFor('the vanished session\'s git process to be reaped', () => server.stats().activeGitProcesses === 0);

    garbage.destroy();
    stalled.destroy();
  });

  it(`fetches ${PARALLEL_REPOS} repositories in parallel, each with its own key`, async () => {
    const root = path.join(dir, 'repos');
    const names = Array.from({ length: PARALLEL_REPOS }, (_, i) => `parallel-${String(i).padStart(2, '0')}`);
    const repos = await Promise.all(names.map(async (name) => {
      const upstream = await createBareUpstream(root, name, { 'README.md': `# ${name}\n` });
      const key = await generateDeployKey(path.join(dir, 'keys'), `${name}_deploy_key`);
      server.authorize(name, key.publicKey);
      const checkout = await cloneCheckout(server.url(name), path.join(dir, 'work', name), { sshCommand: sshWith(key) });
      const pushed = await pushUpstream(upstream, { 'version.txt': `${name} v2\n` }, `Release ${name} v2`);
      return { name, key, checkout, pushed };
    }));

    const before = server.stats();
    const started = performance.now();
    await Promise.all(repos.map((repo) =>
      runGit({ cwd: repo.checkout, sshCommand: sshWith(repo.key) }, ['fetch', '--quiet', 'origin'])));
    const elapsedMs = performance.now() - started;
    console.info(`${PARALLEL_REPOS} parallel SSH fetches took ${elapsedMs.toFixed(0)} ms`);

    for (const repo of repos) {
      expect((await git(repo.checkout, 'rev-parse', 'origin/main')).trim(), repo.name).toBe(repo.pushed);
    }
    const after = server.stats();
    expect(after.uploadPackSessions - before.uploadPackSessions).toBe(PARALLEL_REPOS);
    expect(after.connections - before.connections).toBe(PARALLEL_REPOS);
    expect(after.refusedCommands).toBe(before.refusedCommands);
  });
});

describe('SSH git server host key', () => {
  let dir: string;
  let server: SshGitServer | undefined;
  let key: DeployKey;
  let upstream: string;

  beforeAll(async () => {
    dir = await makeTempDir('ssh-git-host-key');
    upstream = await createBareUpstream(path.join(dir, 'repos'), 'platform', { 'env.local': 'export A=1\n' });
    key = await generateDeployKey(path.join(dir, 'keys'), 'platform_deploy_key');
  });

  afterAll(async () => {
    await server?.close();
    if (dir !== undefined) await removeTempDir(dir);
  });

  async function freshServer(): Promise<SshGitServer> {
    await server?.close();
    server = await startSshGitServer({ root: path.join(dir, 'repos') });
    server.authorize('platform', key.publicKey);
    return server;
  }

  function expectChangedHostKeyRefusal(failure: GitCommandError): void {
    expect(failure.stderr).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(failure.stderr).toContain('Host key verification failed');
  }

  it('refuses a changed host key when the key is pinned, and serves again once the new key is pinned', async () => {
    const current = await freshServer();
    const knownHosts = path.join(dir, 'pinned_known_hosts');
    await writeFile(knownHosts, `${current.knownHostsLine()}\n`);
    const sshCommand = deployKeySshCommand({ privateKeyPath: key.privateKeyPath, knownHostsPath: knownHosts, strictHostKeyChecking: 'yes' });
    const checkout = await cloneCheckout(current.url('platform'), path.join(dir, 'pinned'), { sshCommand });

    const oldHostKey = current.hostPublicKey();
    const port = current.port;
    await current.restartWithNewHostKey();
    expect(current.port).toBe(port);
    expect(current.hostPublicKey()).not.toBe(oldHostKey);

    const pushed = await pushUpstream(upstream, { 'env.local': 'export A=2\n' }, 'Change A');
    const before = current.stats();
    const failure = await gitFailure(runGit({ cwd: checkout, sshCommand }, ['fetch', 'origin']));
    expectChangedHostKeyRefusal(failure);
    expect(current.stats().authenticated).toBe(before.authenticated);
    expect(await readFile(knownHosts, 'utf8')).toBe(`[127.0.0.1]:${port} ${oldHostKey}\n`);

    await writeFile(knownHosts, `${current.knownHostsLine()}\n`);
    await runGit({ cwd: checkout, sshCommand }, ['fetch', '--quiet', 'origin']);
    expect((await git(checkout, 'rev-parse', 'origin/main')).trim()).toBe(pushed);
  });

  it('records the host key on first use with accept-new, then refuses a changed one', async () => {
    const current = await freshServer();
    const knownHosts = path.join(dir, 'tofu_known_hosts');
    await writeFile(knownHosts, '');
    const sshCommand = deployKeySshCommand({ privateKeyPath: key.privateKeyPath, knownHostsPath: knownHosts, strictHostKeyChecking: 'accept-new' });
    const checkout = await cloneCheckout(current.url('platform'), path.join(dir, 'tofu'), { sshCommand });

    // Debian's ssh_config hashes host names, so look the entry up the way ssh does.
    const lookup = await runProcess('ssh-keygen', ['-F', `[127.0.0.1]:${current.port}`, '-f', knownHosts], { cwd: dir, env: sealedGitEnv(dir) });
    expect(lookup.code).toBe(0);
    expect(lookup.stdout).toContain(current.hostPublicKey());
    const recorded = await readFile(knownHosts, 'utf8');

    await current.restartWithNewHostKey();
    const failure = await gitFailure(runGit({ cwd: checkout, sshCommand }, ['fetch', 'origin']));
    expectChangedHostKeyRefusal(failure);
    expect(await readFile(knownHosts, 'utf8')).toBe(recorded);
  });

  it('close() ends open sessions and stops listening', async () => {
    const current = await freshServer();
    const knownHosts = path.join(dir, 'close_known_hosts');
    await writeFile(knownHosts, `${current.knownHostsLine()}\n`);
    // upload-pack waits for the client's wants after its advertisement: a session that stays open.
    const open = spawn('ssh', [
      '-i', key.privateKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
      '-p', String(current.port), `git@${current.host}`, `git-upload-pack '/platform.git'`,
    ], { cwd: dir, env: sealedGitEnv(dir), stdio: ['pipe', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => open.stdout.once('data', () => resolve()));
    const ended = new Promise<number | null>((resolve) => open.once('close', (code) => resolve(code)));

    await current.close();
    server = undefined;
    expect(await ended).not.toBe(0);
    expect(current.stats().activeGitProcesses).toBe(0);
    expect(await connectionRefused(current.port)).toBe(true);
  });
});
