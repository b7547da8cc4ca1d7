import { checkCheckouts } from '../autodeploy/check.js';
import { deployStatus, type LockSight } from '../core/deploy-status.js';
import { DeployState } from '../state/deploy-state.js';
import { pastDeadline, readDeployLock } from '../state/lock.js';
import { EXIT, ENV_FILE_OPTION, parseCommandArgs, resolveEnvFile, write, type Command } from './common.js';
import { deploySetup, lockHolderAlive, runInBuiltinJobContainer } from './deploy-setup.js';

export const statusCommand: Command = {
  name: 'status',
  summary: "every checkout's verdict and why, and what a deploy would do now (changes nothing)",
  usage: 'autodeploy status [--json] [--env-file FILE]',
  async run(context) {
    const { values } = parseCommandArgs(context.argv, { ...ENV_FILE_OPTION, json: { type: 'boolean' } });
    // In the scheduler's container only COMPOSE_DIR is mounted; the autodeploy job's container
    // mounts every checkout. Ask from there rather than report checkouts as missing.
    const envFile = resolveEnvFile(values['env-file'], context.env);
    const delegated = await runInBuiltinJobContainer(context, envFile, 'autodeploy', ['autodeploy', 'status', ...(values.json ? ['--json'] : [])]);
    if (delegated !== undefined) return delegated;
    const setup = await deploySetup(values['env-file'], context);
    if (setup === undefined) return EXIT.usage;
    const settings = setup.settings;
    const state = new DeployState(settings.stateDir);
    const report = await checkCheckouts({
      checkouts: setup.checkouts,
      keyRootDir: settings.deployKeyRootDir,
      pinnedKnownHosts: settings.knownHosts,
      stateDir: settings.stateDir,
      failed: await state.failed(),
      gitTimeoutMs: settings.gitTimeoutMs,
      triggerTimeoutMs: settings.triggerTimeoutMs,
    });
    // The deploy itself: one under way, one that died midway, or one stuck past its deadlines.
    const intent = await state.inProgress();
    const lockView = await readDeployLock(settings.stateDir);
    const holder = lockView.holder;
    const lock: LockSight | undefined =
      holder === undefined ? undefined : { ...holder, alive: await lockHolderAlive(context.env)(holder), pastDeadline: pastDeadline(holder, new Date()) };
    const deploy = deployStatus(intent, lock);
    const last = (await state.history())[0];
    if (values.json) {
      const json = {
        checkouts: report.verdicts.map((v) => ({ ...v, trigger: report.triggers.get(v.path) })),
        decision: report.decision,
        deploy: { ...deploy, intent, lock, leftoverTakeovers: lockView.leftoverMarkers, last },
      };
      write(context.stdout, setup.mask(JSON.stringify(json, null, 2)));
      return EXIT.ok;
    }
    const width = Math.max(...report.verdicts.map((v) => v.verdict.length));
    for (const v of report.verdicts) {
      const counts = v.upstream === undefined ? '' : ` ahead ${v.ahead} behind ${v.behind}`;
      write(context.stdout, setup.mask(`${v.verdict.padEnd(width)}  ${v.path}${v.branch ? ` (${v.branch}${v.upstream ? ` -> ${v.upstream}` : ''})` : ''}${counts}`));
      write(context.stdout, setup.mask(`${' '.repeat(width)}  ${v.reason}`));
      if (v.key.path !== undefined) write(context.stdout, `${' '.repeat(width)}  deploy key ${v.key.path} (${v.key.reason})`);
    }
    write(context.stdout, setup.mask(`next deploy: ${report.decision.action}: ${report.decision.reason}`));
    write(context.stdout, setup.mask(`deploy: ${deploy.state}: ${deploy.message}`));
    for (const marker of lockView.leftoverMarkers) {
      write(context.stdout, `deploy lock: a takeover died midway and blocks the next ones: remove ${marker} once no deploy runs`);
    }
    if (last !== undefined) {
      const health = last.ok ? '' : ` (not a success${last.exitCode === undefined ? '' : `, exit code ${last.exitCode}`})`;
      write(context.stdout, setup.mask(`last deploy run: ${last.outcome}${health} at ${last.endedAt}: ${last.message}`));
    }
    return EXIT.ok;
  },
};
