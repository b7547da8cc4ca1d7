import { SETTING_VARIABLES } from '../config/settings.js';
import { settingFromEnvironment } from '../config/settings-declaration.js';
import { judgeHealth, readHeartbeat } from '../state/heartbeat.js';
import { EXIT, parseCommandArgs, write, type Command } from './common.js';
import { directorySetting } from './directory-setting.js';

/** Three missed beats: long enough not to flap, short enough for Docker's HEALTHCHECK to notice. */
const MAX_HEARTBEAT_AGE_MS = 60_000;

export const healthCommand: Command = {
  name: 'health',
  summary: "exit 0 when the scheduler daemon is alive and its job table valid (the image's HEALTHCHECK)",
  usage: 'autodeploy health [--state-dir DIR]',
  async run({ argv, env, stdout, stderr }) {
    const { values } = parseCommandArgs(argv, { 'state-dir': { type: 'string' } });
    const now = new Date();
    const given = values['state-dir'];
    const usual = given ?? settingFromEnvironment(SETTING_VARIABLES.stateDir, env);
    let verdict = judgeHealth(await readHeartbeat(usual), now, MAX_HEARTBEAT_AGE_MS);
    // Docker asks every few seconds: env.local (which may be run by /bin/sh) is read only when the
    // usual state directory holds no healthy beat, to find the directory it names instead.
    if (given === undefined && !verdict.healthy) {
      const stateDir = await directorySetting('stateDir', undefined, env);
      if (stateDir !== usual) verdict = judgeHealth(await readHeartbeat(stateDir), now, MAX_HEARTBEAT_AGE_MS);
    }
    write(verdict.healthy ? stdout : stderr, verdict.reason);
    return verdict.healthy ? EXIT.ok : EXIT.failed;
  },
};
