// How a command tells the events of its use case: a readable line each for a
// person, or, when it runs as a built-in job's command, one JSON line each
// (src/core/event-line.ts) that the scheduler logs as a record with the
// event's fields and its sentence as the message.

import { formatEventLine, parseEventLine, type EventData, type EventSource } from '../core/event-line.js';
import { maskJsonLine, type Masker } from '../core/mask.js';
import { write, type CommandContext } from './common.js';

/**
 * Whether this process is the command of a job's run: the scheduler sets both in every
 * run's container (src/docker/job-containers.ts), and its output goes to the job's log.
 */
export function runsAsJob(env: CommandContext['env']): boolean {
  return env['AUTODEPLOY_JOB'] !== undefined && env['AUTODEPLOY_RUN'] !== undefined;
}

export interface EventWriterOptions<E extends EventData> {
  readonly source: EventSource;
  readonly text: (event: E) => string;
  readonly env: CommandContext['env'];
  readonly stdout: NodeJS.WritableStream;
  readonly mask: Masker;
}

/** Writes each event on stdout, as a sentence or, in a job's run, as an event line; secrets masked either way. */
export function eventWriter<E extends EventData>({ source, text, env, stdout, mask }: EventWriterOptions<E>): (event: E) => void {
  if (!runsAsJob(env)) return (event) => write(stdout, mask(text(event)));
  return (event) => write(stdout, maskJsonLine(formatEventLine(source, event, text(event)), mask));
}

/** A line of a run's output as a person reads it: an event line's sentence, any other line as it is. */
export function readableOutput(line: string): string {
  return parseEventLine(line)?.msg ?? line;
}
