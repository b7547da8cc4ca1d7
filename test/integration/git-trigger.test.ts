import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConditionalTrigger } from '../../src/git/conditional-trigger.js';
import { inspectCheckout } from '../../src/git/inspect.js';
import { formatNameStatus } from '../../src/git/name-status.js';
import { cloneCheckout, createBareUpstream, git, makeTempDir, pushUpstream, removeTempDir } from '../fixtures/git-repos.js';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await makeTempDir('git-trigger');
});

afterAll(async () => {
  await removeTempDir(dir);
});

interface Behind {
  checkout: string;
  upstreamHead: string;
  changedFilesText: string;
}

/**
 * A checkout one commit behind an upstream whose new commit holds `files` (and so, possibly,
 * the conditional trigger), inspected as the deploy does.
 */
async function behindWith(files: Record<string, string>): Promise<Behind> {
  counter += 1;
  const name = `repo${counter}`;
  const bare = await createBareUpstream(path.join(dir, 'upstreams'), name, { 'README.md': '# r\n', 'birdhouse-config/a.env': 'A=1\n' });
  const checkout = await cloneCheckout(bare, path.join(dir, 'checkouts', name));
  await pushUpstream(bare, files, 'Upstream change');
  const state = await inspectCheckout(checkout, { keyRootDir: undefined, knownHostsFile: path.join(dir, 'known_hosts'), pinned: false });
  if (state.upstreamHead === undefined) throw new Error(`inspection failed: ${state.error ?? ''}`);
  return { checkout, upstreamHead: state.upstreamHead, changedFilesText: formatNameStatus(state.changedFiles) };
}

// The example from birdhouse-deploy's triggerdeploy.sh: no "#!" line, /bin/sh runs it.
const ONLY_CONFIG_CHANGES = `if [ -n "\`echo "$GIT_CHANGED_FILES" | grep birdhouse-config/\`" ]; then
    echo "trigger autodeploy"
    exit 0
else
    echo "do not need to trigger autodeploy"
    exit 1
fi
`;

async function triggerTempFiles(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((name) => name.startsWith('autodeploy-trigger-'));
}

describe('runConditionalTrigger', () => {
  it('says deploy when the upstream script exits 0', async () => {
    const b = await behindWith({ 'autodeploy/conditional-trigger': ONLY_CONFIG_CHANGES, 'birdhouse-config/a.env': 'A=2\n' });
    const result = await runConditionalTrigger(b.checkout, b.upstreamHead, b.changedFilesText, { timeoutMs: 10_000 });
    expect(result).toEqual({ present: true, trigger: true, exitCode: 0, output: 'trigger autodeploy\n', timedOut: false });
  });

  it('says no deploy when the upstream script exits non-zero', async () => {
    const b = await behindWith({ 'autodeploy/conditional-trigger': ONLY_CONFIG_CHANGES, 'docs/readme.md': 'docs\n' });
    const result = await runConditionalTrigger(b.checkout, b.upstreamHead, b.changedFilesText, { timeoutMs: 10_000 });
    expect(result).toEqual({ present: true, trigger: false, exitCode: 1, output: 'do not need to trigger autodeploy\n', timedOut: false });
  });

  it('is absent when the upstream tree has no script', async () => {
    const b = await behindWith({ 'docs/readme.md': 'docs\n' });
    expect(await runConditionalTrigger(b.checkout, b.upstreamHead, b.changedFilesText)).toEqual({ present: false });
  });

  it('reads the script from the upstream tree, not from the checkout', async () => {
    const b = await behindWith({ 'autodeploy/conditional-trigger': '#!/bin/sh\necho upstream version\nexit 0\n' });
    // The checked-out tree has no script at all; the upstream one runs.
    await expect(readdir(path.join(b.checkout, 'autodeploy'))).rejects.toMatchObject({ code: 'ENOENT' });
    const result = await runConditionalTrigger(b.checkout, b.upstreamHead, b.changedFilesText, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ present: true, trigger: true, output: 'upstream version\n' });
  });

  it('gives the script GIT_CHANGED_FILES and runs it in the checkout', async () => {
    const b = await behindWith({
      'autodeploy/conditional-trigger': '#!/bin/sh\nprintf "%s\\n" "$GIT_CHANGED_FILES"\npwd\nexit 3\n',
      'birdhouse-config/a.env': 'A=2\n',
      'new file.txt': 'n\n',
    });
    const result = await runConditionalTrigger(b.checkout, b.upstreamHead, b.changedFilesText, { timeoutMs: 10_000 });
    const diff = (await git(b.checkout, 'diff', '--name-status', 'HEAD', 'origin/main')).trimEnd();
    expect(diff).toBe('A\tautodeploy/conditional-trigger\nM\tbirdhouse-config/a.env\nA\tnew file.txt');
    expect(result).toEqual({ present: true, trigger: false, exitCode: 3, output: `${diff}\n${b.checkout}\n`, timedOut: false });
  });

  it('kills a script that hangs, with what it started, and counts it as no', async () => {
    const b = await behindWith({ 'autodeploy/conditional-trigger': '#!/bin/sh\necho waiting\nsleep 600 &\nsleep 600\nexit 0\n' });
    const started = Date.now();
    const result = await runConditionalTrigger(b.checkout, b.upstreamHead, b.changedFilesText, { timeoutMs: 1000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toEqual({ present: true, trigger: false, exitCode: null, output: 'waiting\n', timedOut: true });
  });

  it('does not wait for what a finished script left running', async () => {
    const b = await behindWith({ 'autodeploy/conditional-trigger': '#!/bin/sh\nsleep 600 &\necho done\nexit 0\n' });
    const started = Date.now();
    const result = await runConditionalTrigger(b.checkout, b.upstreamHead, b.changedFilesText, { timeoutMs: 20_000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ present: true, trigger: true, exitCode: 0, output: 'done\n' });
  });

  it('removes the temporary copy of the script', async () => {
    const before = await triggerTempFiles();
    const b = await behindWith({ 'autodeploy/conditional-trigger': '#!/bin/sh\nexit 0\n' });
    await runConditionalTrigger(b.checkout, b.upstreamHead, b.changedFilesText, { timeoutMs: 10_000 });
    const hanging = await behindWith({ 'autodeploy/conditional-trigger': '#!/bin/sh\nsleep 600\n' });
    await runConditionalTrigger(hanging.checkout, hanging.upstreamHead, hanging.changedFilesText, { timeoutMs: 500 });
    expect(await triggerTempFiles()).toEqual(before);
  });
});
