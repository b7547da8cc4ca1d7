// The two line formats of the log files and the parser that reads them back, kept in one
// file (over 300 lines) so that every line written is one the parser reads back.
//
// JSON lines are pino's own: `level` is pino's number (10 trace ... 60 fatal)
// so that pino-pretty and other pino tools read the files unchanged; `time`
// is milliseconds since the epoch; then the bindings (`job`, `run`), `out`
// and any other fields, and `msg` last. The parser also accepts a level
// label and an ISO time.
//
// Text lines, one per record:
//
//   line    = TIME SP LEVEL SP SOURCE SP rest
//   TIME    = UTC time with milliseconds, `2026-11-22T10:00:00.123Z`
//   LEVEL   = TRACE | DEBUG | INFO  | WARN  | ERROR | FATAL  (padded to 5)
//   SOURCE  = `scheduler:`            when the record has neither job nor run
//           | JOB `[` RUN `]` | JOB | `[` RUN `]`
//             where JOB and RUN are NAMEs; a job or run that is not a NAME
//             is written as a field instead
//   NAME    = one or more of A-Z a-z 0-9 _ . -
//
// A job's own output (`out` set) puts the raw line last, verbatim:
//
//   rest    = *(FIELD SP) SEP [SP RAW]     SEP is `|` (stdout) or `!` (stderr)
//           | *(FIELD SP) SEP SEP SP JSONSTRING
//
// RAW is everything after `| ` up to the end of the line, whatever it holds
// (`|`, `=`, quotes, leading spaces, a carriage return). An output message
// holding a newline cannot be one line, so it is written after a doubled
// separator as a JSON string.
//
// An event a job wrote as an event line (src/core/event-line.ts: `event`,
// `eventVersion` and the event's fields) is an output record too, written with
// its sentence as RAW and none of its fields: the text file is read as a
// story, and the JSON file keeps the fields.
//
// The scheduler's own events put the message first:
//
//   rest    = MESSAGE *(SP FIELD)
//   MESSAGE = bare text without `=`, `"`, line breaks or surrounding blanks,
//             not starting with `|` or `!`; any other message is a JSONSTRING
//   FIELD   = KEY `=` VALUE
//   KEY     = a letter or `_`, then letters, digits, `_ . -`; any other key is a JSONSTRING
//   VALUE   = bare text without blanks, when it cannot be read as JSON and does
//             not start with `"`, `{` or `[`: a string
//           | any JSON value without blanks outside strings (numbers, true,
//             false, null, quoted strings, objects, arrays)
import type { OutputStream } from '../core/run.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];


/** One log line, in either format. Fields other than the named ones are kept as they are. */
export interface LogRecord {
  /** milliseconds since the epoch */
  readonly time: number;
  readonly level: LogLevel;
  readonly job?: string;
  readonly run?: string;
  /** set on the lines that are a job's own output */
  readonly out?: OutputStream;
  readonly msg: string;
  readonly [field: string]: unknown;
}

const PINO_LEVEL: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** pino's number for a level. */
export function pinoLevelNumber(level: LogLevel): number {
  return PINO_LEVEL[level];
}

/** The level of a pino number; custom levels fall to the standard level below them. */
export function levelFromNumber(value: number): LogLevel {
  if (value >= 60) return 'fatal';
  if (value >= 50) return 'error';
  if (value >= 40) return 'warn';
  if (value >= 30) return 'info';
  if (value >= 20) return 'debug';
  return 'trace';
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

const NAME = /^[A-Za-z0-9_.-]+$/;
const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const BARE_MESSAGE = /^[^\s|!"=][^"=\r\n]*(?<=\S)$|^[^\s|!"=]$/;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const NAMED_FIELDS = new Set(['time', 'level', 'job', 'run', 'out', 'msg']);

function formatKey(key: string): string {
  return BARE_KEY.test(key) ? key : JSON.stringify(key);
}

function readsAsJson(text: string): boolean {
  return text === 'true' || text === 'false' || text === 'null' || JSON_NUMBER.test(text);
}

function formatValue(value: unknown): string {
  if (typeof value === 'string' && value !== '' && !/[\s"{[]/.test(value[0] ?? '') && !/\s/.test(value) && !readsAsJson(value)) {
    return value;
  }
  // JSON.stringify never puts blanks outside strings; values it cannot write (a function) become null.
  return JSON.stringify(value) ?? 'null';
}

/** A job's output line that was an event line: its fields are for the JSON format only. */
function isOutputEvent(record: LogRecord): boolean {
  return record.out !== undefined && typeof record['event'] === 'string' && record['eventVersion'] !== undefined;
}

function formatLevel(level: LogLevel): string {
  return level.toUpperCase().padEnd(5);
}

/** Formats one record as a text line (without the newline). */
export function formatText(record: LogRecord): string {
  const fields: string[] = [];
  const { job, run } = record;
  const jobInSource = job !== undefined && NAME.test(job);
  const runInSource = run !== undefined && NAME.test(run);
  const source = jobInSource || runInSource ? (jobInSource ? job : '') + (runInSource ? `[${run}]` : '') : 'scheduler:';
  if (job !== undefined && !jobInSource) fields.push(`job=${formatValue(job)}`);
  if (run !== undefined && !runInSource) fields.push(`run=${formatValue(run)}`);
  for (const [key, value] of isOutputEvent(record) ? [] : Object.entries(record)) {
    if (NAMED_FIELDS.has(key) || value === undefined) continue;
    fields.push(`${formatKey(key)}=${formatValue(value)}`);
  }

  const head = `${new Date(record.time).toISOString()} ${formatLevel(record.level)} ${source}`;
  const out = record.out;
  if (out === 'stdout' || out === 'stderr') {
    const separator = out === 'stdout' ? '|' : '!';
    const prefix = fields.length > 0 ? `${head} ${fields.join(' ')}` : head;
    if (record.msg.includes('\n')) return `${prefix} ${separator}${separator} ${JSON.stringify(record.msg)}`;
    return record.msg === '' ? `${prefix} ${separator}` : `${prefix} ${separator} ${record.msg}`;
  }
  if (out !== undefined) fields.unshift(`out=${formatValue(out)}`);
  const message = BARE_MESSAGE.test(record.msg) ? record.msg : JSON.stringify(record.msg);
  return fields.length > 0 ? `${head} ${message} ${fields.join(' ')}` : `${head} ${message}`;
}

/** Formats one record as pino would write it (without the newline). */
export function formatJson(record: LogRecord): string {
  const { time, level, job, run, msg, ...rest } = record;
  const line: Record<string, unknown> = { level: pinoLevelNumber(level), time };
  if (job !== undefined) line['job'] = job;
  if (run !== undefined) line['run'] = run;
  Object.assign(line, rest);
  line['msg'] = msg;
  return JSON.stringify(line);
}

/** Builds a record from a parsed JSON line, or undefined when it is not a log record. */
export function recordFromJson(value: unknown): LogRecord | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { time: rawTime, level: rawLevel, msg: rawMsg, ...rest } = value as Record<string, unknown>;
  let level: LogLevel;
  if (typeof rawLevel === 'number') level = levelFromNumber(rawLevel);
  else if (typeof rawLevel === 'string' && isLogLevel(rawLevel.toLowerCase())) level = rawLevel.toLowerCase() as LogLevel;
  else return undefined;
  let time: number;
  if (typeof rawTime === 'number') time = rawTime;
  else if (typeof rawTime === 'string' && !Number.isNaN(Date.parse(rawTime))) time = Date.parse(rawTime);
  else return undefined;
  const msg = typeof rawMsg === 'string' ? rawMsg : rawMsg === undefined ? '' : JSON.stringify(rawMsg);
  return { ...rest, time, level, msg };
}

/** Reads one JSON string literal starting at `start`; returns its value and the index after it. */
function scanJsonString(text: string, start: number): { value: string; end: number } | undefined {
  if (text[start] !== '"') return undefined;
  let i = start + 1;
  while (i < text.length) {
    const char = text[i];
    if (char === '\\') i += 2;
    else if (char === '"') break;
    else i += 1;
  }
  if (i >= text.length) return undefined;
  try {
    const value: unknown = JSON.parse(text.slice(start, i + 1));
    return typeof value === 'string' ? { value, end: i + 1 } : undefined;
  } catch {
    return undefined;
  }
}

/** Reads one JSON value without blanks outside strings, starting at `start`. */
function scanJsonValue(text: string, start: number): { value: unknown; end: number } | undefined {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const char = text[i];
    if (char === '"') {
      const string = scanJsonString(text, i);
      if (string === undefined) return undefined;
      i = string.end;
      if (depth === 0) break;
      continue;
    }
    if (char === '{' || char === '[') depth += 1;
    else if (char === '}' || char === ']') depth -= 1;
    else if (char === ' ' && depth === 0) break;
    i += 1;
    if (depth === 0) break;
  }
  if (depth !== 0) return undefined;
  try {
    return { value: JSON.parse(text.slice(start, i)), end: i };
  } catch {
    return undefined;
  }
}

/** Reads one `key=value` field at `start`. */
function scanField(text: string, start: number): { key: string; value: unknown; end: number } | undefined {
  let key: string;
  let i: number;
  if (text[start] === '"') {
    const quoted = scanJsonString(text, start);
    if (quoted === undefined) return undefined;
    key = quoted.value;
    i = quoted.end;
  } else {
    const equals = text.indexOf('=', start);
    if (equals < 0) return undefined;
    key = text.slice(start, equals);
    if (!BARE_KEY.test(key)) return undefined;
    i = equals;
  }
  if (text[i] !== '=') return undefined;
  i += 1;
  const first = text[i];
  if (first === '"' || first === '{' || first === '[') {
    const json = scanJsonValue(text, i);
    if (json === undefined || (json.end < text.length && text[json.end] !== ' ')) return undefined;
    return { key, value: json.value, end: json.end };
  }
  let end = text.indexOf(' ', i);
  if (end < 0) end = text.length;
  const bare = text.slice(i, end);
  if (bare === '') return undefined;
  return { key, value: readsAsJson(bare) ? JSON.parse(bare) : bare, end };
}

const TEXT_HEAD = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) (scheduler:|[A-Za-z0-9_.-]*(?:\[[A-Za-z0-9_.-]+\])?)(?= |$)/;
const SOURCE = /^([A-Za-z0-9_.-]*)(?:\[([A-Za-z0-9_.-]+)\])?$/;

function parseTextLine(line: string): LogRecord | undefined {
  const head = TEXT_HEAD.exec(line);
  if (head === null) return undefined;
  const [whole, isoTime = '', levelText = '', source = ''] = head;
  if (source === '') return undefined;
  const time = Date.parse(isoTime);
  if (Number.isNaN(time)) return undefined;
  const record: Record<string, unknown> = { time, level: levelText.trim().toLowerCase() };
  if (source !== 'scheduler:') {
    const [, job = '', run] = SOURCE.exec(source) ?? [];
    if (job !== '') record['job'] = job;
    if (run !== undefined) record['run'] = run;
  }
  const fields: Record<string, unknown> = {};
  let i = whole.length + 1;
  if (i > line.length) return undefined;

  // A job's output line: fields, then a separator, then the raw message.
  let j = i;
  for (;;) {
    const char = line[j];
    const next = line[j + 1];
    if ((char === '|' || char === '!') && (next === ' ' || next === undefined)) {
      record['out'] = char === '|' ? 'stdout' : 'stderr';
      record['msg'] = next === undefined ? '' : line.slice(j + 2);
      return finish(record, fields);
    }
    if ((char === '|' || char === '!') && next === char && line[j + 2] === ' ') {
      const quoted = scanJsonString(line, j + 3);
      if (quoted === undefined || quoted.end !== line.length) return undefined;
      record['out'] = char === '|' ? 'stdout' : 'stderr';
      record['msg'] = quoted.value;
      return finish(record, fields);
    }
    const field = scanField(line, j);
    if (field === undefined || field.end >= line.length) break;
    fields[field.key] = field.value;
    j = field.end + 1;
  }

  // An event: the message, then fields.
  for (const key of Object.keys(fields)) delete fields[key];
  if (line[i] === '"') {
    const quoted = scanJsonString(line, i);
    if (quoted === undefined) return undefined;
    record['msg'] = quoted.value;
    i = quoted.end;
  } else {
    let end = line.length;
    const equals = line.indexOf('=', i);
    const quote = line.indexOf('"', i);
    if (quote >= 0 && (equals < 0 || quote < equals)) end = quote - 1;
    else if (equals >= 0) end = line.lastIndexOf(' ', equals);
    if (end < i) return undefined;
    record['msg'] = line.slice(i, end);
    i = end;
  }
  while (i < line.length) {
    if (line[i] !== ' ') return undefined;
    const field = scanField(line, i + 1);
    if (field === undefined) return undefined;
    fields[field.key] = field.value;
    i = field.end;
  }
  return finish(record, fields);
}

function finish(record: Record<string, unknown>, fields: Record<string, unknown>): LogRecord {
  // What the head says wins over a field of the same name.
  return { ...fields, ...record } as unknown as LogRecord;
}

/** Parses one line of either format; undefined when it is neither (a line written by something else). */
export function parseLogLine(line: string): LogRecord | undefined {
  if (line.startsWith('{')) {
    try {
      return recordFromJson(JSON.parse(line));
    } catch {
      return undefined;
    }
  }
  return parseTextLine(line);
}
