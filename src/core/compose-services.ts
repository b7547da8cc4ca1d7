// What a deploy needs to know of the platform's services, read from the
// resolved configuration that `compose config` prints: plain data, no I/O. Over 300
// lines as one file: the parser and the decisions over its result (what to restart,
// what to expect) share one model of a service and its mounts.

import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** How a host path reaches into a container. */
export type MountKind = 'volume' | 'config' | 'secret';

/** A host path a service sees: a bind mount, or a file-based config or secret (compose bind-mounts those too). */
export interface BindMount {
  /** absolute host path (as `compose config` resolves it), or as written when it was relative and no project dir was given */
  readonly source: string;
  /** path inside the container; undefined when compose picks it */
  readonly target: string | undefined;
  readonly readOnly: boolean;
  readonly kind: MountKind;
}

export interface ComposeService {
  readonly name: string;
  readonly image: string | undefined;
  readonly mounts: readonly BindMount[];
  /** the service defines a healthcheck that is not disabled (an image's own HEALTHCHECK is not visible here) */
  readonly hasHealthcheck: boolean;
  /** the service only starts when one of these profiles is active; empty: always */
  readonly profiles: readonly string[];
  /** `scale` or `deploy.replicas` when set; 0 means compose starts no container */
  readonly replicas: number | undefined;
  /** false when the service's label RESTART_ON_CHANGE_LABEL is "false": it reloads changed files itself */
  readonly restartOnChange: boolean;
}

/**
 * A service labelled `io.autodeploy.restart-on-change: "false"` is not restarted when a file it
 * mounts changes (it still is recreated when its own definition changes). The scheduler carries
 * it: it mounts the whole COMPOSE_DIR but re-reads env.local by itself.
 */
export const RESTART_ON_CHANGE_LABEL = 'io.autodeploy.restart-on-change';

export interface ComposeConfig {
  /** the top-level `name:`: compose v2 always prints the resolved project name there; v1 never does */
  readonly projectName: string | undefined;
  readonly services: readonly ComposeService[];
}

/** `compose config` printed something that is not a compose configuration. */
export class ComposeConfigError extends Error {
  /** the first lines of what was read, for the log */
  readonly excerpt: string;
  constructor(problem: string, text: string, cause?: unknown) {
    super(`the output of "compose config" cannot be read as a compose configuration: ${problem}`, { cause });
    this.name = 'ComposeConfigError';
    this.excerpt = text.split('\n').slice(0, 10).join('\n');
  }
}

export interface ParseOptions {
  /** resolves relative mount sources (only needed for text that did not come from `compose config`) */
  readonly projectDir?: string;
}

// Top-level keys of the compose specification. A wrapper script such as
// birdhouse-compose.sh may print its own log lines on stdout around compose's
// output; any other unindented line is one of those and is dropped.
const TOP_LEVEL_KEY = /^(name|version|services|networks|volumes|configs|secrets|include|models|x-[^:\s]*)\s*:/;

/** The YAML document in `compose config` output, without the log lines a wrapper may have printed around it. */
export function extractConfigYaml(text: string): string {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => TOP_LEVEL_KEY.test(line));
  if (start === -1) return '';
  const kept: string[] = [];
  for (const line of lines.slice(start)) {
    if (line === '' || /^\s/.test(line) || line.startsWith('- ') || line.startsWith('#') || TOP_LEVEL_KEY.test(line)) kept.push(line);
  }
  return kept.join('\n');
}

export function parseComposeConfig(text: string, options: ParseOptions = {}): ComposeConfig {
  const yamlText = extractConfigYaml(text);
  if (yamlText === '') throw new ComposeConfigError('no top-level "services:" or other compose key was found', text);
  let document: unknown;
  try {
    document = parseYaml(yamlText, { merge: true });
  } catch (error) {
    throw new ComposeConfigError(`invalid YAML (${(error as Error).message.split('\n')[0] ?? ''})`, yamlText, error);
  }
  const root = asRecord(document);
  if (root === undefined) throw new ComposeConfigError('it is not a mapping', yamlText);
  const servicesNode = root['services'];
  const services = asRecord(servicesNode);
  if (services === undefined) {
    if (servicesNode === undefined || servicesNode === null) return { projectName: projectNameOf(root), services: [] };
    throw new ComposeConfigError('"services" is not a mapping', yamlText);
  }
  const configFiles = fileSources(root['configs'], options);
  const secretFiles = fileSources(root['secrets'], options);
  const parsed = Object.entries(services).map(([name, node]) => parseService(name, asRecord(node) ?? {}, { configFiles, secretFiles, options }));
  parsed.sort((a, b) => a.name.localeCompare(b.name));
  return { projectName: projectNameOf(root), services: parsed };
}

function projectNameOf(root: Record<string, unknown>): string | undefined {
  const name = root['name'];
  return typeof name === 'string' && name !== '' ? name : undefined;
}

interface ServiceContext {
  readonly configFiles: ReadonlyMap<string, string>;
  readonly secretFiles: ReadonlyMap<string, string>;
  readonly options: ParseOptions;
}

function parseService(name: string, node: Record<string, unknown>, context: ServiceContext): ComposeService {
  const image = typeof node['image'] === 'string' ? node['image'] : undefined;
  const mounts: BindMount[] = [];
  for (const entry of asArray(node['volumes'])) {
    const mount = volumeMount(entry, context.options);
    if (mount !== undefined) mounts.push(mount);
  }
  mounts.push(...fileMounts(node['configs'], context.configFiles, 'config', (source) => `/${source}`));
  mounts.push(...fileMounts(node['secrets'], context.secretFiles, 'secret', (source) => `/run/secrets/${source}`));
  return {
    name,
    image,
    mounts,
    hasHealthcheck: healthcheckEnabled(node['healthcheck']),
    profiles: asArray(node['profiles']).filter((p): p is string => typeof p === 'string'),
    replicas: replicasOf(node),
    restartOnChange: labelOf(node['labels'], RESTART_ON_CHANGE_LABEL)?.toLowerCase() !== 'false',
  };
}

/** A label's value; compose accepts labels as a map or as a list of `key=value`. */
function labelOf(labels: unknown, key: string): string | undefined {
  if (Array.isArray(labels)) {
    for (const entry of labels) {
      if (typeof entry === 'string' && entry.startsWith(`${key}=`)) return entry.slice(key.length + 1);
    }
    return undefined;
  }
  if (labels !== null && typeof labels === 'object') {
    const value = (labels as Record<string, unknown>)[key];
    return value === undefined || value === null ? undefined : String(value);
  }
  return undefined;
}

/** Short syntax `SRC:DST[:MODE]` or long syntax `{type: bind, source, target}`; named and anonymous volumes are not host paths. */
function volumeMount(entry: unknown, options: ParseOptions): BindMount | undefined {
  if (typeof entry === 'string') {
    const parts = entry.split(':');
    if (parts.length < 2) return undefined;
    const [source = '', target, mode = ''] = parts;
    if (!isHostPath(source)) return undefined;
    return { source: resolveSource(source, options), target, readOnly: mode.split(',').includes('ro'), kind: 'volume' };
  }
  const long = asRecord(entry);
  if (long === undefined) return undefined;
  const source = long['source'];
  if (typeof source !== 'string' || source === '') return undefined;
  // Long syntax without a type is a named volume unless the source is a path.
  const type = long['type'];
  if (type !== 'bind' && !(type === undefined && isHostPath(source))) return undefined;
  const target = typeof long['target'] === 'string' ? long['target'] : undefined;
  return { source: resolveSource(source, options), target, readOnly: long['read_only'] === true, kind: 'volume' };
}

function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
}

function resolveSource(source: string, options: ParseOptions): string {
  if (source.startsWith('/')) return normalizePath(source);
  if (source.startsWith('.') && options.projectDir !== undefined) return normalizePath(posix.join(options.projectDir, source));
  return source;
}

/** The top-level `configs:`/`secrets:` entries that come from a file. */
function fileSources(node: unknown, options: ParseOptions): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, value] of Object.entries(asRecord(node) ?? {})) {
    const file = asRecord(value)?.['file'];
    if (typeof file === 'string' && file !== '') files.set(name, resolveSource(file, options));
  }
  return files;
}

function fileMounts(node: unknown, files: ReadonlyMap<string, string>, kind: MountKind, defaultTarget: (source: string) => string): BindMount[] {
  const mounts: BindMount[] = [];
  for (const entry of asArray(node)) {
    const reference = typeof entry === 'string' ? { source: entry, target: undefined } : referenceOf(asRecord(entry));
    if (reference === undefined) continue;
    const file = files.get(reference.source);
    if (file === undefined) continue;
    mounts.push({ source: file, target: reference.target ?? defaultTarget(reference.source), readOnly: true, kind });
  }
  return mounts;
}

function referenceOf(entry: Record<string, unknown> | undefined): { source: string; target: string | undefined } | undefined {
  const source = entry?.['source'];
  if (typeof source !== 'string') return undefined;
  const target = entry?.['target'];
  return { source, target: typeof target === 'string' ? target : undefined };
}

function healthcheckEnabled(node: unknown): boolean {
  const healthcheck = asRecord(node);
  if (healthcheck === undefined) return false;
  if (healthcheck['disable'] === true) return false;
  const test = healthcheck['test'];
  if (Array.isArray(test) && test[0] === 'NONE') return false;
  if (test === 'NONE') return false;
  return true;
}

function replicasOf(node: Record<string, unknown>): number | undefined {
  const replicas = asRecord(node['deploy'])?.['replicas'] ?? node['scale'];
  if (typeof replicas === 'number') return replicas;
  if (typeof replicas === 'string' && /^\d+$/.test(replicas)) return Number(replicas);
  return undefined;
}

/**
 * The services that `up -d` starts: those without profiles or with an active one,
 * and not scaled to zero. (v2's `config` already leaves out inactive profiles; v1's does not.)
 */
export function expectedServices(config: ComposeConfig, activeProfiles: readonly string[] = []): string[] {
  const all = activeProfiles.includes('*');
  return config.services
    .filter((service) => service.profiles.length === 0 || all || service.profiles.some((p) => activeProfiles.includes(p)))
    .filter((service) => service.replicas !== 0)
    .map((service) => service.name);
}

/** The profiles compose activates from its environment (`COMPOSE_PROFILES`, comma-separated). */
export function profilesFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  return (env['COMPOSE_PROFILES'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

export interface ServiceToRestart {
  readonly service: string;
  /** the changed paths that reach the service through one of its mounts */
  readonly changed: readonly string[];
}

/**
 * Services that see a changed path through a mount: compose recreates a service
 * whose definition changed, but a file it mounts can change under it unnoticed,
 * and the service keeps what it read at start.
 */
export function servicesToRestart(services: readonly ComposeService[], changedAbsolutePaths: readonly string[]): ServiceToRestart[] {
  const changed = changedAbsolutePaths.map(normalizePath);
  const result: ServiceToRestart[] = [];
  for (const service of services) {
    if (!service.restartOnChange) continue;
    const hits = changed.filter((path) => service.mounts.some((mount) => isWithin(path, mount.source)));
    if (hits.length > 0) result.push({ service: service.name, changed: [...new Set(hits)].sort() });
  }
  return result.sort((a, b) => a.service.localeCompare(b.service));
}

/** `path` is `root` itself or inside it; `/a/bc` is not inside `/a/b`. */
export function isWithin(path: string, root: string): boolean {
  const p = normalizePath(path);
  const r = normalizePath(root);
  if (!r.startsWith('/') || !p.startsWith('/')) return false;
  if (r === '/') return true;
  return p === r || p.startsWith(`${r}/`);
}

function normalizePath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** Where one service's container stood at a moment: enough to tell whether it restarted since. */
export interface ServiceStart {
  readonly service: string;
  readonly containerId: string;
  readonly startedAt: string | undefined;
}

/**
 * Of `services`, those whose containers have not (re)started between `before` and `after`
 * (e.g. a restart is still owed after `up -d` recreated some services but not others).
 */
export function notRestartedSince(services: readonly string[], before: readonly ServiceStart[], after: readonly ServiceStart[]): string[] {
  const key = (start: ServiceStart): string => `${start.containerId}@${start.startedAt ?? ''}`;
  return services.filter((service) => {
    const then = new Set(before.filter((s) => s.service === service).map(key));
    const now = after.filter((s) => s.service === service).map(key);
    // No container now: `up -d` did not start it, so a restart would not help either; leave it to verification.
    if (now.length === 0) return false;
    return now.some((k) => then.has(k));
  });
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
