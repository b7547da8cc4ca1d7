import { describe, expect, it } from 'vitest';
import { periodsOf, previousVersion, rolledBackFrom, trimJournal, type Swap } from '../../src/notebooks/journal.js';
import { legacyVersionId, linkText, newVersionId, notebookLayout, versionOfLink } from '../../src/notebooks/layout.js';
import type { MountingContainer } from '../../src/core/ports.js';
import { decidePrune, type PruneInput } from '../../src/notebooks/prune-plan.js';

// A fake clock: times are minutes after a fixed start.
const T0 = Date.parse('2024-03-01T10:00:00.000Z');
const at = (minute: number): string => new Date(T0 + minute * 60_000).toISOString();
const date = (minute: number): Date => new Date(T0 + minute * 60_000);

const layout = notebookLayout('/data/jupyterhub_user_data/tutorial-notebooks');
const TARGET = layout.target;
const VERSIONS = layout.versionsDir;

// legacy (adopted at 0) -> A at 1 -> B at 10 -> C at 20 -> back to B at 30 (rollback)
const SWAPS: Swap[] = [
  { at: at(0), from: null, to: 'legacy', why: 'adopt' },
  { at: at(1), from: 'legacy', to: 'A', why: 'publish' },
  { at: at(10), from: 'A', to: 'B', why: 'publish' },
  { at: at(20), from: 'B', to: 'C', why: 'publish' },
  { at: at(30), from: 'C', to: 'B', why: 'rollback' },
];

describe('the layout', () => {
  it('keeps versions in a hidden directory beside the target, linked relatively', () => {
    expect(VERSIONS).toBe('/data/jupyterhub_user_data/.tutorial-notebooks.d');
    expect(linkText(layout, 'v1')).toBe('.tutorial-notebooks.d/v1');
    expect(versionOfLink(layout, '.tutorial-notebooks.d/v1')).toBe('v1');
    expect(versionOfLink(layout, '/data/jupyterhub_user_data/.tutorial-notebooks.d/v1')).toBe('v1');
    expect(versionOfLink(layout, '/elsewhere/v1')).toBeUndefined();
    expect(versionOfLink(layout, '.tutorial-notebooks.d/.staging-v1')).toBeUndefined();
  });

  it('names versions by time and content, never reusing a name', () => {
    const when = new Date('2024-03-01T10:05:09.123Z');
    expect(newVersionId(when, 'abcdef0123456789', new Set())).toBe('20240301-100509-abcdef01');
    expect(newVersionId(when, 'abcdef0123456789', new Set(['20240301-100509-abcdef01']))).toBe('20240301-100509-abcdef01-2');
    expect(legacyVersionId(when, new Set(['legacy-20240301-100509']))).toBe('legacy-20240301-100509-2');
  });
});

describe('the journal', () => {
  it('goes back to the version the last swap replaced, and puts the one a rollback left on hold', () => {
    expect(previousVersion(SWAPS, 'B')).toBe('C');
    expect(rolledBackFrom(SWAPS, 'B')).toBe('C');
    expect(previousVersion(SWAPS.slice(0, 4), 'C')).toBe('B');
    expect(rolledBackFrom(SWAPS.slice(0, 4), 'C')).toBeUndefined();
    expect(previousVersion(SWAPS.slice(0, 1), 'legacy')).toBeUndefined();
    expect(previousVersion([], undefined)).toBeUndefined();
  });

  it('knows when each version was current; an adopted one since always', () => {
    expect(periodsOf(SWAPS, 'legacy')).toEqual([{ from: Number.NEGATIVE_INFINITY, to: T0 + 60_000 }]);
    expect(periodsOf(SWAPS, 'B')).toEqual([
      { from: T0 + 10 * 60_000, to: T0 + 20 * 60_000 },
      { from: T0 + 30 * 60_000, to: Number.POSITIVE_INFINITY },
    ]);
    expect(periodsOf(SWAPS, 'unknown')).toBeUndefined();
  });

  it('drops only the swaps that concern no version still present', () => {
    const trimmed = trimJournal({ format: 1, swaps: SWAPS }, new Set(['B', 'C']));
    expect(trimmed.swaps.map((s) => `${s.from}->${s.to}`)).toEqual(['A->B', 'B->C', 'C->B']);
    expect(periodsOf(trimmed.swaps, 'B')).toEqual(periodsOf(SWAPS, 'B'));
  });
});

describe('decidePrune', () => {
  const input = (containers: readonly MountingContainer[] | undefined, marginMs = 60_000): PruneInput => ({
    target: TARGET,
    versionsDir: VERSIONS,
    versions: ['A', 'B', 'C', 'legacy'],
    current: 'B',
    previous: 'C',
    swaps: SWAPS,
    containers,
    marginMs,
  });
  const server = (name: string, startedMinute: number, source = TARGET): MountingContainer => ({ name, startedAt: date(startedMinute), sources: [source] });

  it('removes what no running container can show, and keeps the current and previous versions', () => {
    expect(decidePrune(input([]))).toEqual({
      remove: ['A', 'legacy'],
      keep: [
        { id: 'B', why: 'current' },
        { id: 'C', why: 'previous, for --rollback' },
      ],
    });
  });

  it('keeps the version that was current when a server mounting the target started', () => {
    const decision = decidePrune(input([server('jupyter-alice', 5), server('jupyter-bob', 12)]));
    expect(decision.remove).toEqual(['legacy']);
    expect(decision.keep).toContainEqual({ id: 'A', why: `mounted by the running container jupyter-alice, started ${date(5).toISOString()} while it was current` });
  });

  it('counts a server started within the margin after a swap as holding the version before it', () => {
    // A swap at minute 10: Docker may record a start after it for a mount resolved before it.
    expect(decidePrune(input([server('jupyter-carol', 10.5)])).remove).toEqual(['legacy']);
    expect(decidePrune(input([server('jupyter-carol', 10.5)], 0)).remove).toEqual(['A', 'legacy']);
    expect(decidePrune(input([server('jupyter-carol', 12)])).remove).toEqual(['A', 'legacy']);
  });

  it('keeps a version a container mounts directly, and an adopted one for a server older than the journal', () => {
    const decision = decidePrune(input([server('direct', 40, `${VERSIONS}/A/sub`), server('old', -100)]));
    expect(decision.remove).toEqual([]);
    expect(decision.keep).toContainEqual({ id: 'A', why: 'mounted by the running container direct' });
    expect(decision.keep).toContainEqual({ id: 'legacy', why: `mounted by the running container old, started ${date(-100).toISOString()} while it was current` });
  });

  it('ignores containers that mount something else, such as the whole user data directory', () => {
    expect(decidePrune(input([server('jupyterhub', 5, '/data/jupyterhub_user_data')])).remove).toEqual(['A', 'legacy']);
  });

  it('keeps everything when Docker could not be asked, and a version the journal never mentions while any server runs', () => {
    expect(decidePrune(input(undefined)).remove).toEqual([]);
    const unknown = decidePrune({ ...input([server('s', 50)]), versions: ['B', 'C', 'X'] });
    expect(unknown.keep).toContainEqual({ id: 'X', why: 'may be mounted by the running container s (the journal does not say when it was current)' });
    expect(decidePrune({ ...input([]), versions: ['B', 'C', 'X'] }).remove).toEqual(['X']);
  });
});
