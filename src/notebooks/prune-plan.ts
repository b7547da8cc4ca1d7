// Which old versions can go. A version is kept while it is current, while it is the one
// `--rollback` goes back to, and while a running container may have it mounted.

import path from 'node:path';
import type { MountingContainer } from '../core/ports.js';
import { periodsOf, type Swap } from './journal.js';

export interface PruneInput {
  readonly target: string;
  readonly versionsDir: string;
  /** the versions present, oldest first */
  readonly versions: readonly string[];
  readonly current: string | undefined;
  readonly previous: string | undefined;
  readonly swaps: readonly Swap[];
  /** undefined when Docker could not be asked */
  readonly containers: readonly MountingContainer[] | undefined;
  /**
   * Docker records a container's start after it has mounted its sources; a container started
   * this long after a swap may still have resolved the link before it.
   */
  readonly marginMs: number;
}

export interface PruneDecision {
  readonly remove: readonly string[];
  readonly keep: readonly { readonly id: string; readonly why: string }[];
}

/**
 * Docker reports a bind mount's source as it was given, so a container that mounts the target
 * (a symbolic link) does not say which version it got. It got the version that was current when
 * it started: one whose time as current overlaps the container's start, give or take the margin.
 */
export function decidePrune(input: PruneInput): PruneDecision {
  const remove: string[] = [];
  const keep: { id: string; why: string }[] = [];
  for (const id of input.versions) {
    if (id === input.current) {
      keep.push({ id, why: 'current' });
      continue;
    }
    if (id === input.previous) {
      keep.push({ id, why: 'previous, for --rollback' });
      continue;
    }
    if (input.containers === undefined) {
      keep.push({ id, why: 'Docker could not be asked which running containers mount it' });
      continue;
    }
    const holder = holderOf(input, id, input.containers);
    if (holder !== undefined) keep.push({ id, why: holder });
    else remove.push(id);
  }
  return { remove, keep };
}

function holderOf(input: PruneInput, id: string, containers: readonly MountingContainer[]): string | undefined {
  const dir = path.join(input.versionsDir, id);
  const periods = periodsOf(input.swaps, id);
  for (const container of containers) {
    const sources = container.sources.map((s) => path.resolve(s));
    if (sources.some((s) => s === dir || s.startsWith(`${dir}/`))) return `mounted by the running container ${container.name}`;
    if (!sources.includes(input.target)) continue;
    const started = container.startedAt.getTime();
    if (periods === undefined) return `may be mounted by the running container ${container.name} (the journal does not say when it was current)`;
    if (periods.some((p) => started >= p.from && started < p.to + input.marginMs)) {
      return `mounted by the running container ${container.name}, started ${container.startedAt.toISOString()} while it was current`;
    }
  }
  return undefined;
}
