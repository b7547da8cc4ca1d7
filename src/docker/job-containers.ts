import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import Docker from 'dockerode';
import { LABEL_BY, LABEL_INSTANCE, LABEL_JOB, LABEL_ORIGIN, LABEL_RUN, type ContainerSpec } from '../core/job.js';
import { ContainerNameInUse, DockerError, statusOf } from './errors.js';
import type { JobContainers } from '../core/ports.js';
import { parseRunOrigin, type OutputLine, type RunContainer, type RunMeta } from '../core/run.js';
import { FrameLineSplitter } from './frames.js';
import { containerName, dockerTime, inspectContainer } from './inspect.js';
import { shortId } from '../core/short-id.js';

export interface DockerConnection {
  /** unix socket path; defaults to DOCKER_HOST's `unix://` path or /var/run/docker.sock */
  readonly socketPath?: string;
  /**
   * Fail a request the engine has not answered within this long. Only for connections that
   * ask questions: a followed log or a wait on a container legitimately lasts for hours.
   */
  readonly timeoutMs?: number;
}

export function connectDocker(options: DockerConnection = {}, env: NodeJS.ProcessEnv = process.env): Docker {
  const fromEnv = env['DOCKER_HOST']?.startsWith('unix://') ? env['DOCKER_HOST'].slice('unix://'.length) : undefined;
  return new Docker({ socketPath: options.socketPath ?? fromEnv ?? '/var/run/docker.sock', ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }) });
}

export function dockerJobContainers(docker: Docker): JobContainers {
  return {
    async create(spec, meta) {
      const options = await createOptions(spec, meta);
      const failure = (error: unknown): Error =>
        statusOf(error) === 409 ? new ContainerNameInUse(spec.containerName, error) : new DockerError(`create of ${spec.containerName}`, error);
      try {
        return (await docker.createContainer(options)).id;
      } catch (error) {
        if (statusOf(error) !== 404) throw failure(error);
      }
      // 404: the image is not on this host. `docker run` pulls it; so do we, once.
      await pull(docker, spec.image);
      try {
        return (await docker.createContainer(options)).id;
      } catch (error) {
        throw failure(error);
      }
    },

    async start(id) {
      try {
        await docker.getContainer(id).start();
      } catch (error) {
        // 304: already started, which is what we wanted.
        if (statusOf(error) !== 304) throw new DockerError(`start of ${shortId(id)}`, error);
      }
    },

    async inspect(idOrName) {
      const info = await inspectContainer(docker, idOrName);
      return info === undefined ? undefined : toRunContainer(info);
    },

    async list() {
      let summaries: Docker.ContainerInfo[];
      try {
        summaries = await docker.listContainers({ all: true, filters: { label: [LABEL_JOB] } });
      } catch (error) {
        throw new DockerError('list of job containers', error);
      }
      const found: RunContainer[] = [];
      for (const summary of summaries) {
        const container = await this.inspect(summary.Id);
        if (container) found.push(container);
      }
      return found;
    },

    output(id, { skipLines, signal }) {
      return followOutput(docker, id, skipLines, signal);
    },

    async wait(id) {
      try {
        const result = (await docker.getContainer(id).wait()) as { StatusCode?: number };
        return result.StatusCode ?? -1;
      } catch (error) {
        throw new DockerError(`wait for ${shortId(id)}`, error);
      }
    },

    async stop(id, graceSeconds) {
      try {
        await docker.getContainer(id).stop({ t: graceSeconds });
      } catch (error) {
        // 304: already stopped; 404: already gone.
        const status = statusOf(error);
        if (status !== 304 && status !== 404) throw new DockerError(`stop of ${shortId(id)}`, error);
      }
    },

    async remove(id) {
      try {
        await docker.getContainer(id).remove({ force: true });
      } catch (error) {
        // 404: already gone; 409: removal already in progress.
        const status = statusOf(error);
        if (status !== 404 && status !== 409) throw new DockerError(`remove of ${shortId(id)}`, error);
      }
    },

    engineRestart: (options) => engineRestart(docker, options.signal),

    async self() {
      // In a container, the hostname is the container's short id unless the compose file set another;
      // the cgroup path would be more robust but differs between cgroup v1 and v2.
      let info: Docker.ContainerInspectInfo;
      try {
        info = await docker.getContainer(hostname()).inspect();
      } catch {
        return undefined;
      }
      const mounts = new Map<string, string>();
      for (const mount of info.Mounts) {
        const source = mount.Type === 'volume' && mount.Name ? mount.Name : mount.Source;
        mounts.set(mount.Destination, source);
      }
      return { id: info.Id, image: info.Config.Image, mounts, labels: info.Config.Labels ?? {} };
    },
  };
}

/** An engine that stops closes its socket within a second or two of killing its containers. */
const ENGINE_SETTLE_MS = 5_000;
/** How long a restarting engine is waited for before the run is given up as lost with it. */
const ENGINE_RETURN_MS = 180_000;
const ENGINE_POLL_MS = 250;

async function engineRestart(docker: Docker, signal: AbortSignal | undefined): Promise<'restarted' | 'steady' | 'gone'> {
  const answers = async (): Promise<boolean> => {
    try {
      await docker.ping();
      return true;
    } catch {
      return false;
    }
  };
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, ENGINE_POLL_MS));
  const settled = Date.now() + ENGINE_SETTLE_MS;
  let wentAway = false;
  while (!wentAway && Date.now() < settled) {
    if (signal?.aborted) return 'steady';
    if (!(await answers())) wentAway = true;
    else await pause();
  }
  if (!wentAway) return 'steady';
  const deadline = Date.now() + ENGINE_RETURN_MS;
  while (Date.now() < deadline) {
    if (signal?.aborted) return 'gone';
    if (await answers()) return 'restarted';
    await pause();
  }
  return 'gone';
}

async function createOptions(spec: ContainerSpec, meta: RunMeta): Promise<Docker.ContainerCreateOptions> {
  const env: Record<string, string> = {};
  for (const file of spec.envFiles) Object.assign(env, await readDockerEnvFile(file, spec.env));
  Object.assign(env, spec.env);
  // A job knows which job and run it is (and `autodeploy status` knows it runs inside a job).
  env['AUTODEPLOY_JOB'] = meta.job;
  env['AUTODEPLOY_RUN'] = meta.run;
  const options: Docker.ContainerCreateOptions = {
    name: spec.containerName,
    Image: spec.image,
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: { ...spec.labels, [LABEL_JOB]: meta.job, [LABEL_RUN]: meta.run, [LABEL_ORIGIN]: meta.origin, ...(meta.by === undefined ? {} : { [LABEL_BY]: meta.by }), [LABEL_INSTANCE]: meta.instance },
    Tty: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: {
      Binds: [...spec.volumes],
      ExtraHosts: [...spec.extraHosts],
      // Not AutoRemove: the container must outlive a scheduler restart so that its
      // output and exit code can still be collected; the runner removes it.
      AutoRemove: false,
      LogConfig: { Type: 'json-file', Config: {} },
    },
  };
  if (spec.command.length > 0) options.Cmd = [...spec.command];
  if (spec.entrypoint !== undefined) options.Entrypoint = [...spec.entrypoint];
  if (spec.user !== undefined) options.User = spec.user;
  if (spec.workdir !== undefined) options.WorkingDir = spec.workdir;
  if (spec.network !== undefined) options.HostConfig!.NetworkMode = spec.network;
  return options;
}

/** `docker run --env-file` format: KEY=value per line, `#` comments, no quoting; a bare KEY takes the caller's value. */
async function readDockerEnvFile(path: string, env: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read --env-file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const values: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq === -1) {
      const value = env[line.trim()] ?? process.env[line.trim()];
      if (value !== undefined) values[line.trim()] = value;
    } else {
      values[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return values;
}

async function pull(docker: Docker, image: string): Promise<void> {
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  } catch (error) {
    throw new DockerError(`pull of image ${image} (it is not on this host)`, error);
  }
}

async function* followOutput(
  docker: Docker,
  id: string,
  skipLines: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<OutputLine> {
  let stream: NodeJS.ReadableStream & { destroy?: () => void };
  try {
    stream = await docker.getContainer(id).logs({ follow: true, stdout: true, stderr: true });
  } catch (error) {
    throw new DockerError(`logs of ${shortId(id)}`, error);
  }
  // On abort the scheduler is shutting down: stop reading, leave the container running
  // (the next scheduler re-attaches), and do not flush a partial line as if it were whole.
  const onAbort = (): void => stream.destroy?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  const splitter = new FrameLineSplitter();
  let toSkip = skipLines;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (const line of splitter.push(chunk)) {
        if (toSkip > 0) toSkip -= 1;
        else yield line;
      }
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw new DockerError(`logs of ${shortId(id)}`, error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) return;
  for (const line of splitter.end()) {
    if (toSkip > 0) toSkip -= 1;
    else yield line;
  }
}

function toRunContainer(info: Docker.ContainerInspectInfo): RunContainer {
  const labels = info.Config.Labels ?? {};
  const started = dockerTime(info.State.StartedAt);
  const finished = dockerTime(info.State.FinishedAt);
  return {
    id: info.Id,
    name: containerName(info),
    job: labels[LABEL_JOB] ?? '',
    run: labels[LABEL_RUN] ?? '',
    origin: parseRunOrigin(labels[LABEL_ORIGIN]),
    ...(labels[LABEL_BY] === undefined ? {} : { by: labels[LABEL_BY] }),
    instance: labels[LABEL_INSTANCE] ?? '',
    running: info.State.Running || info.State.Restarting,
    exitCode: info.State.Running ? undefined : info.State.ExitCode,
    startedAt: started === undefined ? undefined : new Date(started),
    finishedAt: finished === undefined || info.State.Running ? undefined : new Date(finished),
  };
}

