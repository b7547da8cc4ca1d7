import { spawn } from 'node:child_process';
import { sealedEnv } from './git-client.js';

/** What `git status --porcelain=v2 --branch -z` and `git config -z --get-regexp` printed for one checkout. */
export interface RawLocalState {
  /** git status's exit code: 0, or 128 when the path is not a git checkout */
  readonly statusExit: number;
  readonly status: string;
  readonly config: string;
}

/**
 * The local state of many checkouts with one process started by Node: a shell that asks git in
 * each of them, all at once. Starting a child process blocks Node for a few milliseconds, longer
 * the larger the process; a shell forks its children for almost nothing. The answers come back
 * in the order of `paths`; a path the shell could not read is missing from the result, and its
 * caller asks again alone.
 */
export function readLocalStates(paths: readonly string[], timeoutMs: number): Promise<ReadonlyMap<string, RawLocalState>> {
  const script = `
set -u
out=$(mktemp -d) || exit 1
i=0
for d in "$@"; do
  (
    cd "$d" 2>/dev/null || exit 0
    git -c safe.directory='*' -c core.quotePath=false --no-optional-locks status --porcelain=v2 --branch --untracked-files=all -z >"$out/$i.status" 2>/dev/null
    echo $? >"$out/$i.exit"
    git -c safe.directory='*' config -z --get-regexp '^(branch\\..*\\.(remote|merge)|remote\\..*\\.url)$' >"$out/$i.config" 2>/dev/null
    :
  ) &
  i=$((i+1))
done
wait
i=0
for d in "$@"; do
  if [ -f "$out/$i.exit" ]; then
    printf '\\0#checkout %s %s\\0' "$i" "$(cat "$out/$i.exit")"
    cat "$out/$i.status"
    printf '\\0#config\\0'
    cat "$out/$i.config"
  fi
  i=$((i+1))
done
printf '\\0#end\\0'
rm -rf "$out"
`;
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script, 'sh', ...paths], { env: sealedEnv(undefined), stdio: ['ignore', 'pipe', 'ignore'], timeout: timeoutMs });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Any failure leaves the map empty: every checkout is then read alone.
    child.once('error', () => resolve(new Map()));
    child.once('close', () => resolve(parseLocalStates(Buffer.concat(chunks).toString('utf8'), paths)));
  });
}

/** Splits the shell's output by its markers; a checkout without a complete block is left out. */
export function parseLocalStates(out: string, paths: readonly string[]): Map<string, RawLocalState> {
  const states = new Map<string, RawLocalState>();
  if (!out.endsWith('\0#end\0')) return states;
  const blocks = out.slice(0, -'\0#end\0'.length).split(/\0#checkout (?=\d+ \d+\0)/).slice(1);
  for (const block of blocks) {
    const header = /^(\d+) (\d+)\0/.exec(block);
    if (header === null) continue;
    const path = paths[Number(header[1])];
    const rest = block.slice(header[0].length);
    const mark = rest.lastIndexOf('\0#config\0');
    if (path === undefined || mark === -1) continue;
    states.set(path, { statusExit: Number(header[2]), status: rest.slice(0, mark), config: rest.slice(mark + '\0#config\0'.length) });
  }
  return states;
}
