import { readConfig } from '../config/read.js';
import { judgeHealth, readHeartbeat } from '../daemon/heartbeat.js';
import { EXIT, defaultsFile, parseCommandArgs, resolveEnvFile, write, type Command } from './common.js';

/** Three missed beats: long enough not to flap, short enough for Docker's HEALTHCHECK to notice. */
const MAX_HEARTBEAT_AGE_MS = 60_000;

export const healthCommand: Command = {
  name: 'health',
  summary: "exit 0 when the scheduler daemon is alive and its job table valid (the image's HEALTHCHECK)",
  usage: 'autodeploy health [--state-dir DIR]',
  async run({ argv, env, stdout, stderr }) {
    const { values } = parseCommandArgs(argv, { 'state-dir': { type: 'string' } });
    const stateDir = values['state-dir'] ?? (await stateDirFromConfig(env));
    const verdict = judgeHealth(await readHeartbeat(stateDir), new Date(), MAX_HEARTBEAT_AGE_MS);
    write(verdict.healthy ? stdout : stderr, verdict.reason);
    return verdict.healthy ? EXIT.ok : EXIT.failed;
  },
};

async function stateDirFromConfig(env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const fallback = env['AUTODEPLOY_STATE_DIR'] ?? '/var/lib/autodeploy';
  try {
    const result = await readConfig({ envFile: resolveEnvFile(undefined, env), defaultsFile: defaultsFile(env), processEnv: { ...env } });
    return result.ok ? result.config.settings.stateDir : fallback;
  } catch {
    return fallback;
  }
}
