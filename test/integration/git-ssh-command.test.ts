import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { knownHostsName, redactCredentials } from '../../src/core/remote-url.js';
import { hostKeyPolicy, sshCommandFor, UnusableSshPathError } from '../../src/git/ssh-command.js';
import { requireOpenSshClient } from '../fixtures/ssh-git-server.js';

/** What ssh makes of the command, as `ssh -G` prints it: run through /bin/sh, as git runs it. */
async function effectiveConfig(sshCommand: string): Promise<Map<string, string[]>> {
  await requireOpenSshClient();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `${sshCommand} -G -p 2222 git@example.invalid`], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ssh -G exited with ${String(code)}: ${err}`))));
  });
  const config = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    if (space === -1) continue;
    const key = line.slice(0, space);
    config.set(key, [...(config.get(key) ?? []), line.slice(space + 1)]);
  }
  return config;
}

describe('sshCommandFor', () => {
  it('uses the checkout\'s key only, never prompts, and checks host keys against the pinned file', async () => {
    const command = sshCommandFor({ key: { path: '/keys/platform_deploy_key', reason: 'per-repo' }, knownHostsFile: '/etc/autodeploy/known_hosts', pinned: true });
    expect(command).toBe('ssh -o IdentityFile=/keys/platform_deploy_key -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=/etc/autodeploy/known_hosts -o StrictHostKeyChecking=yes -o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4');
    const config = await effectiveConfig(command);
    expect(config.get('identityfile')).toEqual(['/keys/platform_deploy_key']);
    expect(config.get('identitiesonly')).toEqual(['yes']);
    expect(config.get('batchmode')).toEqual(['yes']);
    expect(config.get('userknownhostsfile')).toEqual(['/etc/autodeploy/known_hosts']);
    expect(config.get('stricthostkeychecking')).toEqual(['true']);
    expect(config.get('connecttimeout')).toEqual(['20']);
  });

  it('trusts new hosts on first use, and only new ones, when nothing is pinned', async () => {
    const command = sshCommandFor({ key: { path: '/keys/id_rsa_git_ssh_read_only', reason: 'shared' }, knownHostsFile: '/var/lib/autodeploy/known_hosts', pinned: false });
    expect(command).toContain('StrictHostKeyChecking=accept-new');
    expect((await effectiveConfig(command)).get('stricthostkeychecking')).toEqual(['accept-new']);
  });

  it('never turns host key checking off', () => {
    for (const pinned of [true, false]) {
      for (const key of [{ path: '/k', reason: 'per-repo' as const }, { path: undefined, reason: 'none' as const }]) {
        const command = sshCommandFor({ key, knownHostsFile: '/kh', pinned });
        expect(command).not.toMatch(/StrictHostKeyChecking=(no|off)/);
        expect(command).not.toContain('/dev/null');
      }
    }
  });

  it('names no key without one, and keeps the same host key policy', async () => {
    const command = sshCommandFor({ key: { path: undefined, reason: 'none' }, knownHostsFile: '/state/known_hosts', pinned: true });
    expect(command).not.toContain('IdentityFile');
    expect(command).not.toContain('IdentitiesOnly');
    const config = await effectiveConfig(command);
    expect(config.get('stricthostkeychecking')).toEqual(['true']);
    expect(config.get('userknownhostsfile')).toEqual(['/state/known_hosts']);
  });

  it('keeps paths with spaces, quotes and percent signs whole through the shell and ssh', async () => {
    const command = sshCommandFor({ key: { path: "/keys/my keys/it's %h_deploy_key", reason: 'per-repo' }, knownHostsFile: '/state dir/100% known_hosts', pinned: false, connectTimeoutSeconds: 7 });
    const config = await effectiveConfig(command);
    // ssh -G prints IdentityFile before expanding its tokens (%% becomes % when the key is read).
    expect(config.get('identityfile')).toEqual(["/keys/my keys/it's %%h_deploy_key"]);
    expect(config.get('userknownhostsfile')).toEqual(['/state dir/100% known_hosts']);
    expect(config.get('connecttimeout')).toEqual(['7']);
  });

  it('refuses paths ssh would read as something else', () => {
    const base = { knownHostsFile: '/kh', pinned: true } as const;
    expect(() => sshCommandFor({ ...base, key: { path: 'relative/key', reason: 'per-repo' } })).toThrow(UnusableSshPathError);
    expect(() => sshCommandFor({ ...base, key: { path: '/keys/${HOME}/k', reason: 'per-repo' } })).toThrow('environment variable');
    expect(() => sshCommandFor({ ...base, key: { path: '/keys/"quoted"', reason: 'per-repo' } })).toThrow('double quote');
    expect(() => sshCommandFor({ key: { path: undefined, reason: 'none' }, knownHostsFile: '/kh\nx', pinned: true })).toThrow('control character');
  });
});

describe('hostKeyPolicy', () => {
  it('pins the operator\'s file when given, and otherwise trusts on first use in the state directory', () => {
    expect(hostKeyPolicy({ pinnedKnownHosts: '/etc/ssh/pinned', stateDir: '/var/lib/autodeploy' })).toEqual({ knownHostsFile: '/etc/ssh/pinned', pinned: true });
    expect(hostKeyPolicy({ pinnedKnownHosts: undefined, stateDir: '/var/lib/autodeploy' })).toEqual({ knownHostsFile: '/var/lib/autodeploy/known_hosts', pinned: false });
    expect(hostKeyPolicy({ pinnedKnownHosts: '', stateDir: '/var/lib/autodeploy' })).toEqual({ knownHostsFile: '/var/lib/autodeploy/known_hosts', pinned: false });
  });
});

describe('remote URLs', () => {
  it.each([
    ['ssh://git@github.com/org/repo.git', 'github.com'],
    ['ssh://git@127.0.0.1:2222/repo.git', '[127.0.0.1]:2222'],
    ['ssh://git@gitlab.example.org:22/repo.git', 'gitlab.example.org'],
    ['git+ssh://deploy@[::1]:2200/repo.git', '[::1]:2200'],
    ['git@github.com:org/repo.git', 'github.com'],
    ['github.com:org/repo.git', 'github.com'],
    ['https://github.com/org/repo.git', undefined],
    ['/srv/git/repo.git', undefined],
    ['./relative/repo.git', undefined],
    ['file:///srv/git/repo.git', undefined],
  ])('names the ssh host of %s as known_hosts does', (url, expected) => {
    expect(knownHostsName(url)).toBe(expected);
  });

  it.each([
    ['https://user:s3cret@example.org/repo.git', 'https://***@example.org/repo.git'],
    ['https://ghp_T0KEN@github.com/org/repo.git', 'https://***@github.com/org/repo.git'],
    ["fatal: unable to access 'https://x-access-token:abc@github.com/o/r.git/': 403", "fatal: unable to access 'https://***@github.com/o/r.git/': 403"],
    ['ssh://git@github.com/org/repo.git', 'ssh://git@github.com/org/repo.git'],
    ['ssh://deploy:pw@host/repo.git', 'ssh://deploy:***@host/repo.git'],
    ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
  ])('redacts the credentials of %s', (text, expected) => {
    expect(redactCredentials(text)).toBe(expected);
  });
});
