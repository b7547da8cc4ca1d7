// What gives a job's container the host: the Docker socket (root on the host by another
// name), the host's root or system directories, the host's network or another container's,
// the labels that make a container pass for the scheduler's or compose's own. Such a job
// runs only when it says so (`host-access: true`), or when it comes from a job file, which
// a platform component of the operator's own checkout put there, as birdhouse's jobs that
// drive Docker do.

import { posix } from 'node:path';
import type { ContainerSpec } from './job.js';

const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];
/** Trees of which every part is the host's own: the kernel's, the engine's, root's home. */
const SYSTEM_TREES = ['/root', '/proc', '/sys', '/dev', '/boot', '/var/lib/docker', '/run/containerd', '/var/run/containerd'];
/** Directories whose whole is the host's configuration; a file inside (/etc/localtime) may be shared. */
const SYSTEM_DIRECTORIES = ['/etc', '/usr', '/bin', '/sbin', '/lib', '/var', '/run'];
/** Files and trees inside those that hold the host's secrets. */
const HOST_SECRETS = ['/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d', '/etc/ssh', '/etc/ssl/private'];
/** Label prefixes the scheduler and compose set on their own containers. */
const OWN_LABELS = ['io.autodeploy.', 'com.docker.compose.'];

/** Whether `path` is `root` or lies below it. */
function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** Why a host path gives the host away, or undefined when it does not. */
export function sensitiveHostPath(path: string): string | undefined {
  const p = posix.normalize(path).replace(/(.)\/+$/, '$1');
  if (p === '/') return 'the host\'s whole file system';
  if (DOCKER_SOCKETS.some((socket) => within(socket, p))) return 'the Docker socket (root on the host)';
  const tree = SYSTEM_TREES.find((root) => within(p, root) || within(root, p));
  if (tree !== undefined) return `the host's ${tree}`;
  const secret = HOST_SECRETS.find((root) => within(p, root) || within(root, p));
  if (secret !== undefined) return `the host's ${secret}`;
  const directory = SYSTEM_DIRECTORIES.find((root) => p === root);
  return directory === undefined ? undefined : `the host's ${directory}`;
}

/** Everything in a container's recipe that gives it the host, each in words for a message. */
export function hostAccessOf(spec: Pick<ContainerSpec, 'volumes' | 'network' | 'envFiles' | 'labels'>): string[] {
  const found: string[] = [];
  for (const volume of spec.volumes) {
    const source = volume.split(':')[0] ?? '';
    if (!source.startsWith('/')) continue;
    const why = sensitiveHostPath(source);
    if (why !== undefined) found.push(`--volume ${volume} mounts ${why}`);
  }
  if (spec.network === 'host') found.push('--network host puts it on the host\'s network');
  if (spec.network?.startsWith('container:') === true) found.push(`--network ${spec.network} puts it in another container's network`);
  for (const file of spec.envFiles) {
    const why = sensitiveHostPath(file);
    if (why !== undefined) found.push(`--env-file ${file} reads ${why}`);
  }
  for (const label of Object.keys(spec.labels)) {
    if (OWN_LABELS.some((prefix) => label.startsWith(prefix))) found.push(`--label ${label} makes it pass for the scheduler's or compose's own container`);
  }
  return found;
}
