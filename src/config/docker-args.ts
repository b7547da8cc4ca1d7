// `dockerargs` of a PAVICS scheduler job: the `docker run` options the job's
// container gets. Only options with a meaning for a scheduled run are
// accepted; anything else is refused by name rather than silently dropped.
// Option spellings follow `docker run --help`.

import { splitWords } from '../core/shell-words.js';
import { LABEL_JOB, LABEL_ORIGIN, LABEL_RUN } from '../core/job.js';

export interface DockerArgs {
  readonly containerName: string | undefined;
  readonly volumes: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly envFiles: readonly string[];
  readonly user: string | undefined;
  readonly workdir: string | undefined;
  /** `--entrypoint ''` resets the image's entrypoint: an empty list */
  readonly entrypoint: readonly string[] | undefined;
  readonly network: string | undefined;
  readonly extraHosts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface DockerArgsResult {
  readonly args: DockerArgs;
  /** each names the option it is about */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

type Option = 'rm' | 'detach' | 'name' | 'volume' | 'env' | 'env-file' | 'user' | 'workdir' | 'entrypoint' | 'network' | 'add-host' | 'label';

const LONG: Readonly<Record<string, Option>> = {
  '--rm': 'rm',
  '--detach': 'detach',
  '--name': 'name',
  '--volume': 'volume',
  '--env': 'env',
  '--env-file': 'env-file',
  '--user': 'user',
  '--workdir': 'workdir',
  '--entrypoint': 'entrypoint',
  '--network': 'network',
  '--net': 'network',
  '--add-host': 'add-host',
  '--label': 'label',
};
const SHORT: Readonly<Record<string, Option>> = { '-d': 'detach', '-v': 'volume', '-e': 'env', '-u': 'user', '-w': 'workdir', '-l': 'label' };

export const SUPPORTED_DOCKER_OPTIONS =
  '--rm, -d/--detach, --name, -v/--volume, -e/--env, --env-file, -u/--user, -w/--workdir, --entrypoint, --network/--net, --add-host, -l/--label';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const RESERVED_LABELS = [LABEL_JOB, LABEL_RUN, LABEL_ORIGIN];

/** Checks `host:container[:mode]` (host: absolute path or named volume). */
export function volumeProblem(spec: string): string | undefined {
  const parts = spec.split(':');
  const [host, container, mode] = parts;
  if (parts.length < 2 || parts.length > 3 || !host || !container) {
    return `volume "${spec}" is not of the form host:container[:ro|rw]`;
  }
  if (!container.startsWith('/')) return `volume "${spec}": the container path must be absolute`;
  if (!host.startsWith('/') && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(host)) {
    return `volume "${spec}": the host side must be an absolute path or a volume name`;
  }
  if (mode !== undefined && !/^(ro|rw|z|Z|nocopy|r?shared|r?slave|r?private)(,(ro|rw|z|Z|nocopy|r?shared|r?slave|r?private))*$/.test(mode)) {
    return `volume "${spec}": unknown mode "${mode}" (use ro or rw)`;
  }
  return undefined;
}

/** `K=V`, or `K` alone taking its value from `resolvedEnv` as `docker run -e K` does. */
export function envEntry(
  word: string,
  resolvedEnv: Readonly<Record<string, string>>,
): { key: string; value: string | undefined } | { problem: string } {
  const eq = word.indexOf('=');
  const key = eq < 0 ? word : word.slice(0, eq);
  if (!ENV_NAME.test(key)) return { problem: `"${word}" is not NAME=value` };
  return { key, value: eq < 0 ? resolvedEnv[key] : word.slice(eq + 1) };
}

/**
 * Parses a `dockerargs` string. `resolvedEnv` is the configuration's
 * environment, for `-e NAME` without a value.
 */
export function parseDockerArgs(text: string, resolvedEnv: Readonly<Record<string, string>>): DockerArgsResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  let containerName: string | undefined;
  const volumes: string[] = [];
  const env: Record<string, string> = {};
  const envFiles: string[] = [];
  let user: string | undefined;
  let workdir: string | undefined;
  let entrypoint: string[] | undefined;
  let network: string | undefined;
  const extraHosts: string[] = [];
  const labels: Record<string, string> = {};
  const args = (): DockerArgs => ({
    containerName,
    volumes,
    env,
    envFiles,
    user,
    workdir,
    entrypoint,
    network,
    extraHosts,
    labels,
  });

  const split = splitWords(text);
  if (!split.ok) return { args: args(), problems: [`dockerargs ${split.problem}`], warnings };
  const words = split.words;

  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] ?? '';
    let flag = word;
    let inline: string | undefined;
    let option: Option | undefined;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      if (eq > 0) {
        flag = word.slice(0, eq);
        inline = word.slice(eq + 1);
      }
      option = LONG[flag];
    } else if (word.startsWith('-') && word.length >= 2) {
      flag = word.slice(0, 2);
      option = SHORT[flag];
      if (word.length > 2) inline = word.slice(2).replace(/^=/, '');
    } else {
      problems.push(
        `unexpected "${word}" in dockerargs: it holds docker run options only; put the program to run in the command`,
      );
      continue;
    }
    if (option === undefined) {
      const named = word.startsWith('--') ? flag : word;
      problems.push(`docker option ${named} is not supported in dockerargs; supported: ${SUPPORTED_DOCKER_OPTIONS}`);
      continue;
    }
    if (option === 'rm' || option === 'detach') {
      // Every run's container is followed to its end and removed once its output is
      // collected, so docker-crontab's `-d` and `--rm` change nothing here.
      if (inline !== undefined) problems.push(`docker option ${flag} takes no value`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = words[i + 1];
      if (next === undefined) {
        problems.push(`docker option ${flag} needs a value`);
        continue;
      }
      value = next;
      i += 1;
    }
    switch (option) {
      case 'name':
        containerName = value;
        break;
      case 'volume': {
        const problem = volumeProblem(value);
        if (problem !== undefined) problems.push(`${flag} ${problem}`);
        else volumes.push(value);
        break;
      }
      case 'env': {
        const entry = envEntry(value, resolvedEnv);
        if ('problem' in entry) problems.push(`${flag} ${entry.problem}`);
        else if (entry.value === undefined) {
          warnings.push(`${flag} ${entry.key}: ${entry.key} is not set, so the container does not get it`);
        } else env[entry.key] = entry.value;
        break;
      }
      case 'env-file':
        if (!value.startsWith('/')) problems.push(`${flag} "${value}": the file must be given by its absolute path`);
        else envFiles.push(value);
        break;
      case 'user':
        user = value;
        break;
      case 'workdir':
        if (!value.startsWith('/')) problems.push(`${flag} "${value}": the working directory must be an absolute path`);
        else workdir = value;
        break;
      case 'entrypoint':
        entrypoint = value === '' ? [] : [value];
        break;
      case 'network':
        network = value;
        break;
      case 'add-host':
        if (!/^[^:=\s]+[:=].+$/.test(value)) problems.push(`${flag} "${value}" is not host:ip`);
        else extraHosts.push(value);
        break;
      case 'label': {
        const eq = value.indexOf('=');
        const key = eq < 0 ? value : value.slice(0, eq);
        if (key === '') problems.push(`${flag} "${value}" is not key=value`);
        else if (RESERVED_LABELS.includes(key)) problems.push(`${flag} ${key}: this label is set by the scheduler itself`);
        else labels[key] = eq < 0 ? '' : value.slice(eq + 1);
        break;
      }
    }
  }
  return { args: args(), problems, warnings };
}
