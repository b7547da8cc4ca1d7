// Every swap of the target link, with its time. From it come the version to roll back to,
// the set a rollback put on hold, and when each version was the one new servers got.

import { z } from 'zod';

export const SwapSchema = z.object({
  at: z.string(),
  from: z.string().nullable(),
  to: z.string(),
  /**
   * publish: a new set; rollback: back to the previous one; adopt: a directory found at the
   * target became a version (current since an unknown time); recovered: the link was found
   * pointing elsewhere than the journal said (a run stopped between the two).
   */
  why: z.enum(['publish', 'rollback', 'adopt', 'recovered']),
});
export type Swap = z.infer<typeof SwapSchema>;

export const JournalSchema = z.object({ format: z.literal(1), swaps: z.array(SwapSchema) });
export type Journal = z.infer<typeof JournalSchema>;

export const EMPTY_JOURNAL: Journal = { format: 1, swaps: [] };

/** A span of time during which a version was the one the target pointed to; ms since the epoch. */
export interface Period {
  readonly from: number;
  readonly to: number;
}

/** The last swap that made `current` current, if the journal has one. */
function lastSwapTo(swaps: readonly Swap[], current: string): Swap | undefined {
  return swaps.findLast((swap) => swap.to === current);
}

/** The version `--rollback` goes back to: the one the last swap to `current` replaced. */
export function previousVersion(swaps: readonly Swap[], current: string | undefined): string | undefined {
  if (current === undefined) return undefined;
  return lastSwapTo(swaps, current)?.from ?? undefined;
}

/**
 * The version a rollback left, when the last swap was that rollback: its content is not
 * published again by a scheduled run until the sources give something else.
 */
export function rolledBackFrom(swaps: readonly Swap[], current: string | undefined): string | undefined {
  const last = swaps.at(-1);
  if (last === undefined || current === undefined || last.to !== current || last.why !== 'rollback') return undefined;
  return last.from ?? undefined;
}

/**
 * When `id` was current. A version adopted from a directory found at the target has been current
 * since before the journal knew it; one the journal does not mention at all may have been current
 * at any time (undefined).
 */
export function periodsOf(swaps: readonly Swap[], id: string): Period[] | undefined {
  const periods: Period[] = [];
  let openedAt: number | undefined;
  for (const swap of swaps) {
    const at = Date.parse(swap.at);
    if (openedAt !== undefined) {
      periods.push({ from: openedAt, to: at });
      openedAt = undefined;
    }
    if (swap.to === id) openedAt = swap.why === 'adopt' ? Number.NEGATIVE_INFINITY : at;
  }
  if (openedAt !== undefined) periods.push({ from: openedAt, to: Number.POSITIVE_INFINITY });
  return periods.length === 0 ? undefined : periods;
}

/** The journal without swaps that concern none of the versions still present (it stays small). */
export function trimJournal(journal: Journal, present: ReadonlySet<string>): Journal {
  return { ...journal, swaps: journal.swaps.filter((s) => present.has(s.to) || (s.from !== null && present.has(s.from))) };
}
