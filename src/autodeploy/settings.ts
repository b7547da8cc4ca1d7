// The settings of the autodeploy job alone: when it runs, how a deploy restarts the platform,
// the compose command, who owns the code, and the deadline of each step.

import { z } from 'zod';
import { deadline, ownership } from '../config/schemas.js';
import { declareSettings } from '../config/settings-declaration.js';
import type { Ownership } from '../core/ownership.js';
import { splitWords } from '../core/shell-words.js';

export interface AutodeploySettings {
  /** AUTODEPLOY_PLATFORM_FREQUENCY as written; empty disables the autodeploy job */
  readonly platformFrequency: string;
  /** AUTODEPLOY_COMPOSE, else BIRDHOUSE_COMPOSE: the compose command; undefined: found in COMPOSE_DIR */
  readonly compose?: string;
  /** AUTODEPLOY_CODE_OWNERSHIP: numeric uid:gid, or uid alone (the group is then left alone) */
  readonly codeOwnership?: Ownership;
  /** AUTODEPLOY_RESTART */
  readonly restart: 'changed' | 'all';
  /** AUTODEPLOY_VERIFY_TIMEOUT */
  readonly verifyTimeoutMs: number;
  /** AUTODEPLOY_COMPOSE_TIMEOUT: the deadline of each compose command of a deploy */
  readonly composeTimeoutMs: number;
  /** AUTODEPLOY_GIT_TIMEOUT: the deadline of each git command (fetch, merge, reset) */
  readonly gitTimeoutMs: number;
  /** AUTODEPLOY_TRIGGER_TIMEOUT: the deadline of a conditional trigger script */
  readonly triggerTimeoutMs: number;
}

/** birdhouse-deploy's AUTODEPLOY_PLATFORM_EXTRA_DOCKER_ARGS: more mounts, env or a network for the deploy container. */
export const EXTRA_DOCKER_ARGS = 'AUTODEPLOY_PLATFORM_EXTRA_DOCKER_ARGS';

export const AUTODEPLOY_SETTING_VARIABLES = {
  platformFrequency: { name: 'AUTODEPLOY_PLATFORM_FREQUENCY', schema: z.string().optional() },
  // birdhouse-deploy's own deploy runs BIRDHOUSE_COMPOSE (birdhouse/deployment/deploy.sh); its
  // compose wrapper sets it to its own path.
  compose: {
    name: 'AUTODEPLOY_COMPOSE',
    alternatives: ['BIRDHOUSE_COMPOSE'],
    // Split as the deploy will split it, so that a bad command is reported at its line, not at deploy time.
    schema: z
      .string()
      .superRefine((command, ctx) => {
        const split = splitWords(command);
        if (!split.ok) ctx.addIssue({ code: 'custom', message: `cannot be split into a command and its arguments (${split.problem})`, input: command });
      })
      .optional(),
  },
  // birdhouse-deploy documents a uid, which chown reads as "owner only": so is it here.
  codeOwnership: {
    name: 'AUTODEPLOY_CODE_OWNERSHIP',
    schema: ownership('must be a numeric uid or uid:gid (names differ between the host and the deploy container)', { uidAlone: true }).optional(),
  },
  restart: { name: 'AUTODEPLOY_RESTART', fallback: 'changed', schema: z.enum(['changed', 'all'], { error: 'must be changed or all' }) },
  verifyTimeoutMs: { name: 'AUTODEPLOY_VERIFY_TIMEOUT', fallback: '5m', schema: deadline },
  composeTimeoutMs: { name: 'AUTODEPLOY_COMPOSE_TIMEOUT', fallback: '15m', schema: deadline },
  gitTimeoutMs: { name: 'AUTODEPLOY_GIT_TIMEOUT', fallback: '2m', schema: deadline },
  triggerTimeoutMs: { name: 'AUTODEPLOY_TRIGGER_TIMEOUT', fallback: '1m', schema: deadline },
} as const;

// The docker options are read by the job itself, with the resolved environment, and refuse the job alone.
export const AUTODEPLOY_SETTINGS = declareSettings(
  AUTODEPLOY_SETTING_VARIABLES,
  (values): AutodeploySettings => ({ ...values, platformFrequency: values.platformFrequency ?? '' }),
  { alsoReads: [EXTRA_DOCKER_ARGS] },
);
