import type { NotebookSource } from '../core/notebook-source.js';
import type { Ownership } from '../core/ownership.js';
import type { NotifyTarget } from '../core/notify-target.js';
import type { ConfigIssue } from '../core/issues.js';
import type { SettingEntry } from './job-draft.js';
import { settingsSchema, type SettingsInput } from './schemas.js';

/** The scheduler's own settings. The other AUTODEPLOY_* values stay raw in `Config.env`. */
export interface Settings {
  /** COMPOSE_DIR: the platform directory */
  readonly composeDir?: string;
  /** AUTODEPLOY_LOG_DIR, else BIRDHOUSE_LOG_DIR, else PAVICS_LOG_DIR */
  readonly logDir: string;
  /** AUTODEPLOY_LOG_FORMAT */
  readonly logFormat: 'text' | 'json';
  /** AUTODEPLOY_LOG_MAX_SIZE, as pino-roll reads it: `500k`, `10m`, `1g` (a bare number is megabytes) */
  readonly logMaxSize: string;
  /** AUTODEPLOY_LOG_KEEP: rotated files kept per log */
  readonly logKeep: number;
  /** AUTODEPLOY_STATE_DIR */
  readonly stateDir: string;
  /** AUTODEPLOY_JOBS_DIR: job files in docker-crontab's format, as birdhouse 2.x mounts them */
  readonly jobsDir: string;
  /** TZ: the zone cron schedules are read in; undefined: the system's */
  readonly timezone?: string;
  /** AUTODEPLOY_JOB_TIMEOUT: default run limit of extra jobs; undefined: none */
  readonly defaultJobTimeoutMs?: number;
  /** AUTODEPLOY_IMAGE: the scheduler's image, also run by the built-in jobs */
  readonly image?: string;
  /** AUTODEPLOY_EXTRA_REPOS: more checkouts to keep deployed */
  readonly extraRepos: readonly string[];
  /** AUTODEPLOY_DEPLOY_KEY_ROOT_DIR */
  readonly deployKeyRootDir?: string;
  /** AUTODEPLOY_PLATFORM_FREQUENCY as written; empty disables the autodeploy job */
  readonly platformFrequency: string;
  /** AUTODEPLOY_COMPOSE, else BIRDHOUSE_COMPOSE: the compose command; undefined: found in COMPOSE_DIR */
  readonly compose?: string;
  /** AUTODEPLOY_CODE_OWNERSHIP: numeric uid:gid, or uid alone (the group is then left alone) */
  readonly codeOwnership?: Ownership;
  /** AUTODEPLOY_KNOWN_HOSTS: pinned known_hosts; undefined: trust on first use */
  readonly knownHosts?: string;
  /** AUTODEPLOY_RESTART */
  readonly restart: 'changed' | 'all';
  /** AUTODEPLOY_VERIFY_TIMEOUT */
  readonly verifyTimeoutMs: number;
  /** AUTODEPLOY_COMPOSE_TIMEOUT: the deadline of each compose command of a deploy */
  readonly composeTimeoutMs: number;
  /** AUTODEPLOY_GIT_TIMEOUT: the deadline of each git command (fetch, merge, reset) */
  readonly gitTimeoutMs: number;
  /** AUTODEPLOY_TRIGGER_TIMEOUT: the deadline of a conditional trigger script */
  readonly triggerTimeoutMs: number;
  /** AUTODEPLOY_NOTEBOOK_FETCH_TIMEOUT: the deadline of each git command fetching a notebook source */
  readonly notebookFetchTimeoutMs: number;
  /** AUTODEPLOY_NOTEBOOK_FREQUENCY as written; empty disables the notebookdeploy job */
  readonly notebookFrequency: string;
  /** AUTODEPLOY_NOTEBOOK_SOURCES, one per line of the value */
  readonly notebookSources: readonly NotebookSource[];
  /** AUTODEPLOY_NOTEBOOK_TARGET_DIR, else `${JUPYTERHUB_USER_DATA_DIR}/tutorial-notebooks`; undefined when neither is set */
  readonly notebookTargetDir?: string;
  /** AUTODEPLOY_NOTEBOOK_OWNER: numeric uid:gid (root is 0:0) */
  readonly notebookOwner: Ownership;
  /** AUTODEPLOY_HTTP_PORT: the webhooks and API; undefined: no HTTP server at all */
  readonly httpPort?: number;
  /** AUTODEPLOY_HTTP_HOST: the address the server listens on */
  readonly httpHost: string;
  /** AUTODEPLOY_WEBHOOK_SECRET: what git hosts sign pushes with; undefined: every webhook is refused */
  readonly webhookSecret?: string;
  /** AUTODEPLOY_API_TOKENS_FILE: bearer tokens of the API; undefined: the API refuses every call */
  readonly apiTokensFile?: string;
  /** AUTODEPLOY_NOTIFY_URLS: where deploy and job outcomes are sent */
  readonly notifyTargets: readonly NotifyTarget[];
}

/** Where the published notebooks go when AUTODEPLOY_NOTEBOOK_TARGET_DIR is not set: birdhouse-deploy's place for them. */
export const JUPYTERHUB_USER_DATA_DIR = 'JUPYTERHUB_USER_DATA_DIR';
export const TUTORIAL_NOTEBOOKS = 'tutorial-notebooks';

export interface SettingVariable {
  readonly name: string;
  /**
   * The platform's own variables for the same thing, read in order when `name` is unset or empty:
   * the scheduler then follows the platform without being told twice.
   */
  readonly alternatives?: readonly string[];
  /** the value when every variable is unset or empty */
  readonly fallback?: string;
  readonly multiline?: true;
  /** the value is a secret: a message about it never quotes it */
  readonly secret?: true;
}

/** Where each setting is read from, and its value when the configuration leaves it unset or empty. */
export const SETTING_VARIABLES: Readonly<Record<keyof SettingsInput, SettingVariable>> = {
  composeDir: { name: 'COMPOSE_DIR' },
  // birdhouse-deploy 2.x writes its jobs' logs to BIRDHOUSE_LOG_DIR (its default.env), PAVICS 1.x
  // to PAVICS_LOG_DIR: https://github.com/bird-house/birdhouse-deploy/blob/master/birdhouse/default.env
  logDir: { name: 'AUTODEPLOY_LOG_DIR', alternatives: ['BIRDHOUSE_LOG_DIR', 'PAVICS_LOG_DIR'], fallback: '/var/log/PAVICS' },
  logFormat: { name: 'AUTODEPLOY_LOG_FORMAT', fallback: 'text' },
  logMaxSize: { name: 'AUTODEPLOY_LOG_MAX_SIZE', fallback: '10m' },
  logKeep: { name: 'AUTODEPLOY_LOG_KEEP', fallback: '10' },
  stateDir: { name: 'AUTODEPLOY_STATE_DIR', fallback: '/var/lib/autodeploy' },
  jobsDir: { name: 'AUTODEPLOY_JOBS_DIR', fallback: '/scheduler-job-configs' },
  timezone: { name: 'TZ' },
  defaultJobTimeoutMs: { name: 'AUTODEPLOY_JOB_TIMEOUT' },
  image: { name: 'AUTODEPLOY_IMAGE' },
  extraRepos: { name: 'AUTODEPLOY_EXTRA_REPOS' },
  deployKeyRootDir: { name: 'AUTODEPLOY_DEPLOY_KEY_ROOT_DIR' },
  platformFrequency: { name: 'AUTODEPLOY_PLATFORM_FREQUENCY' },
  // birdhouse-deploy's own deploy runs BIRDHOUSE_COMPOSE (birdhouse/deployment/deploy.sh); its
  // compose wrapper sets it to its own path.
  compose: { name: 'AUTODEPLOY_COMPOSE', alternatives: ['BIRDHOUSE_COMPOSE'] },
  codeOwnership: { name: 'AUTODEPLOY_CODE_OWNERSHIP' },
  knownHosts: { name: 'AUTODEPLOY_KNOWN_HOSTS' },
  restart: { name: 'AUTODEPLOY_RESTART', fallback: 'changed' },
  verifyTimeoutMs: { name: 'AUTODEPLOY_VERIFY_TIMEOUT', fallback: '5m' },
  composeTimeoutMs: { name: 'AUTODEPLOY_COMPOSE_TIMEOUT', fallback: '15m' },
  gitTimeoutMs: { name: 'AUTODEPLOY_GIT_TIMEOUT', fallback: '2m' },
  triggerTimeoutMs: { name: 'AUTODEPLOY_TRIGGER_TIMEOUT', fallback: '1m' },
  notebookFetchTimeoutMs: { name: 'AUTODEPLOY_NOTEBOOK_FETCH_TIMEOUT', fallback: '10m' },
  notebookFrequency: { name: 'AUTODEPLOY_NOTEBOOK_FREQUENCY' },
  // Kept untrimmed: a problem is reported at its line, counted from the assignment's first line.
  notebookSources: { name: 'AUTODEPLOY_NOTEBOOK_SOURCES', multiline: true },
  notebookTargetDir: { name: 'AUTODEPLOY_NOTEBOOK_TARGET_DIR' },
  notebookOwner: { name: 'AUTODEPLOY_NOTEBOOK_OWNER', fallback: 'root:root' },
  httpPort: { name: 'AUTODEPLOY_HTTP_PORT' },
  httpHost: { name: 'AUTODEPLOY_HTTP_HOST', fallback: '0.0.0.0' },
  // A problem with these never quotes the value: it is a secret.
  webhookSecret: { name: 'AUTODEPLOY_WEBHOOK_SECRET', secret: true },
  apiTokensFile: { name: 'AUTODEPLOY_API_TOKENS_FILE' },
  notifyUrls: { name: 'AUTODEPLOY_NOTIFY_URLS', secret: true },
};

/** The variables a setting is read from, in order. */
export function settingNames(variable: SettingVariable): readonly string[] {
  return [variable.name, ...(variable.alternatives ?? [])];
}

/**
 * A setting as the process environment alone gives it, for when env.local cannot be read: the
 * first of its variables that is set and not empty (an AUTODEPLOY_* one under either spelling),
 * else its fallback ('' when it has none).
 */
export function settingFromEnvironment(field: keyof SettingsInput, env: Readonly<Record<string, string | undefined>>): string {
  const variable = SETTING_VARIABLES[field];
  for (const name of settingNames(variable)) {
    for (const spelling of name.startsWith('AUTODEPLOY_') ? [name, `BIRDHOUSE_${name}`] : [name]) {
      const value = env[spelling]?.trim();
      if (value !== undefined && value !== '') return value;
    }
  }
  return variable.fallback ?? '';
}

export interface SettingsResult {
  readonly settings: Settings | undefined;
  readonly issues: readonly ConfigIssue[];
}

/** Validates the settings; each problem points at the line that set the value. */
export function buildSettings(entries: ReadonlyMap<string, SettingEntry>, fallbackFile: string): SettingsResult {
  const raw: Record<string, string> = {};
  /** the variable each value was read from, for the messages about it */
  const readFrom: Record<string, string> = {};
  for (const [field, variable] of Object.entries(SETTING_VARIABLES)) {
    const name = settingNames(variable).find((n) => (entries.get(n)?.value.trim() ?? '') !== '');
    const value = name === undefined ? undefined : entries.get(name)?.value;
    readFrom[field] = name ?? variable.name;
    if (value !== undefined) raw[field] = variable.multiline ? value : value.trim();
    else if (variable.fallback !== undefined) raw[field] = variable.fallback;
  }
  const userDataDir = entries.get(JUPYTERHUB_USER_DATA_DIR);
  const targetFromUserData = raw['notebookTargetDir'] === undefined && userDataDir !== undefined && userDataDir.value.trim() !== '';
  if (targetFromUserData) raw['notebookTargetDir'] = `${userDataDir.value.trim().replace(/\/+$/, '')}/${TUTORIAL_NOTEBOOKS}`;
  const parsed = settingsSchema.safeParse(raw);
  if (parsed.success) {
    const d = parsed.data;
    const settings: Settings = {
      logDir: d.logDir,
      logFormat: d.logFormat,
      logMaxSize: d.logMaxSize,
      logKeep: d.logKeep,
      stateDir: d.stateDir,
      jobsDir: d.jobsDir,
      ...(d.composeDir === undefined ? {} : { composeDir: d.composeDir }),
      ...(d.timezone === undefined ? {} : { timezone: d.timezone }),
      ...(d.defaultJobTimeoutMs === undefined ? {} : { defaultJobTimeoutMs: d.defaultJobTimeoutMs }),
      extraRepos: d.extraRepos ?? [],
      platformFrequency: d.platformFrequency ?? '',
      restart: d.restart,
      verifyTimeoutMs: d.verifyTimeoutMs,
      composeTimeoutMs: d.composeTimeoutMs,
      gitTimeoutMs: d.gitTimeoutMs,
      triggerTimeoutMs: d.triggerTimeoutMs,
      notebookFetchTimeoutMs: d.notebookFetchTimeoutMs,
      ...(d.image === undefined ? {} : { image: d.image }),
      ...(d.deployKeyRootDir === undefined ? {} : { deployKeyRootDir: d.deployKeyRootDir }),
      ...(d.compose === undefined ? {} : { compose: d.compose }),
      ...(d.codeOwnership === undefined ? {} : { codeOwnership: d.codeOwnership }),
      ...(d.knownHosts === undefined ? {} : { knownHosts: d.knownHosts }),
      notebookFrequency: d.notebookFrequency ?? '',
      notebookSources: (d.notebookSources ?? []).map(({ offset, ...source }) => ({ ...source, line: lineOf(entries.get(SETTING_VARIABLES.notebookSources.name), offset) })),
      ...(d.notebookTargetDir === undefined ? {} : { notebookTargetDir: d.notebookTargetDir }),
      notebookOwner: d.notebookOwner,
      ...(d.httpPort === undefined ? {} : { httpPort: d.httpPort }),
      httpHost: d.httpHost,
      ...(d.webhookSecret === undefined ? {} : { webhookSecret: d.webhookSecret }),
      ...(d.apiTokensFile === undefined ? {} : { apiTokensFile: d.apiTokensFile }),
      notifyTargets: d.notifyUrls ?? [],
    };
    return { settings, issues: [] };
  }
  const issues = parsed.error.issues.map((issue): ConfigIssue => {
    const field = String(issue.path[0] ?? '') as keyof SettingsInput;
    const variable = SETTING_VARIABLES[field];
    if (field === 'notebookTargetDir' && targetFromUserData) {
      return {
        file: userDataDir.source.file,
        line: userDataDir.source.line,
        key: variable.name,
        message: `${variable.name} is not set, and its default from ${JUPYTERHUB_USER_DATA_DIR} ("${raw[field] ?? ''}") ${issue.message}`,
      };
    }
    const name = readFrom[field] ?? variable.name;
    const entry = entries.get(name);
    const offset = issue.path[1];
    if (variable.multiline && typeof offset === 'number') {
      // One line of a multi-line value: show that line, not the whole value.
      const text = (raw[field] ?? '').split('\n')[offset]?.trim() ?? '';
      return {
        file: entry?.source.file ?? fallbackFile,
        line: lineOf(entry, offset),
        key: name,
        message: `${name}: the line "${text}" ${issue.message}`,
      };
    }
    const shown = variable.secret ? '' : `="${raw[field] ?? ''}"`;
    // Read from the platform's variable: say so, or the operator looks for the setting in vain.
    const instead = name === variable.name ? '' : ` (read for ${variable.name}, which is not set)`;
    return {
      file: entry?.source.file ?? fallbackFile,
      line: entry?.source.line,
      key: name,
      message: `${name}${shown}${instead} ${issue.message}`,
    };
  });
  return { settings: undefined, issues };
}

/** The file line of a multi-line value's line `offset`: a quoted value's lines follow its assignment's. */
function lineOf(entry: SettingEntry | undefined, offset: number): number | undefined {
  return entry?.source.line === undefined ? undefined : entry.source.line + offset;
}
