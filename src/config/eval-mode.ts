import type { ConfigIssue } from '../core/issues.js';
import { PROCESS_ENVIRONMENT } from './load.js';

/** A first line that asks for /bin/sh evaluation of env.local. */
export const EVAL_MARKER = /^#\s*autodeploy:\s*eval=sh\s*$/;

export type EvalMode = { readonly shell: boolean } | { readonly issue: ConfigIssue };

/**
 * Whether the env files are to be evaluated by /bin/sh: AUTODEPLOY_ENV_EVAL=sh
 * (or its BIRDHOUSE_ spelling) in the process environment, or the marker
 * comment as the first non-blank line of env.local.
 */
export function shellEvalMode(envLocalText: string | undefined, processEnv: Readonly<Record<string, string | undefined>>): EvalMode {
  const { name, setting } = evalSetting(processEnv);
  if (setting === 'sh') return { shell: true };
  if (setting !== '' && setting !== 'dotenv') {
    return {
      issue: {
        file: PROCESS_ENVIRONMENT,
        line: undefined,
        key: name,
        message: `${name}="${setting}" is not understood: use sh to have /bin/sh evaluate env.local, or leave it empty`,
      },
    };
  }
  const firstLine = (envLocalText ?? '').split(/\r?\n/).find((l) => l.trim() !== '');
  return { shell: firstLine !== undefined && EVAL_MARKER.test(firstLine.trim()) };
}

/** AUTODEPLOY_ENV_EVAL (or its BIRDHOUSE_ spelling) in the process environment, trimmed; '' when unset. */
export function evalSetting(processEnv: Readonly<Record<string, string | undefined>>): { readonly name: string; readonly setting: string } {
  const name = processEnv['AUTODEPLOY_ENV_EVAL'] !== undefined ? 'AUTODEPLOY_ENV_EVAL' : 'BIRDHOUSE_AUTODEPLOY_ENV_EVAL';
  return { name, setting: (processEnv[name] ?? '').trim() };
}
