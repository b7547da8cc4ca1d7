// What the scheduler's fault cases share: a daemon on a scratch platform, the runs it
// reports, and the clean-up of its containers and mounts whatever a case left behind.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { LABEL_JOB } from '../../../src/core/job.js';
import type { JobContainers } from '../../../src/core/ports.js';
import { Daemon } from '../../../src/scheduler/daemon.js';
import type { RunReport } from '../../../src/scheduler/run-job.js';
import { daemonBase, type Scratch } from '../../helpers/scheduler-env.js';

export const run = promisify(execFile);

/**
 * A job name of this scratch platform, with no `_t` in it: other suites on the shared engine
 * remove every job container whose name holds `_t` after each of their tests, and would take
 * this file's runs with them. `faultJob(scratch, '')` is the part every such name ends with.
 */
export function faultJob(scratch: Scratch, base: string): string {
  return scratch.name(base).replace(/_([^_]*)$/, 'x$1');
}

export class FaultBench {
  readonly daemons: Daemon[] = [];
  readonly mounts: string[] = [];
  readonly dirs: string[] = [];
  readonly reports: RunReport[] = [];

  async start(scratch: Scratch, containers: JobContainers, heartbeatMs = 300): Promise<Daemon> {
    const daemon = await Daemon.start({
    ...daemonBase(scratch),
    containers,
      heartbeatMs,
    });
    daemon.on('run', (report) => this.reports.push(report));
    this.daemons.push(daemon);
    return daemon;
  }

  /** A tmpfs of `size` at `dir`, unmounted by `cleanUp`. */
  async tmpfs(dir: string, size: string, flags: readonly string[] = []): Promise<void> {
    await run('mount', ['-t', 'tmpfs', '-o', [`size=${size}`, ...flags].join(','), 'tmpfs', dir]);
    this.mounts.push(dir);
  }

  async remount(dir: string, mode: 'ro' | 'rw'): Promise<void> {
    await run('mount', ['-o', `remount,${mode}`, dir]);
  }

  runsOf(job: string): RunReport[] {
    return this.reports.filter((r) => r.job === job);
  }

  async cleanUp(docker: Docker, jobSuffix: string): Promise<void> {
    for (const daemon of this.daemons.splice(0)) await daemon.stop().catch(() => undefined);
    const left = await docker.listContainers({ all: true, filters: { label: [LABEL_JOB] } }).catch(() => []);
    await Promise.all(
      left.filter((c) => c.Names.some((n) => n.endsWith(jobSuffix))).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)),
    );
    for (const dir of this.mounts.splice(0)) await run('umount', ['-l', dir]).catch(() => undefined);
    for (const dir of this.dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    this.reports.length = 0;
  }
}
