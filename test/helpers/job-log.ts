import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLogLine, type LogRecord } from '../../src/logging/format.js';

/** Every record of `<logDir>/<job>.log` (the file the operator tails), parsed back. */
export async function jobRecords(logDir: string, job: string): Promise<LogRecord[]> {
  let text: string;
  try {
    text = await readFile(join(logDir, `${job}.log`), 'utf8');
  } catch {
    return [];
  }
  const records: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const record = parseLogLine(line);
    if (record === undefined) throw new Error(`unparseable line in ${job}.log: ${line}`);
    records.push(record);
  }
  return records;
}

/** The job's own output lines (not the scheduler's events about it), in order. */
export async function outputLines(logDir: string, job: string, run?: string): Promise<string[]> {
  return (await jobRecords(logDir, job)).filter((r) => r.out !== undefined && (run === undefined || r.run === run)).map((r) => r.msg);
}
