// AUTODEPLOY_EXTRA_SCHEDULER_JOBS: birdhouse-deploy's scheduler jobs, a YAML
// list written inside env.local. Lines inside the YAML are mapped back to
// env.local lines so that problems point where the operator wrote them.

import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { SourceRef } from '../core/job.js';
import type { ConfigIssue } from '../core/issues.js';
import type { DraftField, DraftFieldName, JobDraft, SettingEntry } from './job-draft.js';
import { YAML_JOB_KEYS, yamlJobSchema } from './schemas.js';

export const YAML_JOBS_VARIABLE = 'AUTODEPLOY_EXTRA_SCHEDULER_JOBS';

const YAML_KEY_FOR: Readonly<Record<DraftFieldName, string>> = {
  comment: 'comment',
  schedule: 'schedule',
  image: 'image',
  command: 'command',
  dockerargs: 'dockerargs',
  timeout: 'timeout',
  enabled: 'enabled',
  volumes: 'dockerargs',
  env: 'dockerargs',
  user: 'dockerargs',
  workdir: 'dockerargs',
  entrypoint: 'dockerargs',
  network: 'dockerargs',
};

export interface YamlJobsResult {
  readonly drafts: readonly JobDraft[];
  readonly issues: readonly ConfigIssue[];
}

export function readYamlJobs(entry: SettingEntry): YamlJobsResult {
  const issues: ConfigIssue[] = [];
  const drafts: JobDraft[] = [];
  if (entry.value.trim() === '') return { drafts, issues };

  const counter = new LineCounter();
  const doc = parseDocument(entry.value, { lineCounter: counter, prettyErrors: false });
  // The value starts on the assignment's line, right after the opening quote.
  const where = (offset: number | undefined): SourceRef => {
    if (offset === undefined || entry.source.line === undefined) return entry.source;
    return { file: entry.source.file, line: entry.source.line + counter.linePos(offset).line - 1 };
  };
  const inYaml = (offset: number): string =>
    entry.source.line === undefined ? ` (line ${counter.linePos(offset).line} of ${YAML_JOBS_VARIABLE})` : '';

  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const at = where(error.pos[0]);
      issues.push({
        ...at,
        key: YAML_JOBS_VARIABLE,
        message: `${YAML_JOBS_VARIABLE} is not valid YAML: ${error.message}${inYaml(error.pos[0])}`,
      });
    }
    return { drafts, issues };
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) {
    return { drafts, issues };
  }
  if (!isSeq(contents)) {
    issues.push({
      ...where(contents.range[0]),
      key: YAML_JOBS_VARIABLE,
      message: `${YAML_JOBS_VARIABLE} must be a YAML list of jobs, each starting with "- name:"`,
    });
    return { drafts, issues };
  }

  contents.items.forEach((item, index) => {
    const itemOffset = isMap(item) || isScalar(item) || isSeq(item) ? item.range?.[0] : undefined;
    const itemWhere = where(itemOffset);
    if (!isMap(item)) {
      issues.push({
        ...itemWhere,
        key: YAML_JOBS_VARIABLE,
        message: `job #${index + 1} of ${YAML_JOBS_VARIABLE} must be a mapping (name:, schedule:, command:, image:, ...)`,
      });
      return;
    }
    const keyWhere = new Map<string, SourceRef>();
    for (const pair of item.items) {
      if (isScalar(pair.key)) keyWhere.set(String(pair.key.value), where(pair.key.range?.[0]));
    }
    const json = item.toJSON() as Record<string, unknown>;
    const rawName = json['name'];
    const label = typeof rawName === 'string' || typeof rawName === 'number' ? `job "${rawName}"` : `job #${index + 1}`;
    const jobRef = typeof rawName === 'string' || typeof rawName === 'number' ? { job: String(rawName) } : {};
    // Unknown keys are reported here so that the job's other fields are still checked.
    const known: Record<string, unknown> = {};

    for (const [key, value] of Object.entries(json)) {
      if ((YAML_JOB_KEYS as readonly string[]).includes(key)) {
        known[key] = value;
        continue;
      }

      issues.push({
        ...(keyWhere.get(key) ?? itemWhere),
        key,
        ...jobRef,
        message: `${label}: unknown key "${key}"; a job has ${YAML_JOB_KEYS.join(', ')}`,
      });
    }
    const parsed = yamlJobSchema.safeParse(known);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = String(issue.path[0] ?? '');
        issues.push({
          ...(keyWhere.get(key) ?? itemWhere),
          key,
          ...jobRef,
          message: `${label}: ${key} ${issue.message}`,
        });
      }
      return;
    }
    const job = parsed.data;
    const fields: Partial<Record<DraftFieldName, DraftField>> = {};
    const put = (name: DraftFieldName, value: DraftField['value'] | undefined): void => {
      if (value === undefined) return;
      const key = YAML_KEY_FOR[name];
      fields[name] = { value, key, where: keyWhere.get(key) ?? itemWhere };
    };
    put('comment', job.comment ?? undefined);
    if (job.schedule !== undefined) put('schedule', job.schedule ?? '');
    put('image', job.image ?? undefined);
    put('command', job.command ?? undefined);
    put('dockerargs', job.dockerargs ?? undefined);
    put('timeout', job.timeout ?? undefined);
    put('enabled', job.enabled ?? undefined);
    drafts.push({
      format: 'yaml',
      name: job.name,
      source: itemWhere,
      nameKey: 'name',
      fields,
      keyFor: YAML_KEY_FOR,
    });
  });
  return { drafts, issues };
}
