import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { DeployKeyChoice } from '../core/checkout.js';
import { shellWord } from './shell-word.js';

/** The key shared by every checkout that has none of its own (PAVICS' name for it). */
export const SHARED_DEPLOY_KEY = 'id_rsa_git_ssh_read_only';
export const DEPLOY_KEY_SUFFIX = '_deploy_key';

export interface DeployKeyPick {
  readonly key: DeployKeyChoice;
  /** why the chosen key must not be used (readable by others, unreadable); undefined when it is fine */
  readonly problem: string | undefined;
}

const NO_KEY: DeployKeyPick = { key: { path: undefined, reason: 'none' }, problem: undefined };

/**
 * `<root>/<checkout basename>_deploy_key`, else `<root>/id_rsa_git_ssh_read_only`, else no key
 * (an https or public remote), as birdhouse-deploy's triggerdeploy.sh picks them.
 */
export async function chooseDeployKey(keyRootDir: string | undefined, checkoutPath: string): Promise<DeployKeyPick> {
  if (keyRootDir === undefined || keyRootDir === '') return NO_KEY;
  const root = path.resolve(keyRootDir);
  const candidates: ReadonlyArray<readonly [string, DeployKeyChoice['reason']]> = [
    [path.join(root, `${path.basename(path.resolve(checkoutPath))}${DEPLOY_KEY_SUFFIX}`), 'per-repo'],
    [path.join(root, SHARED_DEPLOY_KEY), 'shared'],
  ];
  for (const [file, reason] of candidates) {
    const found = await stat(file).then(
      (stats) => ({ stats, error: undefined }),
      (error: NodeJS.ErrnoException) => ({ stats: undefined, error }),
    );
    if (found.error?.code === 'ENOENT' || found.error?.code === 'ENOTDIR') continue;
    const key: DeployKeyChoice = { path: file, reason };
    if (found.stats === undefined) {
      return { key, problem: `the deploy key ${file} cannot be read (${found.error?.code ?? found.error?.message ?? 'unknown error'}): check its permissions and those of ${root}` };
    }
    if (!found.stats.isFile()) {
      return { key, problem: `the deploy key ${file} is not a file: put the private key there, or remove it` };
    }
    return { key, problem: unsafeMode(file, found.stats.mode) };
  }
  return NO_KEY;
}

// ssh itself refuses a private key that others may read ("UNPROTECTED PRIVATE KEY FILE"),
// though only when the running user owns it; a deploy key is a secret either way.
function unsafeMode(file: string, mode: number): string | undefined {
  const permissions = mode & 0o777;
  if ((permissions & 0o077) === 0) return undefined;
  return `the deploy key ${file} is accessible by group or others (mode ${permissions.toString(8).padStart(4, '0')}): run chmod 600 ${shellWord(file)}`;
}
