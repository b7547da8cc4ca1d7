import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `<dir>/env.local` with its own log and state directories and the given job lines. */
export async function writeEnvLocal(dir: string, jobLines: readonly string[]): Promise<{ envFile: string; stateDir: string }> {
  const logDir = join(dir, 'log');
  const stateDir = join(dir, 'state');
  const envFile = join(dir, 'env.local');
  await mkdir(logDir, { recursive: true });
  await writeFile(
    envFile,
    [
      `export AUTODEPLOY_LOG_DIR="${logDir}"`,
      `export AUTODEPLOY_STATE_DIR="${stateDir}"`,
      // The built-in jobs stay off so that exactly the listed jobs are armed and none fires.
      'export AUTODEPLOY_PLATFORM_FREQUENCY=""',
      'export AUTODEPLOY_NOTEBOOK_FREQUENCY=""',
      ...jobLines,
      '',
    ].join('\n'),
  );
  return { envFile, stateDir };
}
