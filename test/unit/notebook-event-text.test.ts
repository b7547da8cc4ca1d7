import { describe, expect, it } from 'vitest';
import { notebookEventText } from '../../src/core/notebook-event-text.js';
import type { NotebookEvent, NotebookEventType } from '../../src/core/notebook-events.js';

// The sentence of every notebook event: what `autodeploy notebooks` prints and notebookdeploy.log reads.

const C = '0123456789abcdef0123456789abcdef01234567';
const P = 'fedcba9876543210fedcba9876543210fedcba98';
const LABEL = 'source 1 (line 7: ssh://git@example.org/notebooks.git main nb/)';
const TARGET = '/data/jupyterhub_user_data/tutorial-notebooks';
const NO_KEY = { path: undefined, reason: 'none' } as const;

// Keyed by type, so that an event type without a sentence here does not compile.
const sentences: { [T in NotebookEventType]: ReadonlyArray<readonly [Extract<NotebookEvent, { type: T }>, string]> } = {
  started: [
    [
      { type: 'started', mode: 'run', at: '2026-11-22T10:00:00.000Z', sources: 2, target: TARGET, owner: '0:0' },
      `notebooks run started at 2026-11-22T10:00:00.000Z: 2 sources, target ${TARGET}, owner 0:0`,
    ],
    [
      { type: 'started', mode: 'dry-run', at: '2026-11-22T10:00:00.000Z', sources: 1, target: TARGET, owner: '4321:4321' },
      `notebooks dry run started at 2026-11-22T10:00:00.000Z: 1 source, target ${TARGET}, owner 4321:4321`,
    ],
    [
      { type: 'started', mode: 'rollback', at: '2026-11-22T10:00:00.000Z', sources: 1, target: TARGET, owner: '0:0' },
      `notebooks rollback started at 2026-11-22T10:00:00.000Z: 1 source, target ${TARGET}, owner 0:0`,
    ],
  ],
  'no-sources': [
    [{ type: 'no-sources', envFile: '/srv/env.local' }, 'no notebook sources: AUTODEPLOY_NOTEBOOK_SOURCES is empty in /srv/env.local; nothing to publish'],
  ],
  'source-fetched': [
    [
      { type: 'source-fetched', number: 1, label: LABEL, commit: C, previous: undefined, files: 2, glob: '*.ipynb', dest: '', key: NO_KEY, skipped: [] },
      `${LABEL}: commit ${C} (first fetch), 2 files matching *.ipynb`,
    ],
    [
      { type: 'source-fetched', number: 1, label: LABEL, commit: C, previous: C, files: 1, glob: '*.ipynb', dest: 'intro', key: { path: '/keys/notebooks_deploy_key', reason: 'per-repo' }, skipped: [] },
      `${LABEL}: commit ${C} (not moved), 1 file matching *.ipynb into intro/, deploy key /keys/notebooks_deploy_key (per-repo)`,
    ],
    [
      { type: 'source-fetched', number: 1, label: LABEL, commit: C, previous: P, files: 3, glob: '**/*.ipynb', dest: '', key: NO_KEY, skipped: ['link.ipynb'] },
      `${LABEL}: commit ${C} (moved from fedcba987654), 3 files matching **/*.ipynb; 1 matched path is not a regular file and not published: link.ipynb`,
    ],
    [
      {
        type: 'source-fetched', number: 1, label: LABEL, commit: C, previous: C, files: 1, glob: '*', dest: '', key: NO_KEY,
        skipped: Array.from({ length: 12 }, (_, i) => `l${i}`),
      },
      `${LABEL}: commit ${C} (not moved), 1 file matching *; 12 matched paths are not a regular file and not published: l0, l1, l2, l3, l4, l5, l6, l7, l8, l9`,
    ],
  ],
  'source-failed': [[{ type: 'source-failed', number: 1, label: LABEL, reason: `${LABEL}: the server refused the key` }, `failed: ${LABEL}: the server refused the key`]],
  collision: [
    [
      { type: 'collision', path: 'intro.ipynb', kind: 'same-path', first: 1, firstLabel: 'source 1 (a main)', second: 2, secondLabel: 'source 2 (b main)' },
      'collision: intro.ipynb is published by both source 1 (a main) and source 2 (b main)',
    ],
    [
      { type: 'collision', path: 'maps', kind: 'file-and-directory', first: 1, firstLabel: 'source 1 (a main)', second: 2, secondLabel: 'source 2 (b main)' },
      'collision: maps is a file of source 1 (a main) but a directory of source 2 (b main)',
    ],
  ],
  restored: [
    [{ type: 'restored', target: TARGET, version: '20261122-100000-0a1b2c3d' }, `restored ${TARGET} -> version 20261122-100000-0a1b2c3d: an earlier run had stopped before making the link`],
  ],
  'journal-repaired': [
    [
      { type: 'journal-repaired', version: '20261122-100000-0a1b2c3d', at: '2026-11-22T10:00:01.000Z' },
      'recorded the link to version 20261122-100000-0a1b2c3d, made at 2026-11-22T10:00:01.000Z, which the journal had missed',
    ],
  ],
  'leftovers-removed': [
    [{ type: 'leftovers-removed', names: ['.staging-x', '.tutorial-notebooks.swap-y'] }, 'removed what an earlier run left unfinished: .staging-x, .tutorial-notebooks.swap-y'],
  ],
  'file-changed': [
    [{ type: 'file-changed', change: 'added', path: 'a.ipynb' }, '  added: a.ipynb'],
    [{ type: 'file-changed', change: 'changed', path: 'maps/b.ipynb' }, '  changed: maps/b.ipynb'],
    [{ type: 'file-changed', change: 'removed', path: 'old.ipynb' }, '  removed: old.ipynb'],
  ],
  'more-changes': [[{ type: 'more-changes', change: 'added', count: 31 }, '  ... and 31 more added']],
  staging: [
    [{ type: 'staging', version: 'v1', files: 1, dir: '/data/.staging-v1' }, 'staging version v1 (1 file) in /data/.staging-v1'],
    [{ type: 'staging', version: 'v2', files: 3, dir: '/data/.staging-v2' }, 'staging version v2 (3 files) in /data/.staging-v2'],
  ],
  'directory-adopted': [
    [{ type: 'directory-adopted', target: TARGET, version: 'legacy-20261122-100000' }, `moved the existing directory ${TARGET} to version legacy-20261122-100000, kept as it is for --rollback`],
  ],
  'directory-in-the-way': [
    [{ type: 'directory-in-the-way', target: TARGET, version: 'legacy-x' }, `a directory appeared at ${TARGET} during the swap; moved it to version legacy-x and tried again`],
  ],
  published: [
    [{ type: 'published', target: TARGET, link: '.tutorial-notebooks.d/v2', version: 'v2', replaced: 'v1' }, `swapped ${TARGET} -> .tutorial-notebooks.d/v2 (was version v1)`],
    [{ type: 'published', target: TARGET, link: '.tutorial-notebooks.d/v1', version: 'v1', replaced: undefined }, `swapped ${TARGET} -> .tutorial-notebooks.d/v1`],
  ],
  'rolled-back': [
    [{ type: 'rolled-back', target: TARGET, link: '.tutorial-notebooks.d/v1', version: 'v1', replaced: 'v2' }, `swapped ${TARGET} -> .tutorial-notebooks.d/v1 (was version v2)`],
  ],
  'caches-removed': [[{ type: 'caches-removed', names: ['two-0123456789abcdef.git'] }, 'removed the git caches of sources no longer listed: two-0123456789abcdef.git']],
  'tidy-up-failed': [
    [{ type: 'tidy-up-failed', after: 'publish', reason: 'EACCES' }, 'published, but tidying up after it failed: EACCES'],
    [{ type: 'tidy-up-failed', after: 'rollback', reason: 'EACCES' }, 'rolled back, but tidying up after it failed: EACCES'],
  ],
  'prune-skipped': [
    [{ type: 'prune-skipped', reason: 'connect ENOENT /var/run/docker.sock' }, 'older versions are kept: Docker could not be asked which running containers mount them (connect ENOENT /var/run/docker.sock)'],
  ],
  pruned: [[{ type: 'pruned', version: 'v0' }, 'removed version v0: no running container can have it mounted']],
  'prune-failed': [[{ type: 'prune-failed', version: 'v0', reason: 'EBUSY' }, 'version v0 could not be removed: EBUSY']],
  'version-kept': [[{ type: 'version-kept', version: 'v0', why: 'may be mounted by the running container jupyter-alice' }, 'kept version v0: may be mounted by the running container jupyter-alice']],
  finished: [
    [
      {
        type: 'finished', outcome: 'published', message: `published version v2 to ${TARGET}: 1 added, 0 changed, 0 removed`, endedAt: '2026-11-22T10:00:03.000Z',
        durationMs: 3_051, exitCode: 0, version: 'v2', previous: 'v1', changes: { added: 1, changed: 0, removed: 0 },
      },
      `notebooks finished at 2026-11-22T10:00:03.000Z (3.1s): published: published version v2 to ${TARGET}: 1 added, 0 changed, 0 removed`,
    ],
  ],
};

describe('notebookEventText', () => {
  const all = Object.values(sentences).flat() as ReadonlyArray<readonly [NotebookEvent, string]>;

  it.each(all.map(([event, text]) => [event.type, event, text] as const))('says %s as the publish always said it', (_type, event, text) => {
    expect(notebookEventText(event)).toBe(text);
  });
});
