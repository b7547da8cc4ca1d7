// The first look at many checkouts at once: each remote's branches and each checkout's local
// state, asked by one shell that Node starts once.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGitScript } from './git-client.js';

export interface FirstLookRequest {
  readonly path: string;
  /** GIT_SSH_COMMAND for `git ls-remote --heads`; undefined: the remote is not asked */
  readonly sshCommand: string | undefined;
}

/** What `git status --porcelain=v2 --branch -z` and `git config -z --get-regexp` printed for one checkout. */
export interface RawLocalState {
  /** git status's exit code: 0, or 128 when the path is not a git checkout */
  readonly statusExit: number;
  readonly status: string;
  /** git status's stderr when it failed; empty otherwise */
  readonly statusError: string;
  readonly config: string;
}

/** What `git ls-remote --heads` did; exitCode undefined: it was stopped after the timeout. */
export interface RawRemoteAnswer {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

export interface FirstLook {
  /** missing when the shell could not read it: its caller asks again alone */
  readonly local: RawLocalState | undefined;
  /** missing when the remote was not asked, or the shell failed before it answered */
  readonly remote: RawRemoteAnswer | undefined;
}

/**
 * Starting a child process blocks Node for a few milliseconds, longer the larger the process,
 * and twenty checkouts would need sixty of them; a shell forks its children for almost nothing.
 * Every remote is asked first, all at once: they spend their time on the network. The local
 * states are read meanwhile, one checkout after another: each takes milliseconds, and in turn
 * they leave the CPU to the ssh handshakes. Each answer goes to its own file and ends with its
 * exit code, so that what finished is kept even when the shell is stopped after `timeoutMs`.
 * The `git` it runs is the git client's (runGitScript): same environment, same configuration.
 */
const SCRIPT = `
set -u
out=$1; shift
i=0
for d in "$@"; do
  eval "s=\\\${SSH_$i-}"
  if [ -n "$s" ]; then
    (
      cd "$d" 2>/dev/null || exit 0
      export GIT_SSH_COMMAND="$s"
      git ls-remote --upload-pack=git-upload-pack --heads >"$out/$i.remote" 2>"$out/$i.remote-err"
      printf '\\0#exit %s\\0' "$?" >>"$out/$i.remote"
    ) &
  fi
  i=$((i+1))
done
(
i=0
for d in "$@"; do
  (
    cd "$d" 2>/dev/null || exit 0
    git --no-optional-locks status --porcelain=v2 --branch --untracked-files=all -z >"$out/$i.local" 2>"$out/$i.local-err"
    s=$?
    printf '\\0#config\\0' >>"$out/$i.local"
    git config -z --get-regexp '^(branch\\..*\\.(remote|merge)|remote\\..*\\.url)$' >>"$out/$i.local" 2>/dev/null
    printf '\\0#exit %s\\0' "$s" >>"$out/$i.local"
  )
  i=$((i+1))
done
) &
wait
`;

export async function firstLook(requests: readonly FirstLookRequest[], timeoutMs: number): Promise<FirstLook[]> {
  if (requests.length === 0) return [];
  const out = await mkdtemp(join(tmpdir(), 'autodeploy-look-'));
  try {
    const timedOut = await runShell(out, requests, timeoutMs);
    return await Promise.all(requests.map((request, i) => collect(out, i, request, timedOut)));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** True when the shell, and everything it started, was stopped after `timeoutMs`. */
async function runShell(out: string, requests: readonly FirstLookRequest[], timeoutMs: number): Promise<boolean> {
  // The ssh commands go by environment (SSH_<i>), the paths as arguments: neither is ever shell text.
  const env: Record<string, string> = {};
  requests.forEach((r, i) => {
    if (r.sshCommand !== undefined) env[`SSH_${i}`] = r.sshCommand;
  });
  const { timedOut } = await runGitScript({ script: SCRIPT, args: [out, ...requests.map((r) => r.path)], env, timeoutMs, trusted: requests.map((r) => r.path) });
  return timedOut;
}

async function collect(out: string, i: number, request: FirstLookRequest, timedOut: boolean): Promise<FirstLook> {
  const read = (name: string): Promise<string | undefined> => readFile(join(out, `${i}.${name}`), 'utf8').catch(() => undefined);
  const [localFile, remoteFile] = await Promise.all([read('local'), request.sshCommand === undefined ? undefined : read('remote')]);
  let local: RawLocalState | undefined;
  const localExit = localFile === undefined ? undefined : completed(localFile);
  if (localExit !== undefined) {
    const mark = localExit.text.lastIndexOf('\0#config\0');
    if (mark !== -1) {
      local = {
        statusExit: localExit.exitCode,
        status: localExit.text.slice(0, mark),
        statusError: localExit.exitCode === 0 ? '' : ((await read('local-err')) ?? ''),
        config: localExit.text.slice(mark + '\0#config\0'.length),
      };
    }
  }
  let remote: RawRemoteAnswer | undefined;
  const remoteExit = remoteFile === undefined ? undefined : completed(remoteFile);
  // git's stderr is read only when it failed: on success it is progress talk.
  if (remoteExit !== undefined) remote = { exitCode: remoteExit.exitCode, stdout: remoteExit.text, stderr: remoteExit.exitCode === 0 ? '' : ((await read('remote-err')) ?? '') };
  else if (request.sshCommand !== undefined && timedOut) remote = { exitCode: undefined, stdout: '', stderr: (await read('remote-err')) ?? '' };
  return { local, remote };
}

/** The text before the closing `\0#exit <code>\0`, or undefined when the command did not finish. */
function completed(file: string): { text: string; exitCode: number } | undefined {
  const match = /\0#exit (\d+)\0$/.exec(file);
  return match === null ? undefined : { text: file.slice(0, match.index), exitCode: Number(match[1]) };
}
