import { SETTING_VARIABLES } from '../config/settings.js';
import { settingFromEnvironment } from '../config/settings-declaration.js';
import { resolveEnvFile } from './common.js';
import { readCommandConfig } from './command-config.js';

/**
 * The log or state directory, for a command that must work while env.local is broken: from the
 * configuration when it can be read, else from the environment or the setting's fallback.
 */
export async function directorySetting(
  field: 'logDir' | 'stateDir',
  envFileFlag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const fallback = settingFromEnvironment(SETTING_VARIABLES[field], env);
  try {
    const result = await readCommandConfig(env, resolveEnvFile(envFileFlag, env));
    return result.ok ? result.config.settings[field] : fallback;
  } catch {
    return fallback;
  }
}
