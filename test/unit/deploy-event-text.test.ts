import { describe, expect, it } from 'vitest';
import { deployEventText } from '../../src/core/deploy-event-text.js';
import type { DeployEvent, DeployEventType } from '../../src/core/deploy-events.js';

// The sentence of every deploy event: what `autodeploy deploy` prints and autodeploy.log reads.

const A = '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d';
const B = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432';
const NO_KEY = { path: undefined, reason: 'none' } as const;

// Keyed by type, so that an event type without a sentence here does not compile.
const sentences: { [T in DeployEventType]: ReadonlyArray<readonly [Extract<DeployEvent, { type: T }>, string]> } = {
  started: [
    [{ type: 'started', dryRun: false, at: '2026-11-22T10:00:00.000Z', checkouts: ['/srv/platform', '/srv/config'] }, 'autodeploy run started at 2026-11-22T10:00:00.000Z: 2 checkouts'],
    [{ type: 'started', dryRun: true, at: '2026-11-22T10:00:00.000Z', checkouts: ['/srv/platform'] }, 'autodeploy dry run started at 2026-11-22T10:00:00.000Z: 1 checkout'],
  ],
  interrupted: [
    [
      { type: 'interrupted', startedAt: '2026-11-21T05:07:00.000Z', heads: { '/srv/platform': A, '/srv/config': B } },
      'warning: a deploy started at 2026-11-21T05:07:00.000Z did not finish; heads before it: /srv/platform@1a2b3c4d5e6f, /srv/config@9f8e7d6c5b4a',
    ],
  ],
  recovering: [
    [
      { type: 'recovering', action: 'finish', step: 'starting', heads: { '/srv/platform': A }, targets: { '/srv/platform': B } },
      'finishing the interrupted deploy (it died while starting): bringing the platform up from its checkouts (/srv/platform@9f8e7d6c5b4a) and verifying it, else rolling back',
    ],
    [
      { type: 'recovering', action: 'undo', step: 'rolling-back', heads: { '/srv/platform': A }, targets: { '/srv/platform': B } },
      'undoing the interrupted deploy (it died while rolling-back): moving its checkouts back (/srv/platform@1a2b3c4d5e6f) and bringing the platform up as it was',
    ],
  ],
  recovered: [
    [{ type: 'recovered', action: 'finished', ok: true, checkouts: [{ path: '/srv/platform', from: A, to: B }] }, 'interrupted deploy finished: /srv/platform 1a2b3c4d5e6f..9f8e7d6c5b4a'],
    [{ type: 'recovered', action: 'rolled-back', ok: true, checkouts: [] }, 'interrupted deploy rolled back: the platform runs the previous commits again'],
  ],
  unjudged: [
    [
      { type: 'unjudged', checkouts: [{ path: '/srv/config', verdict: 'error', reason: 'the server did not answer within 120s' }] },
      'not a success: 1 checkout could not be judged: /srv/config (error: the server did not answer within 120s)',
    ],
  ],
  'checkout-judged': [
    [
      {
        type: 'checkout-judged', path: '/srv/platform', verdict: 'behind', reason: '/srv/platform (main) is 2 commits behind origin/main',
        branch: 'main', upstream: 'origin/main', head: A, upstreamHead: B, ahead: 0, behind: 2, key: NO_KEY,
      },
      'checkout /srv/platform: behind: /srv/platform (main) is 2 commits behind origin/main',
    ],
    [
      {
        type: 'checkout-judged', path: '/srv/config', verdict: 'up-to-date', reason: '/srv/config (main) is up to date with origin/main',
        branch: 'main', upstream: 'origin/main', head: A, upstreamHead: A, ahead: 0, behind: 0, key: { path: '/keys/config_deploy_key', reason: 'per-repo' },
      },
      'checkout /srv/config: up-to-date: /srv/config (main) is up to date with origin/main [key /keys/config_deploy_key (per-repo)]',
    ],
  ],
  'trigger-answered': [
    [{ type: 'trigger-answered', path: '/srv/platform', trigger: true, exitCode: 0 }, '  conditional trigger says deploy (exit 0)'],
    [{ type: 'trigger-answered', path: '/srv/platform', trigger: false, exitCode: null }, '  conditional trigger says no deploy (exit killed)'],
  ],
  decision: [
    [
      { type: 'decision', action: 'deploy', reason: 'behind upstream: /srv/platform (2 new commits)', deploy: ['/srv/platform'], pullOnly: [] },
      'decision: deploy: behind upstream: /srv/platform (2 new commits)',
    ],
  ],
  locked: [
    [
      { type: 'locked', holder: { host: 'c0ffee', pid: 7, startedAt: '2026-11-22T09:59:00.000Z' } },
      'another deploy holds the lock (started 2026-11-22T09:59:00.000Z in c0ffee, pid 7); not deploying now',
    ],
  ],
  'compose-command': [
    [{ type: 'compose-command', argv: ['/srv/platform/birdhouse/birdhouse-compose.sh'], source: 'found in COMPOSE_DIR' }, 'compose command: /srv/platform/birdhouse/birdhouse-compose.sh (found in COMPOSE_DIR)'],
  ],
  'stopping-all': [[{ type: 'stopping-all' }, 'stopping every service (AUTODEPLOY_RESTART=all)']],
  pulled: [
    [{ type: 'pulled', path: '/srv/platform', from: A, to: B, deployed: true, commits: [{ commit: B, subject: 'Fix web' }] }, 'pulled /srv/platform: 1a2b3c4d5e6f..9f8e7d6c5b4a'],
    [{ type: 'pulled', path: '/srv/docs', from: A, to: B, deployed: false, commits: [] }, 'fast-forwarded (no deploy) /srv/docs: 1a2b3c4d5e6f..9f8e7d6c5b4a'],
  ],
  commit: [[{ type: 'commit', path: '/srv/platform', commit: B, subject: 'Fix web' }, '  9f8e7d6c5b4a Fix web']],
  'compose-up': [[{ type: 'compose-up', project: 'birdhouse' }, 'compose up -d (project birdhouse)']],
  'compose-output': [
    [{ type: 'compose-output', line: 'Container birdhouse-web-1  Started', stream: 'stderr' }, '  compose: Container birdhouse-web-1  Started'],
  ],
  restarting: [
    [{ type: 'restarting', service: 'web', changed: ['/srv/platform/www/index.html'] }, 'restarting web: it mounts /srv/platform/www/index.html'],
    [{ type: 'restarting', service: 'proxy', changed: ['/a', '/b', '/c', '/d'] }, 'restarting proxy: it mounts /a, /b, /c, …'],
  ],
  restarted: [[{ type: 'restarted', services: ['web', 'proxy'] }, 'restarted web, proxy']],
  verifying: [
    [{ type: 'verifying', project: 'birdhouse', services: ['proxy', 'web'], timeoutMs: 120_000 }, 'verifying 2 services (up to 120s): proxy, web'],
    [{ type: 'verifying', project: 'birdhouse', services: ['web'], timeoutMs: 30_400 }, 'verifying 1 service (up to 30s): web'],
  ],
  'service-checked': [
    [{ type: 'service-checked', service: 'web', state: 'healthy', ok: true, detail: 'healthy' }, '  web: healthy'],
    [{ type: 'service-checked', service: 'db', state: 'exited', ok: false, detail: 'exited with code 1' }, '  db: exited (exited with code 1)'],
  ],
  verified: [
    [{ type: 'verified', ok: true, outcome: 'settled', waitedMs: 2_049, services: [] }, 'verification passed after 2.0s'],
    [{ type: 'verified', ok: false, outcome: 'failed-fast', waitedMs: 12_345, services: [] }, 'verification failed after 12.3s'],
  ],
  deployed: [
    [
      { type: 'deployed', checkouts: [{ path: '/srv/platform', from: A, to: B }, { path: '/srv/config', from: B, to: A }], restarted: ['web'] },
      'deploy succeeded: /srv/platform 1a2b3c4d5e6f..9f8e7d6c5b4a, /srv/config 9f8e7d6c5b4a..1a2b3c4d5e6f',
    ],
  ],
  'verification-failed': [[{ type: 'verification-failed', reason: 'web: exited with code 1', services: ['web'] }, 'verification failed: web: exited with code 1']],
  'deploy-error': [[{ type: 'deploy-error', reason: 'compose up failed' }, 'deploy failed: compose up failed']],
  'rolling-back': [
    [{ type: 'rolling-back', checkouts: ['/srv/platform'] }, 'rolling back 1 checkout'],
    [{ type: 'rolling-back', checkouts: ['/srv/platform', '/srv/config'] }, 'rolling back 2 checkouts'],
  ],
  'checkout-moved-back': [
    [{ type: 'checkout-moved-back', path: '/srv/platform', to: A, error: undefined }, '  /srv/platform: back to 1a2b3c4d5e6f'],
    [{ type: 'checkout-moved-back', path: '/srv/platform', to: A, error: 'index.lock exists' }, '  /srv/platform: NOT rolled back: index.lock exists'],
  ],
  'rolled-back': [
    [
      { type: 'rolled-back', ok: true, reason: 'web: exited with code 1', checkouts: [{ path: '/srv/platform', from: B, to: A }], problems: [] },
      'rolled back: the platform runs the previous commits again',
    ],
    [
      { type: 'rolled-back', ok: false, reason: 'web: exited', checkouts: [], problems: ['index.lock exists', 'the platform is not healthy after the rollback either'] },
      'rollback incomplete: index.lock exists; the platform is not healthy after the rollback either',
    ],
  ],
  'deploy-failed': [[{ type: 'deploy-failed', reason: 'web: exited with code 1' }, 'deploy failed and was rolled back: web: exited with code 1']],
  finished: [
    [
      { type: 'finished', outcome: 'deployed', message: 'deploy succeeded: /srv/platform 1a2b3c4d5e6f..9f8e7d6c5b4a', endedAt: '2026-11-22T10:00:42.000Z', durationMs: 42_049, exitCode: 0 },
      'autodeploy finished at 2026-11-22T10:00:42.000Z (42.0s): deployed: deploy succeeded: /srv/platform 1a2b3c4d5e6f..9f8e7d6c5b4a',
    ],
  ],
};

describe('deployEventText', () => {
  const all = Object.values(sentences).flat() as ReadonlyArray<readonly [DeployEvent, string]>;

  it.each(all.map(([event, text]) => [event.type, event, text] as const))('says %s as the deploy always said it', (_type, event, text) => {
    expect(deployEventText(event)).toBe(text);
  });
});
