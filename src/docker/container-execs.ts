// Commands run in running containers (`docker exec`), for docker-crontab's `container` jobs:
// by name, or with `project` in every running container of a compose service. Containers are
// found by compose's labels rather than by docker-crontab's `<project>_<service>_<n>` name
// pattern, which compose v2 no longer follows (it joins with `-`).

import type Docker from 'dockerode';
import type { ContainerExecs, ExecTarget } from '../core/ports.js';
import { DockerError, statusOf } from './errors.js';
import { FrameLineSplitter } from './frames.js';
import { containerName } from './inspect.js';
import { LABEL_COMPOSE_ONEOFF, LABEL_COMPOSE_PROJECT, LABEL_COMPOSE_SERVICE } from './compose-project.js';

export function dockerContainerExecs(docker: Docker): ContainerExecs {
  return {
    async targets(exec) {
      if (exec.project === undefined) {
        let info: Docker.ContainerInspectInfo;
        try {
          info = await docker.getContainer(exec.container).inspect();
        } catch (error) {
          if (statusOf(error) === 404) return [];
          throw new DockerError(`inspect of container ${exec.container}`, error);
        }
        return info.State.Running ? [{ id: info.Id, name: containerName(info) }] : [];
      }
      let found: Docker.ContainerInfo[];
      try {
        found = await docker.listContainers({
          filters: { label: [`${LABEL_COMPOSE_PROJECT}=${exec.project}`, `${LABEL_COMPOSE_SERVICE}=${exec.container}`], status: ['running'] },
        });
      } catch (error) {
        throw new DockerError(`list of the containers of service ${exec.container} of compose project ${exec.project}`, error);
      }
      return found
        .filter((c) => c.Labels[LABEL_COMPOSE_ONEOFF] !== 'True')
        .map((c): ExecTarget => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, '') }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },

    async run(target, exec, options) {
      let stream: NodeJS.ReadableStream & { destroy?: () => void };
      let handle: Docker.Exec;
      try {
        handle = await docker.getContainer(target.id).exec({
          Cmd: [...exec.command],
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
          Env: Object.entries(exec.env).map(([key, value]) => `${key}=${value}`),
          ...(exec.user === undefined ? {} : { User: exec.user }),
          ...(exec.workdir === undefined ? {} : { WorkingDir: exec.workdir }),
        });
        stream = await handle.start({ hijack: true, stdin: false });
      } catch (error) {
        throw new DockerError(`exec in container ${target.name}`, error);
      }
      const onAbort = (): void => stream.destroy?.();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const splitter = new FrameLineSplitter();
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) for (const line of splitter.push(chunk)) options.onLine(line);
      } catch (error) {
        if (!options.signal?.aborted) throw new DockerError(`output of exec in container ${target.name}`, error);
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
      for (const line of splitter.end()) options.onLine(line);
      // The stream ends when the command does; its exit code may take a moment to be recorded.
      for (let attempt = 0; ; attempt += 1) {
        const info = await handle.inspect().catch((error: unknown) => {
          throw new DockerError(`inspect of exec in container ${target.name}`, error);
        });
        if (!info.Running && info.ExitCode !== null) return info.ExitCode;
        if (options.signal?.aborted || attempt >= 50) return info.ExitCode ?? -1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
