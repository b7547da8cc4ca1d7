// The autodeploy job: `autodeploy deploy` in the scheduler's own image, on
// AUTODEPLOY_PLATFORM_FREQUENCY, with the checkouts, the Docker socket, the deploy keys and the
// state directory mounted at the same paths as on the host, so that compose's relative paths
// mean the same inside and out.

import { dirname } from 'node:path';
import {
  builtinSchedule,
  credentialMounts,
  replacedJob,
  setByOperator,
  DOCKER_SOCKET,
  envFilePaths,
  sameMount,
  schedulerImageContainer,
  stateMount,
  type BuiltinJobInput,
  type BuiltinJobKind,
} from '../config/builtin-job.js';
import { parseDockerArgs, type DockerArgs } from '../config/docker-args.js';
import { place, type ConfigIssue } from '../core/issues.js';
import type { AutodeployJob, ContainerSpec } from '../core/job.js';
import { AUTODEPLOY_SETTINGS, AUTODEPLOY_SETTING_VARIABLES, EXTRA_DOCKER_ARGS, type AutodeploySettings } from './settings.js';

const FREQUENCY = AUTODEPLOY_SETTING_VARIABLES.platformFrequency.name;

/** birdhouse-deploy's own deploy script, which its scheduler-job-autodeploy component's job runs. */
const BIRDHOUSE_DEPLOY_SCRIPT = /(^|[\s/])triggerdeploy\.sh(\s|$)/;

/**
 * On or off, and why: a birdhouse job that runs triggerdeploy.sh turns the built-in on, on its
 * schedule, and the built-in runs in its place. Without one, birdhouse 2.x made autodeploy
 * opt-in (its component, or its frequency in env.local), while PAVICS 1.x always had it.
 */
export const autodeployJobKind: BuiltinJobKind<AutodeploySettings> = {
  name: 'autodeploy',
  settings: AUTODEPLOY_SETTINGS,
  build(input) {
    const { settings, kindSettings } = input;
    if (settings.composeDir === undefined) return { job: undefined, issues: [] };
    const replaced = replacedJob(input, 'autodeploy', BIRDHOUSE_DEPLOY_SCRIPT);
    let rule: string;
    if (replaced !== undefined) {
      rule = `birdhouse's autodeploy job at ${place(replaced.source)} runs triggerdeploy.sh: the built-in autodeploy runs instead, on that job's schedule`;
    } else if (input.platform === 'birdhouse') {
      if (!setByOperator(input, FREQUENCY)) return { job: undefined, issues: [] };
      rule = `birdhouse 2.x: ${FREQUENCY} is set by the operator`;
    } else {
      rule = `PAVICS 1.x: on by default, on ${FREQUENCY}`;
    }
    const issues: ConfigIssue[] = [];
    const source = replaced?.fields.schedule?.where ?? replaced?.source ?? input.entries.get(FREQUENCY)?.source ?? { file: input.envFile, line: undefined };
    const { schedule, issue } = builtinSchedule(input, 'autodeploy', replaced, { name: FREQUENCY, value: kindSettings.platformFrequency }, source);
    if (issue !== undefined) issues.push(issue);
    const extraEntry = input.entries.get(EXTRA_DOCKER_ARGS);
    const extra = parseDockerArgs(extraEntry?.value ?? '', input.env);
    for (const problem of extra.problems) {
      issues.push({ ...(extraEntry?.source ?? source), key: EXTRA_DOCKER_ARGS, job: 'autodeploy', message: `${EXTRA_DOCKER_ARGS}: ${problem}` });
    }
    const claims = replaced === undefined ? [] : ['autodeploy'];
    if (schedule === undefined || extra.problems.length > 0) return { job: undefined, issues, claims };
    const job: AutodeployJob = {
      kind: 'autodeploy',
      name: 'autodeploy',
      comment: 'keep every checkout deployed',
      schedule,
      enabled: schedule !== null,
      // A deploy is never cut short: a half-done deploy is worse than a slow one.
      timeoutMs: undefined,
      source,
      triggers: [],
      onstart: false,
      container: autodeployContainer(input, settings.composeDir, extra.args),
      note: { rule, replaces: replaced?.source },
    };
    return { job, issues, claims };
  },
};

function autodeployContainer(input: BuiltinJobInput, composeDir: string, extra: DockerArgs): ContainerSpec {
  const { settings } = input;
  const checkoutRoot = input.checkoutRootOf?.(composeDir) ?? composeDir;
  const volumes = new Set<string>([
    `${DOCKER_SOCKET}:${DOCKER_SOCKET}`,
    sameMount(checkoutRoot),
    ...settings.extraRepos.map((repo) => sameMount(repo)),
    stateMount(input),
  ]);
  // env.local, or the file it links to, may live outside the checkouts (e.g. in a private config repo elsewhere).
  for (const file of envFilePaths(input)) {
    if (![checkoutRoot, ...settings.extraRepos].some((dir) => file.startsWith(`${dir}/`))) volumes.add(sameMount(dirname(file), 'ro'));
  }
  for (const volume of [...credentialMounts(settings), ...extra.volumes]) volumes.add(volume);

  const env: Record<string, string> = { ...extra.env, COMPOSE_DIR: composeDir, AUTODEPLOY_ENV_FILE: input.envFile };
  if (settings.timezone !== undefined) env['TZ'] = settings.timezone;
  // The name is the deploy's mutex: one deploy at a time, whoever starts it.
  return schedulerImageContainer(input, {
    command: ['autodeploy', 'deploy'],
    containerName: 'autodeploy',
    volumes,
    env,
    envFiles: [...extra.envFiles],
    user: extra.user,
    workdir: composeDir,
    network: extra.network,
    extraHosts: [...extra.extraHosts],
    labels: { ...extra.labels },
  });
}
