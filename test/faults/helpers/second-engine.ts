// A Docker engine of the test's own, so that stopping and restarting it disturbs nobody
// else's containers: its own data, exec root, socket and pid file, network namespace, and
// no bridge (the shared engine's docker0 stays untouched). Images come from the shared engine by
// `docker save | docker load`, as there is no registry to pull from.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './scheduler-faults.js';

export class SecondEngine {
  private constructor(
    readonly dir: string,
    readonly socket: string,
  ) {}

  /** DOCKER_HOST for this engine. */
  get host(): string {
    return `unix://${this.socket}`;
  }

  static async start(images: readonly string[]): Promise<SecondEngine> {
    // Short: a unix socket path has a limit of about 100 bytes.
    const dir = await mkdtemp(join(tmpdir(), 'ad-eng-'));
    const engine = new SecondEngine(dir, join(dir, 'docker.sock'));
    await engine.launch();
    for (const image of images) {
      await run('sh', ['-c', `docker save "$1" | DOCKER_HOST="$2" docker load`, 'sh', image, engine.host], { maxBuffer: 1 << 20 });
    }
    return engine;
  }

  private async launch(): Promise<void> {
    await mkdir(join(this.dir, 'data'), { recursive: true });
    await mkdir(join(this.dir, 'exec'), { recursive: true });
    // A network namespace of its own: an engine started beside the shared one, in the same
    // namespace, takes the shared engine's docker0 bridge away when it stops, even with
    // --bridge=none, and every container of the shared engine then fails to start.
    const child = spawn(
      'unshare',
      [
        '--net',
        'sh',
        '-c',
        'exec dockerd "$@" >>"$0/dockerd.log" 2>&1',
        this.dir,
        '--data-root', join(this.dir, 'data'),
        '--exec-root', join(this.dir, 'exec'),
        '-H', this.host,
        '--pidfile', join(this.dir, 'pid'),
        '--bridge=none', '--iptables=false', '--ip-masq=false',
        '--cgroup-parent=/ad-eng', '--storage-driver=vfs',
        // An engine that stops gives its containers this long before SIGKILL (Docker's default is 10 s).
        '--shutdown-timeout=2',
      ],
      { detached: true, stdio: 'ignore' },
    );
    child.unref();
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await run('docker', ['-H', this.host, 'version'], { timeout: 5_000 });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the second Docker engine did not start: see ${this.dir}/dockerd.log`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  private async pid(): Promise<number | undefined> {
    try {
      return Number((await readFile(join(this.dir, 'pid'), 'utf8')).trim());
    } catch {
      return undefined;
    }
  }

  /** SIGTERM, as a host's shutdown or `systemctl restart docker` does; resolves once it is gone. */
  async stop(): Promise<void> {
    const pid = await this.pid();
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    process.kill(pid, 'SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the engine and removes everything it had; containers die with it. */
  async destroy(): Promise<void> {
    await this.stop();
    // vfs layers may still be mounted under the exec root for a moment after the engine exits.
    await run('sh', ['-c', 'grep -o " $0[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l', this.dir]).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
