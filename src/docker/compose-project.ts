import type Docker from 'dockerode';
import type { ComposeContainers, ContainerStatus, ServiceContainer } from '../core/ports.js';
import { DockerError } from './errors.js';
import { containerName, dockerTime, inspectContainer } from './inspect.js';
import { shortId } from '../core/short-id.js';

// Labels compose (v1 and v2 alike) puts on every container it creates.
// https://github.com/docker/compose/blob/v2/pkg/api/labels.go
export const LABEL_COMPOSE_PROJECT = 'com.docker.compose.project';
export const LABEL_COMPOSE_SERVICE = 'com.docker.compose.service';
/** "True" on containers of `compose run`, which are not part of the deployed services. */
export const LABEL_COMPOSE_ONEOFF = 'com.docker.compose.oneoff';

export function dockerComposeContainers(docker: Docker): ComposeContainers {
  return {
    async list(project) {
      let summaries: Docker.ContainerInfo[];
      try {
        summaries = await docker.listContainers({ all: true, filters: { label: [`${LABEL_COMPOSE_PROJECT}=${project}`] } });
      } catch (error) {
        throw new DockerError(`list of the containers of compose project ${project}`, error);
      }
      const found: ServiceContainer[] = [];
      for (const summary of summaries) {
        if (summary.Labels?.[LABEL_COMPOSE_ONEOFF] === 'True') continue;
        // Gone between list and inspect: compose replacing it, for instance.
        const info = await inspectContainer(docker, summary.Id, shortId(summary.Id));
        if (info === undefined) continue;
        const container = toServiceContainer(info);
        if (container !== undefined) found.push(container);
      }
      return found.sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
    },

    async projectOf(containerId) {
      const info = await inspectContainer(docker, containerId, shortId(containerId));
      return info?.Config.Labels?.[LABEL_COMPOSE_PROJECT] || undefined;
    },
  };
}

const STATUSES: readonly ContainerStatus[] = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

function toServiceContainer(info: Docker.ContainerInspectInfo): ServiceContainer | undefined {
  const labels = info.Config.Labels ?? {};
  const project = labels[LABEL_COMPOSE_PROJECT];
  const service = labels[LABEL_COMPOSE_SERVICE];
  if (project === undefined || service === undefined) return undefined;
  const state = info.State;
  const status = (STATUSES as readonly string[]).includes(state.Status) ? (state.Status as ContainerStatus) : state.Running ? 'running' : 'exited';
  const health = state.Health;
  const healthStatus = health?.Status === 'starting' || health?.Status === 'healthy' || health?.Status === 'unhealthy' ? health.Status : undefined;
  const lastLog = health?.Log?.at(-1);
  const started = dockerTime(state.StartedAt);
  const finished = dockerTime(state.FinishedAt) !== undefined;
  return {
    id: info.Id,
    name: containerName(info),
    project,
    service,
    status,
    exitCode: finished || status === 'exited' || status === 'dead' ? state.ExitCode : undefined,
    health: healthStatus,
    failingStreak: health?.FailingStreak ?? 0,
    lastHealthOutput: lastLog?.Output.trim() || undefined,
    restartPolicy: info.HostConfig.RestartPolicy?.Name || 'no',
    restartCount: info.RestartCount,
    startedAt: started,
    oomKilled: state.OOMKilled,
    error: state.Error || undefined,
  };
}
