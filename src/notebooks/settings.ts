// The settings of the notebookdeploy job alone: its sources, where they are published and as
// whom, when, and the deadline of each fetch.

import { posix } from 'node:path';
import { z } from 'zod';
import { absolutePath, deadline, ownership } from '../config/schemas.js';
import { declareSettings } from '../config/settings-declaration.js';
import { parseNotebookSources, type NotebookSource } from '../core/notebook-source.js';
import type { Ownership } from '../core/ownership.js';

export interface NotebookSettings {
  /** AUTODEPLOY_NOTEBOOK_FETCH_TIMEOUT: the deadline of each git command fetching a notebook source */
  readonly notebookFetchTimeoutMs: number;
  /** AUTODEPLOY_NOTEBOOK_FREQUENCY as written; empty disables the notebookdeploy job */
  readonly notebookFrequency: string;
  /** AUTODEPLOY_NOTEBOOK_SOURCES, one per line of the value */
  readonly notebookSources: readonly NotebookSource[];
  /** AUTODEPLOY_NOTEBOOK_TARGET_DIR, else `${JUPYTERHUB_USER_DATA_DIR}/tutorial-notebooks`; undefined when neither is set */
  readonly notebookTargetDir?: string;
  /** AUTODEPLOY_NOTEBOOK_OWNER: numeric uid:gid (root is 0:0) */
  readonly notebookOwner: Ownership;
}

/** Where the published notebooks go when AUTODEPLOY_NOTEBOOK_TARGET_DIR is not set: birdhouse-deploy's place for them. */
export const JUPYTERHUB_USER_DATA_DIR = 'JUPYTERHUB_USER_DATA_DIR';
export const TUTORIAL_NOTEBOOKS = 'tutorial-notebooks';

// Each source line's problem has the line's index in the value as its path, so that it is
// reported at its own env.local line.
const notebookSources = z.string().transform((text, ctx) => {
  const parsed = parseNotebookSources(text);
  for (const problem of parsed.problems) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.offset], input: problem.text });
  }
  return parsed.sources;
});

export const NOTEBOOK_SETTING_VARIABLES = {
  notebookFetchTimeoutMs: { name: 'AUTODEPLOY_NOTEBOOK_FETCH_TIMEOUT', fallback: '10m', schema: deadline },
  notebookFrequency: { name: 'AUTODEPLOY_NOTEBOOK_FREQUENCY', schema: z.string().optional() },
  notebookSources: { name: 'AUTODEPLOY_NOTEBOOK_SOURCES', multiline: true, schema: notebookSources.optional() },
  notebookTargetDir: {
    name: 'AUTODEPLOY_NOTEBOOK_TARGET_DIR',
    derived: { from: JUPYTERHUB_USER_DATA_DIR, value: (dir: string) => `${dir.replace(/\/+$/, '')}/${TUTORIAL_NOTEBOOKS}` },
    schema: absolutePath
      .transform((p) => posix.normalize(p).replace(/(.)\/+$/, '$1'))
      // The parent is mounted into the job and holds the published versions: never / itself.
      .refine((p) => posix.dirname(p) !== '/', { error: 'must be inside a directory other than / (that directory is mounted into the job and holds the published versions)' })
      .refine((p) => !posix.basename(p).startsWith('.'), { error: 'must not name a hidden directory (a name starting with ".")' })
      .optional(),
  },
  notebookOwner: {
    name: 'AUTODEPLOY_NOTEBOOK_OWNER',
    fallback: 'root:root',
    schema: ownership('must be numeric uid:gid (e.g. 1000:1000), or root (names differ between the host and the job container)', { root: true }),
  },
} as const;

export const NOTEBOOK_SETTINGS = declareSettings(NOTEBOOK_SETTING_VARIABLES, ({ notebookSources: sources, ...values }, lineOf): NotebookSettings => ({
  ...values,
  notebookFrequency: values.notebookFrequency ?? '',
  notebookSources: (sources ?? []).map(({ offset, ...source }) => ({ ...source, line: lineOf('notebookSources', offset) })),
}));
