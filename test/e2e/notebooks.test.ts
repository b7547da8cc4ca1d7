import { lstat, mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareUpstream, git, pushUpstream } from '../fixtures/git-repos.js';
import { createPlatform, requireImages, run, SCHEDULER_IMAGE, type Platform } from '../fixtures/platform.js';
import { TEST_IMAGE, eventually } from '../helpers/scheduler-env.js';

// The real image in a real compose project: the scheduler's notebookdeploy job, on its schedule,
// publishes notebooks from a git repository on the host into a host directory, owned and
// moded as configured, replacing the directory an earlier script left there.

const OWNER = { uid: 1234, gid: 2345 };

describe('notebook deploy, end to end', () => {
  let platform: Platform;
  let userData: string;
  let target: string;
  let upstream: string;

  const log = (): Promise<string> => platform.readLog('notebookdeploy');

  beforeAll(async () => {
    await requireImages([SCHEDULER_IMAGE, TEST_IMAGE], 'run `make image test-images` (make test does)');
    platform = await createPlatform({ services: `  web:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n`, envLines: [] });
    userData = join(platform.root, 'jupyterhub_user_data');
    target = join(userData, 'tutorial-notebooks');
    upstream = await createBareUpstream(join(platform.root, 'upstreams'), 'tutorials', {
      'notebooks/01-intro.ipynb': '{"cells": ["intro"]}\n',
      'notebooks/02-maps.ipynb': '{"cells": ["maps"]}\n',
      'notebooks/README.md': 'not published\n',
    });
    // What birdhouse-deploy's trigger-deploy-notebook leaves: a plain directory of notebooks.
    await mkdir(target, { recursive: true });
    await writeFile(join(target, 'old.ipynb'), '{"cells": ["old"]}\n');
    await platform.writeEnv([
      'export AUTODEPLOY_PLATFORM_FREQUENCY=""',
      'export AUTODEPLOY_NOTEBOOK_FREQUENCY="@every 3s"',
      `export JUPYTERHUB_USER_DATA_DIR="${userData}"`,
      `export AUTODEPLOY_NOTEBOOK_OWNER="${OWNER.uid}:${OWNER.gid}"`,
      'export AUTODEPLOY_NOTEBOOK_SOURCES="',
      `${upstream} main notebooks`,
      '"',
    ]);
    const up = await platform.compose('up', '-d');
    if (up.code !== 0) throw new Error(`compose up failed: ${up.stderr}`);
  });

  afterAll(async () => {
    await platform?.destroy();
    if (platform !== undefined) await rm(platform.root, { recursive: true, force: true });
  });

  it('publishes on schedule into the host directory, read-only and owned as configured, keeping the old directory', async () => {
    const head = (await git(upstream, 'rev-parse', 'main')).trim();
    const link = await eventually('the target to become a link to a published version', async () => {
      const stats = await lstat(target).catch(() => undefined);
      return stats?.isSymbolicLink() ? readlink(target) : undefined;
    }, 90_000);
    expect(link).toMatch(/^\.tutorial-notebooks\.d\/\d{8}-\d{6}-[0-9a-f]{8}$/);

    const version = join(userData, link);
    for (const [path, mode] of [[version, 0o555], [join(version, '01-intro.ipynb'), 0o444], [join(version, '02-maps.ipynb'), 0o444]] as const) {
      const stats = await lstat(path);
      expect({ path, mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid }).toEqual({ path, mode, ...OWNER });
    }
    expect(await readFile(join(target, '01-intro.ipynb'), 'utf8')).toBe('{"cells": ["intro"]}\n');
    await expect(lstat(join(target, 'README.md'))).rejects.toThrow(/ENOENT/);
    await expect(lstat(join(target, 'old.ipynb'))).rejects.toThrow(/ENOENT/);

    const text = await eventually('the publish and a later no-op run in notebookdeploy.log', async () => {
      const current = await log();
      return current.includes('already holds this set') ? current : undefined;
    }, 60_000);
    expect(text).toContain(`commit ${head}`);
    expect(text).toContain('added: 01-intro.ipynb');
    expect(text).toContain('removed: old.ipynb');
    expect(text).toMatch(/moved the existing directory .* to version legacy-\d{8}-\d{6}, kept as it is for --rollback/);
    expect(text).toMatch(/swapped .*tutorial-notebooks -> \.tutorial-notebooks\.d\/\S+ \(was version legacy-\d{8}-\d{6}\)/);
    expect(text).toMatch(/published: published version \S+ to .*tutorial-notebooks: 2 added, 0 changed, 1 removed/);
  });

  it('publishes a pushed change, and rolls it back from the scheduler\'s container, where it stays on hold', async () => {
    const before = await readlink(target);
    const pushed = await pushUpstream(upstream, { 'notebooks/02-maps.ipynb': '{"cells": ["maps v2"]}\n' }, 'Improve the maps tutorial');
    await eventually('the changed notebook to be published', async () => {
      const text = await readFile(join(target, '02-maps.ipynb'), 'utf8').catch(() => '');
      return text.includes('maps v2') ? true : undefined;
    }, 60_000);
    expect(await readlink(target)).not.toBe(before);
    const text = await log();
    expect(text).toContain(`commit ${pushed} (moved from `);
    expect(text).toContain('changed: 02-maps.ipynb');

    // Typed in the scheduler's container, it runs in a container made like the job's, which
    // sees the target; the job's own run may hold the lock a moment, so ask until it is done.
    const rolled = await eventually('a rollback run', async () => {
      const result = await run('docker', ['exec', 'scheduler', 'autodeploy', 'notebooks', '--rollback']);
      return result.stdout.includes('rolled-back: rolled back') ? result : undefined;
    }, 60_000);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(await readlink(target)).toBe(before);
    expect(await readFile(join(target, '02-maps.ipynb'), 'utf8')).toBe('{"cells": ["maps"]}\n');
    await eventually('a scheduled run to hold the rolled-back set', async () => {
      const current = await log();
      return current.includes('which --rollback went back from') ? true : undefined;
    }, 60_000);
    expect(await readlink(target)).toBe(before);

    // The job run by hand: exit 75 means a scheduled run was going at that moment.
    const manual = await eventually('autodeploy run notebookdeploy', async () => {
      const result = await run('docker', ['exec', 'scheduler', 'autodeploy', 'run', 'notebookdeploy']);
      return result.code === 0 ? result : undefined;
    }, 60_000);
    expect(manual.stdout).toContain('which --rollback went back from');

    const jobs = await run('docker', ['exec', 'scheduler', 'autodeploy', 'jobs', '--json']);
    const rows = JSON.parse(jobs.stdout) as { name: string; kind: string; enabled: boolean }[];
    expect(rows.find((r) => r.name === 'notebookdeploy')).toMatchObject({ kind: 'notebookdeploy', enabled: true });
  });
});
