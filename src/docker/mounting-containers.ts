import path from 'node:path';
import type Docker from 'dockerode';
import { containerName } from './inspect.js';
import type { MountingContainer, MountingContainers } from '../core/ports.js';

/**
 * The running containers that bind-mount one of `paths` or a path below it, with their start
 * times: what pruning needs to know which old versions a JupyterLab server may still show.
 */
export function dockerMountingContainers(docker: Docker): MountingContainers {
  return async (paths) => {
    const roots = paths.map((p) => path.resolve(p));
    const concerns = (source: string): boolean => roots.some((root) => source === root || source.startsWith(`${root}/`));
    const running = await docker.listContainers({ all: false });
    const found: MountingContainer[] = [];
    for (const summary of running) {
      const sources = (summary.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => path.resolve(m.Source));
      if (!sources.some(concerns)) continue;
      const info = await docker.getContainer(summary.Id).inspect().catch(() => undefined);
      if (info === undefined || !info.State.Running) continue;
      found.push({ name: containerName(info), startedAt: new Date(info.State.StartedAt), sources });
    }
    return found;
  };
}
