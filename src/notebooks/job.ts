// The notebookdeploy job: `autodeploy notebooks` in the scheduler's own image, there when
// notebook sources are set, enabled when AUTODEPLOY_NOTEBOOK_FREQUENCY is not empty.

import { dirname } from 'node:path';
import {
  builtinSchedule,
  credentialMounts,
  replacedJob,
  DOCKER_SOCKET,
  envFilePaths,
  sameMount,
  schedulerImageContainer,
  stateMount,
  type BuiltinJobInput,
  type BuiltinJobKind,
} from '../config/builtin-job.js';
import { place, type ConfigIssue } from '../core/issues.js';
import type { ContainerSpec, NotebookDeployJob } from '../core/job.js';
import { localSourcePath } from '../core/notebook-source.js';
import { NOTEBOOK_SETTINGS, NOTEBOOK_SETTING_VARIABLES, type NotebookSettings } from './settings.js';

const FREQUENCY = NOTEBOOK_SETTING_VARIABLES.notebookFrequency.name;
const SOURCES = NOTEBOOK_SETTING_VARIABLES.notebookSources.name;
/**
 * A run that outlives this is stopped. Safe at any point: a publish is staged beside the target
 * and swapped in by one rename, so a stopped run leaves the previous set in place.
 */
export const NOTEBOOK_DEPLOY_TIMEOUT_MS = 3_600_000;

/** birdhouse-deploy's notebook deploy script, which its scheduler-job-notebookdeploy component's job runs. */
const BIRDHOUSE_NOTEBOOK_SCRIPT = /(^|[\s/])trigger-deploy-notebook(\s|$)/;

/**
 * There when sources are set. A birdhouse job that runs trigger-deploy-notebook is then
 * replaced, on its schedule; without sources that job runs as written.
 */
export const notebookDeployJobKind: BuiltinJobKind<NotebookSettings> = {
  name: 'notebookdeploy',
  settings: NOTEBOOK_SETTINGS,
  build(input) {
    const { kindSettings } = input;
    if (kindSettings.notebookSources.length === 0) return { job: undefined, issues: [] };
    const replaced = replacedJob(input, 'notebookdeploy', BIRDHOUSE_NOTEBOOK_SCRIPT);
    const claims = replaced === undefined ? [] : ['notebookdeploy'];
    const source = input.entries.get(SOURCES)?.source ?? { file: input.envFile, line: undefined };
    const issues: ConfigIssue[] = [];
    const { schedule, issue } = builtinSchedule(input, 'notebookdeploy', replaced, { name: FREQUENCY, value: kindSettings.notebookFrequency }, input.entries.get(FREQUENCY)?.source ?? source);
    if (issue !== undefined) issues.push(issue);
    const target = kindSettings.notebookTargetDir;
    if (target === undefined) {
      issues.push({
        ...source,
        key: 'AUTODEPLOY_NOTEBOOK_TARGET_DIR',
        job: 'notebookdeploy',
        message: 'notebook sources are set, but not where to publish them: set AUTODEPLOY_NOTEBOOK_TARGET_DIR, or JUPYTERHUB_USER_DATA_DIR (the notebooks then go to its tutorial-notebooks folder)',
      });
    }
    if (schedule === undefined || target === undefined) return { job: undefined, issues, claims };
    const job: NotebookDeployJob = {
      kind: 'notebookdeploy',
      name: 'notebookdeploy',
      comment: 'publish tutorial notebooks from git',
      schedule,
      enabled: schedule !== null,
      timeoutMs: NOTEBOOK_DEPLOY_TIMEOUT_MS,
      source,
      triggers: [],
      onstart: false,
      container: notebookDeployContainer(input, target),
      note: {
        rule:
          replaced === undefined
            ? `${SOURCES} is set`
            : `${SOURCES} is set: the built-in notebook deploy runs instead of birdhouse's notebookdeploy job at ${place(replaced.source)}, on that job's schedule`,
        replaces: replaced?.source,
      },
    };
    return { job, issues, claims };
  },
};

function notebookDeployContainer(input: BuiltinJobInput<NotebookSettings>, target: string): ContainerSpec {
  const { settings, kindSettings } = input;
  const volumes = new Set<string>([
    // Pruning asks Docker which running containers may still mount an old version.
    `${DOCKER_SOCKET}:${DOCKER_SOCKET}`,
    // The parent, not the target: the target is a symbolic link swapped by rename, and the
    // versions it points to live beside it.
    sameMount(dirname(target)),
    stateMount(input),
    ...envFilePaths(input).map((file) => sameMount(dirname(file), 'ro')),
    ...(input.platformReaderDir === undefined ? [] : [sameMount(input.platformReaderDir, 'ro')]),
    ...credentialMounts(settings),
  ]);
  // A source on this host (a path or file:// URL) is read where it is.
  for (const s of kindSettings.notebookSources) {
    const local = localSourcePath(s.url);
    if (local !== undefined) volumes.add(sameMount(local, 'ro'));
  }
  const env: Record<string, string> = { AUTODEPLOY_ENV_FILE: input.envFile };
  if (settings.composeDir !== undefined) env['COMPOSE_DIR'] = settings.composeDir;
  if (settings.timezone !== undefined) env['TZ'] = settings.timezone;
  // The name is the publish's mutex, as for autodeploy.
  return schedulerImageContainer(input, { command: ['autodeploy', 'notebooks'], containerName: 'notebookdeploy', volumes, env });
}
