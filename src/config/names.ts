// The names this scheduler reads from the environment, and the spelling rules
// around them.

import { SCHEDULER_SETTINGS } from './settings.js';
import { declaredNames, type SettingsDeclaration } from './settings-declaration.js';
import { YAML_JOBS_VARIABLE } from './yaml-jobs.js';

/**
 * Every `AUTODEPLOY_*` setting (not counting the `AUTODEPLOY_JOB_<NAME>_<KEY>` job variables): the
 * scheduler's own, those the built-in job kinds declare (`declarations`), and the two read before
 * any setting (the YAML jobs and the evaluation mode).
 */
export function knownSettings(declarations: readonly SettingsDeclaration<unknown>[]): readonly string[] {
  const declared = [SCHEDULER_SETTINGS, ...declarations].flatMap(declaredNames).filter(isAutodeployName);
  return [...new Set([...declared, YAML_JOBS_VARIABLE, 'AUTODEPLOY_ENV_EVAL'])];
}

/**
 * Names birdhouse-deploy derives from the settings in its own scripts; an
 * env.local written for it may carry them, and they are not typos.
 */
export const TOLERATED_NAMES: readonly string[] = [
  'AUTODEPLOY_EXTRA_REPOS_AS_DOCKER_VOLUMES',
  // Read by the component's docker-compose-extra.yml, not by the scheduler.
  'AUTODEPLOY_CHECKOUT_DIR',
  // Where the scheduler finds its files: set in its environment, not in env.local.
  'AUTODEPLOY_ENV_FILE',
  'AUTODEPLOY_DEFAULTS_FILE',
  'AUTODEPLOY_INSTANCE',
  // Where the component is, for the proxy's compose file: read by compose, not by the scheduler.
  'AUTODEPLOY_COMPONENT_DIR',
  // Set by the scheduler in every job's container.
  'AUTODEPLOY_JOB',
  'AUTODEPLOY_RUN',
];

export const BIRDHOUSE_PREFIX = 'BIRDHOUSE_';
export const JOB_PREFIX = 'AUTODEPLOY_JOB_';

/** `BIRDHOUSE_AUTODEPLOY_X` → `AUTODEPLOY_X`; other names unchanged. */
export function canonicalName(name: string): string {
  return name.startsWith(`${BIRDHOUSE_PREFIX}AUTODEPLOY_`) ? name.slice(BIRDHOUSE_PREFIX.length) : name;
}

/** Whether a (canonical) name is ours to read: `AUTODEPLOY_*`. */
export function isAutodeployName(name: string): boolean {
  return name.startsWith('AUTODEPLOY_');
}

export function isKnownSetting(name: string, known: readonly string[]): boolean {
  return known.includes(name);
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = prev[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(above + 1, (prev[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return prev[b.length] ?? 0;
}

/** The known setting closest to a mistyped name, when one is close enough to be meant. */
export function nearestSetting(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const setting of known) {
    const d = distance(name, setting);
    if (d < bestDistance) {
      best = setting;
      bestDistance = d;
    }
  }
  const suffixLength = name.length - 'AUTODEPLOY_'.length;
  return bestDistance <= Math.max(2, Math.floor(suffixLength / 3)) ? best : undefined;
}
