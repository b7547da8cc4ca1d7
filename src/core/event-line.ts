// The one-line JSON form of a use case's event, as a built-in job writes it on
// stdout for the scheduler to log as a record with fields:
//
//   {"event":"deploy.pulled","eventVersion":1,"path":"/srv/platform","from":"…","to":"…","commits":[…],"msg":"pulled /srv/platform: 1a2b3c4d..5e6f7a8b"}
//
// `event` names the use case and the event's type; `eventVersion` is the
// version of this shape; the event's own fields follow, flat, so that a log
// shipper finds them where it finds any other field; `msg` is the sentence a
// person reads. A line that is not exactly this (another version, a field the
// log record owns, no sentence) is not an event, and is logged as any output.

/** The version of the line's shape; a reader that knows another ignores the line. */
export const EVENT_LINE_VERSION = 1;

/**
 * Names an event's fields may not take: the log record that keeps them has its own
 * fields of these names, and the line itself uses the last three.
 */
export const RESERVED_EVENT_FIELDS = ['level', 'time', 'job', 'run', 'out', 'event', 'eventVersion', 'msg'] as const;
type ReservedField = (typeof RESERVED_EVENT_FIELDS)[number];

/** An event of a use case: plain data with a `type`, and no field a log record owns. */
export type EventData = { readonly type: string } & { readonly [K in ReservedField]?: never };

/** The use cases whose events have a line form; the first part of `event`. */
export type EventSource = 'deploy' | 'notebooks';

/** An event line, read back. */
export interface EventLine {
  /** `<source>.<type>`, e.g. `deploy.pulled` */
  readonly event: string;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly msg: string;
}

const EVENT_NAME = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/;
const RESERVED = new Set<string>(RESERVED_EVENT_FIELDS);

/** The line for an event and its sentence (without the newline). */
export function formatEventLine(source: EventSource, event: EventData, msg: string): string {
  const { type, ...fields } = event;
  return JSON.stringify({ event: `${source}.${type}`, eventVersion: EVENT_LINE_VERSION, ...fields, msg });
}

/** The event a line of a job's output holds, or undefined when the line is anything else. */
export function parseEventLine(line: string): EventLine | undefined {
  // Most output is not JSON at all: no parse for it.
  if (!line.startsWith('{') || !line.trimEnd().endsWith('}')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { event, eventVersion, msg, ...fields } = value as Record<string, unknown>;
  if (eventVersion !== EVENT_LINE_VERSION || typeof event !== 'string' || !EVENT_NAME.test(event) || typeof msg !== 'string') return undefined;
  // A field the log record owns would pass for the scheduler's own (another job, run or level).
  if (Object.keys(fields).some((key) => RESERVED.has(key))) return undefined;
  return { event, fields, msg };
}
