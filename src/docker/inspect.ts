import type Docker from 'dockerode';
import { DockerError, statusOf } from './errors.js';

/** The container's inspect result; undefined when it is gone (removed between a list and this call, say). */
export async function inspectContainer(docker: Docker, idOrName: string, label = idOrName): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(idOrName).inspect();
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw new DockerError(`inspect of ${label}`, error);
  }
}

/** The container's name, without the slash Docker puts in front. */
export function containerName(info: Docker.ContainerInspectInfo): string {
  return info.Name.replace(/^\//, '');
}

/** A time Docker reports; undefined for its zero time (0001-01-01), which means never. */
export function dockerTime(text: string | undefined): string | undefined {
  return text && !text.startsWith('0001-') ? text : undefined;
}
