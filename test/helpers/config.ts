import { runsInContainer, type ContainerSpec, type Job } from '../../src/core/job.js';
import { formatIssue } from '../../src/core/issues.js';
import type { Config, LoadResult } from '../../src/config/load.js';
import { settingsOf } from '../../src/config/builtin-job.js';
import { autodeployJobKind } from '../../src/autodeploy/job.js';
import { notebookDeployJobKind } from '../../src/notebooks/job.js';

/** The configuration of a load that must succeed with every job accepted; otherwise the test fails with every problem found. */
export function validConfig(result: LoadResult): Config {
  if (!result.ok) throw new Error(`expected a valid configuration, got:\n${result.issues.map(formatIssue).join('\n')}`);
  const refused = result.config.refused.flatMap((r) => r.issues);
  if (refused.length > 0) throw new Error(`expected every job to be accepted, got:\n${refused.map(formatIssue).join('\n')}`);
  return result.config;
}

/**
 * The problems of a load that must refuse something, as an operator reads them: the whole
 * configuration's, or those of the jobs refused alone (the others then run).
 */
export function refusedIssues(result: LoadResult): string[] {
  if (!result.ok) return result.issues.map(formatIssue);
  const refused = result.config.refused.flatMap((r) => r.issues);
  if (refused.length === 0) throw new Error('expected the configuration or a job to be refused');
  return refused.map(formatIssue);
}

/** The container recipe of a job run in a container of its own; undefined for other jobs. */
export function containerOf(job: Job | undefined): ContainerSpec | undefined {
  return job !== undefined && runsInContainer(job) ? job.container : undefined;
}

/** Every setting of a configuration loaded with the built-in kinds: the scheduler's own and each kind's, in one object. */
export function allSettings(config: Config) {
  return { ...config.settings, ...settingsOf(config, autodeployJobKind), ...settingsOf(config, notebookDeployJobKind) };
}
