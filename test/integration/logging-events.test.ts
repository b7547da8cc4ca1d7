import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deployEventText } from '../../src/core/deploy-event-text.js';
import type { DeployEvent } from '../../src/core/deploy-events.js';
import { formatEventLine } from '../../src/core/event-line.js';
import { maskJsonLine, createMasker } from '../../src/core/mask.js';
import { formatText, parseLogLine } from '../../src/logging/format.js';
import { logOutputLine, openLogFiles, type LogFiles, type LogFormat } from '../../src/logging/log-files.js';
import { countRunOutputLines, readLogs } from '../../src/logging/read-logs.js';

// The events a built-in job writes as JSON lines, through the scheduler's log files: the JSON
// format keeps their fields, the text format and `autodeploy logs` read as the story the job
// told, secrets are masked in every field, and other output is logged as it always was.

const A = '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d';
const B = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432';
const SECRET = 'hu"nter\\22';

let dir: string;
const opened: LogFiles[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autodeploy-log-events-'));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((logs) => logs.close()));
  await rm(dir, { recursive: true, force: true });
});

/** The job's output as `autodeploy deploy` writes it in the job's container, secrets already in it. */
function jobOutput(): string[] {
  const events: DeployEvent[] = [
    { type: 'checkout-judged', path: '/srv/platform', verdict: 'behind', reason: '/srv/platform (main) is 1 commit behind origin/main', branch: 'main', upstream: 'origin/main', head: A, upstreamHead: B, ahead: 0, behind: 1, key: { path: undefined, reason: 'none' } },
    { type: 'pulled', path: '/srv/platform', from: A, to: B, deployed: true, commits: [{ commit: B, subject: `Rotate the token ${SECRET}` }] },
    { type: 'commit', path: '/srv/platform', commit: B, subject: `Rotate the token ${SECRET}` },
    { type: 'deploy-error', reason: `compose said ${SECRET}` },
  ];
  return [
    ...events.map((event) => formatEventLine('deploy', event, deployEventText(event))),
    '{"level":30,"msg":"a JSON line that is no event"}',
    'plain output',
  ];
}

async function logRun(format: LogFormat): Promise<string> {
  const logs = openLogFiles({ dir, format, maxSize: '10m', keep: 2, secrets: [SECRET], onError: (error) => { throw error; } });
  opened.push(logs);
  const run = logs.job('autodeploy').child({ run: 'r1' });
  for (const line of jobOutput()) logOutputLine(run, 'stdout', line);
  run.info({ exitCode: 0 }, 'run finished');
  await logs.flush();
  return readFile(join(dir, 'autodeploy.log'), 'utf8');
}

describe('event lines of a job in its log', () => {
  it('keep their fields in the JSON format, masked in every field', async () => {
    const text = await logRun('json');
    expect(text).not.toContain('nter');
    const records = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.slice(0, 4)).toMatchObject([
      { job: 'autodeploy', run: 'r1', out: 'stdout', event: 'deploy.checkout-judged', eventVersion: 1, verdict: 'behind', behind: 1, head: A, upstreamHead: B, msg: 'checkout /srv/platform: behind: /srv/platform (main) is 1 commit behind origin/main' },
      { event: 'deploy.pulled', path: '/srv/platform', from: A, to: B, commits: [{ commit: B, subject: 'Rotate the token ***' }], msg: 'pulled /srv/platform: 1a2b3c4d5e6f..9f8e7d6c5b4a' },
      { event: 'deploy.commit', subject: 'Rotate the token ***', msg: '  9f8e7d6c5b4a Rotate the token ***' },
      { event: 'deploy.deploy-error', reason: 'compose said ***', msg: 'deploy failed: compose said ***' },
    ]);
    expect(records[4]).toEqual({ level: 30, time: expect.any(Number), job: 'autodeploy', run: 'r1', out: 'stdout', msg: '{"level":30,"msg":"a JSON line that is no event"}' });
    expect(records[5]).toMatchObject({ out: 'stdout', msg: 'plain output' });
  });

  /** The run's story in the text format, each line after its time: the same from the log file and from `autodeploy logs`. */
  const STORY = [
    'INFO  autodeploy[r1] | checkout /srv/platform: behind: /srv/platform (main) is 1 commit behind origin/main',
    'INFO  autodeploy[r1] | pulled /srv/platform: 1a2b3c4d5e6f..9f8e7d6c5b4a',
    'INFO  autodeploy[r1] |   9f8e7d6c5b4a Rotate the token ***',
    'INFO  autodeploy[r1] | deploy failed: compose said ***',
    'INFO  autodeploy[r1] | {"level":30,"msg":"a JSON line that is no event"}',
    'INFO  autodeploy[r1] | plain output',
    'INFO  autodeploy[r1] run finished exitCode=0',
  ];

  it('read as the sentences alone in the text format', async () => {
    const text = await logRun('text');
    expect(text).not.toContain('nter');
    const stories = text.trimEnd().split('\n').map((line) => line.replace(/^\S+ /, ''));
    expect(stories).toEqual(STORY);
  });

  it('read as the story with `autodeploy logs` from a JSON log, and count as output lines on re-attach', async () => {
    await logRun('json');
    const shown: string[] = [];
    for await (const entry of readLogs({ dir, name: 'autodeploy' })) shown.push(entry.record === undefined ? entry.line : formatText(entry.record));
    expect(shown.map((line) => line.replace(/^\S+ /, ''))).toEqual(STORY);
    expect(await countRunOutputLines(dir, 'autodeploy', 'r1')).toBe(jobOutput().length);
  });

  it('count as output lines in the text format too', async () => {
    await logRun('text');
    expect(await countRunOutputLines(dir, 'autodeploy', 'r1')).toBe(jobOutput().length);
    const records = (await readFile(join(dir, 'autodeploy.log'), 'utf8')).trimEnd().split('\n').map((line) => parseLogLine(line));
    expect(records.filter((r) => r?.out === 'stdout')).toHaveLength(jobOutput().length);
  });

  it('are masked the same when the job masked them first, as the CLI does', async () => {
    const mask = createMasker([SECRET]);
    const event: DeployEvent = { type: 'deploy-error', reason: `compose said ${SECRET}` };
    const masked = maskJsonLine(formatEventLine('deploy', event, deployEventText(event)), mask);
    const logs = openLogFiles({ dir, format: 'json', maxSize: '10m', keep: 2, secrets: [SECRET] });
    opened.push(logs);
    logOutputLine(logs.job('autodeploy').child({ run: 'r2' }), 'stdout', masked);
    await logs.flush();
    const [record] = (await readFile(join(dir, 'autodeploy.log'), 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(record).toMatchObject({ event: 'deploy.deploy-error', reason: 'compose said ***', msg: 'deploy failed: compose said ***' });
  });
});
