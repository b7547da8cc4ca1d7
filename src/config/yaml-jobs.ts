// Job lists in docker-crontab's format, which birdhouse-deploy's scheduler runs
// (https://github.com/willfarrell/docker-crontab#config-file): a list of jobs, or a
// mapping whose keys are ignored, in YAML or JSON. They come from job files (birdhouse
// 2.x mounts each `scheduler-job-*` component's file at /scheduler-job-configs/) and from
// AUTODEPLOY_EXTRA_SCHEDULER_JOBS, a list written inside env.local, whose lines are
// mapped back to env.local's so that problems point where the operator wrote them.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue } from '../core/issues.js';
import type { SourceRef } from '../core/job.js';
import type { DraftField, DraftFieldName, JobDraft, SettingEntry, TriggerDraft } from './job-draft.js';
import { TRIGGER_KEYS, triggerSchema, YAML_JOB_KEYS, yamlJobSchema } from './schemas.js';

export const YAML_JOBS_VARIABLE = 'AUTODEPLOY_EXTRA_SCHEDULER_JOBS';

const YAML_KEY_FOR: Readonly<Record<DraftFieldName, string>> = {
  comment: 'comment',
  schedule: 'schedule',
  image: 'image',
  command: 'command',
  dockerargs: 'dockerargs',
  timeout: 'timeout',
  enabled: 'enabled',
  container: 'container',
  project: 'project',
  onstart: 'onstart',
  hostAccess: 'host-access',
  volumes: 'dockerargs',
  env: 'dockerargs',
  user: 'dockerargs',
  workdir: 'dockerargs',
  entrypoint: 'dockerargs',
  network: 'dockerargs',
};

export interface JobListResult {
  readonly drafts: readonly JobDraft[];
  /** problems of one job: each names its job, and refuses that job alone */
  readonly issues: readonly ConfigIssue[];
  /**
   * The list could not be read at all (not YAML, not a list): no job of it is known, so the
   * jobs it held before keep running as they were.
   */
  readonly unreadable: readonly ConfigIssue[];
}

interface ListSource {
  readonly text: string;
  /** where a problem at an offset of `text` is */
  readonly where: (offset: number | undefined) => SourceRef;
  /** how messages name the list: the variable, or the file */
  readonly label: string;
  /** a mapping of jobs is accepted (job files), not only a list */
  readonly mapping: boolean;
  readonly format: JobDraft['format'];
  /** a suffix for messages that point inside the value when no file line can be given */
  readonly inside: (offset: number) => string;
}

/** AUTODEPLOY_EXTRA_SCHEDULER_JOBS: the value starts on the assignment's line, right after the opening quote. */
export function readYamlJobs(entry: SettingEntry): JobListResult {
  const counter = new LineCounter();
  return readJobList(
    {
      text: entry.value,
      where: (offset) => {
        if (offset === undefined || entry.source.line === undefined) return entry.source;
        return { file: entry.source.file, line: entry.source.line + counter.linePos(offset).line - 1 };
      },
      label: YAML_JOBS_VARIABLE,
      mapping: false,
      format: 'yaml',
      inside: (offset) => (entry.source.line === undefined ? ` (line ${counter.linePos(offset).line} of ${YAML_JOBS_VARIABLE})` : ''),
    },
    counter,
  );
}

/** A job file: `*.yml`, `*.yaml` or `*.json` (JSON is read as the YAML it also is). */
export function readJobFile(file: { readonly path: string; readonly text: string }): JobListResult {
  const counter = new LineCounter();
  return readJobList(
    {
      text: file.text,
      where: (offset) => ({ file: file.path, line: offset === undefined ? undefined : counter.linePos(offset).line }),
      label: file.path,
      mapping: true,
      format: 'file',
      inside: () => '',
    },
    counter,
  );
}

function readJobList(source: ListSource, counter: LineCounter): JobListResult {
  const issues: ConfigIssue[] = [];
  const unreadable: ConfigIssue[] = [];
  const drafts: JobDraft[] = [];
  if (source.text.trim() === '') return { drafts, issues, unreadable };

  const doc = parseDocument(source.text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const kind = source.format === 'file' ? (source.label.endsWith('.json') ? 'JSON' : 'YAML') : 'YAML';
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      unreadable.push({
        ...source.where(error.pos[0]),
        key: source.format === 'yaml' ? YAML_JOBS_VARIABLE : undefined,
        message: `${source.label} is not valid ${kind}: ${firstLine(error.message)}${source.inside(error.pos[0])}`,
      });
    }
    return { drafts, issues, unreadable };
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) {
    return { drafts, issues, unreadable };
  }
  let items: Node[];
  if (isSeq(contents)) items = contents.items as Node[];
  else if (source.mapping && isMap(contents)) items = contents.items.map((pair) => pair.value as Node);
  else {
    unreadable.push({
      ...source.where(contents.range?.[0]),
      key: source.format === 'yaml' ? YAML_JOBS_VARIABLE : undefined,
      message: source.mapping
        ? `${source.label} must hold a list of jobs (each starting with "- schedule:" or "- name:"), or a mapping of names to jobs`
        : `${source.label} must be a YAML list of jobs, each starting with "- name:"`,
    });
    return { drafts, issues, unreadable };
  }

  const names = new Set<string>();
  items.forEach((item, index) => {
    const itemWhere = source.where(offsetOf(item));
    if (!isMap(item)) {
      issues.push({
        ...itemWhere,
        key: source.format === 'yaml' ? YAML_JOBS_VARIABLE : undefined,
        job: `#${index + 1}`,
        message: `job #${index + 1} of ${source.label} must be a mapping (name:, schedule:, command:, image:, ...)`,
      });
      return;
    }
    const json = item.toJSON() as Record<string, unknown>;
    const rawName = json['name'];
    const named = typeof rawName === 'string' || typeof rawName === 'number';
    const name = named ? String(rawName) : uniqueName(derivedName(json, index), names);
    names.add(name.toLowerCase());
    const label = `job "${name}"`;
    const jobRef = { job: name.toLowerCase() };

    const keyWhere = whereOfKeys(item, source);
    const job = readMapping(item.toJSON() as Record<string, unknown>, { keys: YAML_JOB_KEYS, what: 'a job', schema: yamlJobSchema, label, job: jobRef.job, keyWhere, where: itemWhere, issues });
    if (job === undefined) return;
    const fields = draftFields(keyWhere, itemWhere);
    fields.put('comment', job.comment ?? undefined);
    if (job.schedule !== undefined) fields.put('schedule', job.schedule ?? '');
    fields.put('image', job.image ?? undefined);
    fields.put('container', job.container ?? undefined);
    fields.put('project', job.project ?? undefined);
    fields.put('command', job.command ?? undefined);
    fields.put('dockerargs', job.dockerargs ?? undefined);
    fields.put('timeout', job.timeout ?? undefined);
    fields.put('enabled', job.enabled ?? undefined);
    fields.put('onstart', job.onstart ?? undefined);
    fields.put('hostAccess', job['host-access'] ?? undefined);

    const triggers: TriggerDraft[] = [];
    const triggerNode = item.get('trigger', true);
    if (isSeq(triggerNode)) {
      triggerNode.items.forEach((sub, subIndex) => {
        const subWhere = source.where(offsetOf(sub as Node));
        const subLabel = `${label}: trigger #${subIndex + 1}`;
        if (!isMap(sub)) {
          issues.push({ ...subWhere, key: 'trigger', ...jobRef, message: `${subLabel} must be a mapping (command:, and image: or container:)` });
          return;
        }
        const subKeyWhere = whereOfKeys(sub, source);
        const t = readMapping(sub.toJSON() as Record<string, unknown>, { keys: TRIGGER_KEYS, what: 'a trigger', schema: triggerSchema, label: subLabel, job: jobRef.job, keyWhere: subKeyWhere, where: subWhere, issues });
        if (t === undefined) return;
        const subFields = draftFields(subKeyWhere, subWhere);
        subFields.put('command', t.command ?? undefined);
        subFields.put('image', t.image ?? undefined);
        subFields.put('container', t.container ?? undefined);
        subFields.put('project', t.project ?? undefined);
        subFields.put('dockerargs', t.dockerargs ?? undefined);
        triggers.push({ source: subWhere, fields: subFields.fields });
      });
    }

    drafts.push({
      format: source.format,
      name,
      ...(named ? {} : { derivedName: true }),
      ...(triggers.length === 0 ? {} : { triggers }),
      source: itemWhere,
      nameKey: 'name',
      fields: fields.fields,
      keyFor: YAML_KEY_FOR,
    });
  });
  return { drafts, issues, unreadable };
}

/** Where each key of a mapping was written. */
function whereOfKeys(map: YAMLMap, source: ListSource): Map<string, SourceRef> {
  const where = new Map<string, SourceRef>();
  for (const pair of map.items) {
    if (isScalar(pair.key)) where.set(String(pair.key.value), source.where(pair.key.range?.[0]));
  }
  return where;
}

/**
 * A job's or a trigger's mapping, checked against its keys and its schema: every unknown key and
 * every bad value is an issue at its line (so that all are said at once), and undefined comes back
 * when a value is bad.
 */
function readMapping<T>(
  json: Readonly<Record<string, unknown>>,
  options: {
    readonly keys: readonly string[];
    readonly what: string;
    readonly schema: z.ZodType<T>;
    readonly label: string;
    readonly job: string;
    readonly keyWhere: ReadonlyMap<string, SourceRef>;
    readonly where: SourceRef;
    readonly issues: ConfigIssue[];
  },
): T | undefined {
  const { keyWhere, where, label, job, issues } = options;
  const known: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (options.keys.includes(key)) known[key] = value;
    else issues.push({ ...(keyWhere.get(key) ?? where), key, job, message: `${label}: unknown key "${key}"; ${options.what} has ${options.keys.join(', ')}` });
  }
  const parsed = options.schema.safeParse(known);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? '');
    issues.push({ ...(keyWhere.get(key) ?? where), key, job, message: `${label}: ${key} ${issue.message}` });
  }
  return undefined;
}

function draftFields(keyWhere: ReadonlyMap<string, SourceRef>, fallback: SourceRef) {
  const fields: Partial<Record<DraftFieldName, DraftField>> = {};
  return {
    fields,
    put(name: DraftFieldName, value: DraftField['value'] | undefined): void {
      if (value === undefined) return;
      const key = YAML_KEY_FOR[name];
      fields[name] = { value, key, where: keyWhere.get(key) ?? fallback };
    },
  };
}

function offsetOf(node: Node | null | undefined): number | undefined {
  return node !== null && node !== undefined && (isMap(node) || isScalar(node) || isSeq(node)) ? node.range?.[0] : undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

const MAX_DERIVED_NAME = 40;

/**
 * A name for a job that has none, stable across reloads: docker-crontab names such a job by
 * its `name` slug or a random id; a random id would give the job a new log every reload, so
 * the comment, else the command, is slugged instead (as docker-crontab slugs names).
 */
export function derivedName(job: Readonly<Record<string, unknown>>, index: number): string {
  const from = [job['comment'], job['command']].find((v) => typeof v === 'string' && v.trim() !== '') as string | undefined;
  const slug = (from ?? '')
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_DERIVED_NAME)
    .replace(/-+$/, '');
  return slug === '' ? `job-${index + 1}` : slug;
}

function uniqueName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  for (let n = 2; ; n += 1) if (!taken.has(`${name}-${n}`)) return `${name}-${n}`;
}
