import { parseDuration } from '../core/duration.js';
import { formatJson, formatText } from '../logging/format.js';
import { listLogNames, readLogs } from '../logging/read-logs.js';
import { EXIT, ENV_FILE_OPTION, UsageError, parseCommandArgs, write, type Command } from './common.js';
import { directorySetting } from './directory-setting.js';

/** `--since`: an ISO date/time, or an age such as 30m, 2h, 1d. */
export function parseSince(text: string, now: Date): Date {
  const age = parseDuration(text, { days: true });
  if (age !== undefined) return new Date(now.getTime() - age);
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`--since "${text}" is neither a date (2026-11-22T10:00) nor an age (30m, 2h, 1d)`);
  }
  return date;
}

export const logsCommand: Command = {
  name: 'logs',
  summary: "print a job's log (default: the scheduler's), readably; -f follows it across rotations",
  usage: 'autodeploy logs [job] [-f|--follow] [--since 2h|DATE] [-n|--lines N] [--json] [--log-dir DIR] [--env-file FILE]',
  async run({ argv, env, stdout }) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        ...ENV_FILE_OPTION,
        follow: { type: 'boolean', short: 'f' },
        since: { type: 'string' },
        lines: { type: 'string', short: 'n' },
        json: { type: 'boolean' },
        'log-dir': { type: 'string' },
        list: { type: 'boolean' },
      },
      true,
    );
    if (positionals.length > 1) throw new UsageError('name at most one log (a job, or "scheduler")');
    const dir = values['log-dir'] ?? (await directorySetting('logDir', values['env-file'], env));
    if (values.list) {
      for (const name of await listLogNames(dir)) write(stdout, name);
      return EXIT.ok;
    }
    const name = positionals[0] ?? 'scheduler';
    const names = await listLogNames(dir);
    if (!names.includes(name) && !values.follow) {
      throw new UsageError(`no log named "${name}" in ${dir}; logs: ${names.join(', ') || '(none yet)'}`);
    }
    let last: number | undefined;
    if (values.lines !== undefined) {
      last = Number(values.lines);
      if (!Number.isInteger(last) || last < 0) throw new UsageError(`--lines takes a whole number, not "${values.lines}"`);
    }
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      for await (const entry of readLogs({
        dir,
        name,
        follow: values.follow ?? false,
        signal: abort.signal,
        ...(values.since === undefined ? {} : { since: parseSince(values.since, new Date()) }),
        ...(last === undefined ? {} : { last }),
      })) {
        if (entry.record === undefined) write(stdout, entry.line);
        else write(stdout, values.json ? formatJson(entry.record) : formatText(entry.record));
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return EXIT.ok;
  },
};
