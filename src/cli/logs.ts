import { parseDuration } from '../core/duration.js';
import { formatJson, formatText } from '../logging/format.js';
import { listLogNames, readLogs } from '../logging/read-logs.js';
import { EXIT, ENV_FILE_OPTION, UsageError, parseCommandArgs, resolveEnvFile, write, type Command } from './common.js';
import { directorySetting } from './directory-setting.js';
import { readCommandConfig } from './command-config.js';
import { isLogName } from '../logging/log-layout.js';

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

/** The jobs of the table env.local makes; none when it cannot be read. */
async function jobNames(envFileFlag: string | undefined, env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  try {
    const result = await readCommandConfig(env, resolveEnvFile(envFileFlag, env));
    return result.ok ? result.config.jobs.map((job) => job.name) : [];
  } catch {
    return [];
  }
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
    if (!isLogName(name)) throw new UsageError(`"${name}" is not a job: a job's name is letters, digits, "_", "." and "-"`);
    const names = await listLogNames(dir);
    if (!names.includes(name)) {
      // A job that has not logged yet may be followed; a name that is no job may not.
      const jobs = values.follow ? await jobNames(values['env-file'], env) : [];
      if (!values.follow || (name !== 'scheduler' && !jobs.includes(name))) {
        throw new UsageError(`"${name}" is not a job with a log in ${dir}; logs: ${names.join(', ') || '(none yet)'}`);
      }
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
