// /metrics of a real daemon over real HTTP, the shipped monitoring files checked by promtool,
// and a real Prometheus scraping a real scheduler until a failing job's alert fires.
import { execFile } from 'node:child_process';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { formatEventLine, type EventData } from '../../src/core/event-line.js';
import { startObservedScheduler, type ObservedScheduler } from '../helpers/observed-scheduler.js';
import { PROMTOOL, startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { REPO_ROOT, eventually, nextRun } from '../helpers/scheduler-env.js';

const run = promisify(execFile);
const MONITORING = join(REPO_ROOT, 'compose/scheduler/config/monitoring');
const RULES = join(MONITORING, 'autodeploy.rules');
const SCRAPE = join(MONITORING, 'scrape_configs.yml');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function scheduler(jobs: string, env: readonly string[] = []): Promise<ObservedScheduler> {
  const s = await startObservedScheduler({ jobs, env });
  cleanups.push(() => s.stop());
  return s;
}

async function scrape(base: string): Promise<string> {
  const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of one series, by its exact name and labels as the text format writes them. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const COMMIT_A = '9bc0ce3e0b8f64a0c1d2e3f4a5b6c7d8e9f0a1b2';
const COMMIT_B = '4632f0a6aa11bb22cc33dd44ee55ff6677889900';

describe('the metrics of a running scheduler', () => {
  it('counts runs by job and outcome, follows deploys and checkouts, and names no commit', async () => {
    const s = await scheduler(
      `- name: fails\n  schedule: "@yearly"\n  command: sh -c 'echo failing; exit 3'\n` +
        `- name: works\n  schedule: "@every 1h"\n  command: echo fine\n` +
        `- name: slow\n  schedule: "@yearly"\n  command: sleep 1\n` +
        `- name: broken\n  schedule: "every so often"\n  command: echo never\n`,
    );
    // Metrics begin with the first scrape, as Prometheus' would.
    await scrape(s.base);
    for (let i = 0; i < 2; i++) {
      const end = nextRun(s.daemon, 'fails');
      s.daemon.trigger('fails');
      expect((await end).outcome).toBe('failed');
      // The run is over once the daemon lets go of it, just after it told its end.
      await eventually('the run to be let go', () => (s.daemon.running('fails') ? undefined : true));
    }
    const works = nextRun(s.daemon, 'works');
    s.daemon.trigger('works');
    await works;
    const slow = nextRun(s.daemon, 'slow');
    s.daemon.trigger('slow');
    s.daemon.trigger('slow'); // due again while the first runs: skipped
    await slow;

    s.deployEvents('run-deploy-1', [
      { type: 'started', dryRun: false, at: new Date().toISOString(), checkouts: ['/srv/platform', '/srv/private'] },
      { type: 'checkout-judged', path: '/srv/platform', verdict: 'behind', reason: '2 commits behind origin/main', branch: 'main', upstream: 'origin/main', head: COMMIT_A, upstreamHead: COMMIT_B, ahead: 0, behind: 2 },
      { type: 'checkout-judged', path: '/srv/private', verdict: 'error', reason: 'authentication refused', branch: 'main', upstream: 'origin/main', head: COMMIT_A, upstreamHead: undefined, ahead: 0, behind: 0 },
      { type: 'decision', action: 'deploy', reason: '/srv/platform is behind', deploy: ['/srv/platform'], pullOnly: [] },
      { type: 'pulled', path: '/srv/platform', from: COMMIT_A, to: COMMIT_B, deployed: true, commits: [{ commit: COMMIT_B, subject: 'Break the proxy' }] },
      { type: 'verified', ok: false, outcome: 'unhealthy', waitedMs: 3000, services: [] },
      { type: 'rolled-back', ok: true, reason: 'proxy is unhealthy', checkouts: [], problems: [] },
      { type: 'finished', outcome: 'rolled-back', message: 'deploy rolled back: proxy is unhealthy', endedAt: new Date().toISOString(), durationMs: 42_000, exitCode: 1 },
    ]);

    const published = { type: 'finished', outcome: 'published', message: 'published 12 notebooks', endedAt: new Date().toISOString(), durationMs: 900, exitCode: 0, version: '20261130-120000-3f2a9c1b', previous: undefined, changes: { added: 12, changed: 0, removed: 0 } };
    s.daemon.emit('output', { job: 'notebookdeploy', run: 'run-notebooks-1' }, { stream: 'stdout', text: formatEventLine('notebooks', published as EventData, 'published 12 notebooks') });

    const text = await scrape(s.base);
    expect(value(text, 'autodeploy_notebook_publishes_total{outcome="published"}')).toBe(1);
    expect(value(text, 'autodeploy_notebook_publishes_total{outcome="failed"}')).toBe(0);
    expect(value(text, 'autodeploy_notebook_set_timestamp_seconds')).toBe(Date.parse('2026-11-30T12:00:00Z') / 1000);
    expect(value(text, 'autodeploy_notebook_set_age_seconds')).toBeGreaterThan(0);
    expect(value(text, 'autodeploy_job_runs_total{name="fails",outcome="failed"}')).toBe(2);
    expect(value(text, 'autodeploy_job_runs_total{name="fails",outcome="succeeded"}')).toBe(0);
    expect(value(text, 'autodeploy_job_consecutive_failures{name="fails"}')).toBe(2);
    expect(value(text, 'autodeploy_job_last_failure_timestamp_seconds{name="fails"}')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(value(text, 'autodeploy_job_runs_total{name="works",outcome="succeeded"}')).toBe(1);
    expect(value(text, 'autodeploy_job_consecutive_failures{name="works"}')).toBe(0);
    expect(value(text, 'autodeploy_job_last_success_timestamp_seconds{name="works"}')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(value(text, 'autodeploy_job_interval_seconds{name="works"}')).toBe(3600);
    expect(value(text, 'autodeploy_job_next_run_timestamp_seconds{name="works"}')).toBeGreaterThan(Date.now() / 1000);
    expect(value(text, 'autodeploy_job_runs_total{name="slow",outcome="skipped"}')).toBe(1);
    expect(value(text, 'autodeploy_job_run_duration_seconds_count{name="slow"}')).toBe(1);
    expect(text).not.toContain('name="broken"');

    expect(value(text, 'autodeploy_deploys_total{outcome="rolled-back"}')).toBe(1);
    expect(value(text, 'autodeploy_deploys_total{outcome="deployed"}')).toBe(0);
    expect(value(text, 'autodeploy_deploy_duration_seconds_sum')).toBe(42);
    expect(value(text, 'autodeploy_deploy_last_outcome{outcome="rolled-back"}')).toBe(1);
    expect(value(text, 'autodeploy_deploy_last_outcome{outcome="deployed"}')).toBe(0);
    expect(value(text, 'autodeploy_checkout_verdict{checkout="/srv/platform",verdict="behind"}')).toBe(1);
    expect(value(text, 'autodeploy_checkout_verdict{checkout="/srv/platform",verdict="up-to-date"}')).toBe(0);
    expect(value(text, 'autodeploy_checkout_verdict{checkout="/srv/private",verdict="error"}')).toBe(1);
    expect(value(text, 'autodeploy_checkout_commits_behind{checkout="/srv/platform"}')).toBe(2);

    expect(value(text, 'autodeploy_config_valid')).toBe(1);
    expect(value(text, 'autodeploy_config_refused_jobs')).toBe(1);
    expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // Bounded labels: no commit, no message, no run id.
    for (const unbounded of [COMMIT_A.slice(0, 8), COMMIT_B.slice(0, 8), 'Break the proxy', 'run-deploy-1', 'proxy is unhealthy']) expect(text).not.toContain(unbounded);
  });

  it('drops the series of a job that leaves the table', async () => {
    const s = await scheduler(`- name: gone\n  schedule: "@every 1h"\n  command: echo bye\n`);
    expect(await scrape(s.base)).toContain('name="gone"');
    await writeFile(join(s.scratch.dir, 'jobs', 'jobs.yml'), `- name: stays\n  schedule: "@every 1h"\n  command: echo hi\n`);
    await eventually('the job table to change', () => (s.daemon.jobs.some((j) => j.name === 'stays') ? true : undefined));
    const text = await scrape(s.base);
    expect(text).toContain('name="stays"');
    expect(text).not.toContain('name="gone"');
  });
});

/** The scrape config Prometheus would include, in a whole config that reaches `target`. */
async function wholeConfig(target: string, rulesFile: string): Promise<string> {
  const shipped = YAML.parse(await readFile(SCRAPE, 'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
  const scrapes = shipped.scrape_configs.map((c) => ({ ...c, scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [target] }] }));
  return YAML.stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, rule_files: [rulesFile], scrape_configs: scrapes });
}

describe('the monitoring files of the component', () => {
  it('pass promtool: the rules, and a config made of the shipped scrape config', async () => {
    const rules = await run(PROMTOOL, ['check', 'rules', RULES]);
    expect(rules.stdout).toMatch(/SUCCESS: 7 rules found/);
    const dir = await mkdtemp(join(tmpdir(), 'autodeploy-promtool-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const config = join(dir, 'prometheus.yml');
    await writeFile(config, await wholeConfig('scheduler:8090', RULES));
    const checked = await run(PROMTOOL, ['check', 'config', config]);
    expect(checked.stdout).toMatch(/SUCCESS/);
    const dashboard = JSON.parse(await readFile(join(MONITORING, 'grafana_dashboards/autodeploy-scheduler.json'), 'utf8')) as { uid: string; panels: { targets: { expr: string }[] }[] };
    expect(dashboard.uid).toBe('autodeploy-scheduler');
    expect(dashboard.panels.length).toBeGreaterThan(5);
  });

  it('fire a failing job\'s alert in a real Prometheus scraping a real scheduler: pending, then firing', async () => {
    const s = await scheduler(`- name: flaky\n  schedule: "@every 1s"\n  command: sh -c 'echo no luck; exit 1'\n`);
    // The shipped rules with `for:` of three seconds, so that the pending state is seen.
    const rules = YAML.parse(await readFile(RULES, 'utf8')) as { groups: { rules: { alert: string; for?: string }[] }[] };
    for (const group of rules.groups) for (const rule of group.rules) rule.for = '3s';
    const dir = await mkdtemp(join(tmpdir(), 'autodeploy-rules-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const rulesFile = join(dir, 'autodeploy.rules');
    await writeFile(rulesFile, YAML.stringify(rules));
    const prometheus: RunningPrometheus = await startPrometheus(await wholeConfig(`127.0.0.1:${s.port}`, rulesFile));
    cleanups.push(() => prometheus.stop());

    type Alerts = { alerts: { labels: Record<string, string>; state: string }[] };
    const states: string[] = [];
    const stateOf = async (): Promise<string | undefined> => {
      const { alerts } = await prometheus.api<Alerts>('/api/v1/alerts');
      const alert = alerts.find((a) => a.labels['alertname'] === 'AutodeployJobFailing' && a.labels['name'] === 'flaky');
      if (alert !== undefined && states.at(-1) !== alert.state) states.push(alert.state);
      return alert?.state;
    };
    await eventually('AutodeployJobFailing to be pending', async () => ((await stateOf()) === 'pending' ? true : undefined), 30_000);
    await eventually('AutodeployJobFailing to fire', async () => ((await stateOf()) === 'firing' ? true : undefined), 30_000);
    expect(states).toEqual(['pending', 'firing']);
    const up = await prometheus.api<{ result: { value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent('up{job="autodeploy-scheduler"}')}`);
    expect(up.result[0]?.value[1]).toBe('1');
  }, 90_000);
});
