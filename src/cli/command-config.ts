import type { SchedulerContext } from '../config/builtin-job.js';
import { BUILTIN_JOB_KINDS } from './job-kinds.js';
import { formatIssue } from '../core/issues.js';
import { createMasker } from '../core/mask.js';
import type { Config, LoadResult } from '../config/load.js';
import { readConfig } from '../config/read.js';
import { defaultsFile, write, type CommandContext } from './common.js';

/** env.local, over the shipped defaults, as a command reads it. */
export function readCommandConfig(env: CommandContext['env'], envFile: string, context?: SchedulerContext): Promise<LoadResult> {
  return readConfig({ envFile, defaultsFile: defaultsFile(env), processEnv: { ...env }, builtins: BUILTIN_JOB_KINDS, ...(context === undefined ? {} : { context }) });
}

/** The configuration; or undefined, after writing each of its problems to `stderr` as file:line: message. */
export async function configOrReport(env: CommandContext['env'], envFile: string, stderr: NodeJS.WritableStream, context?: SchedulerContext): Promise<Config | undefined> {
  const result = await readCommandConfig(env, envFile, context);
  if (result.ok) return result.config;
  const mask = createMasker(result.secrets ?? []);
  for (const issue of result.issues) write(stderr, mask(formatIssue(issue)));
  return undefined;
}
