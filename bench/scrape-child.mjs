// The measured process of the "scrape cost" section (bench/scrape.ts): the built scheduler
// (dist/, as the image runs it, without tsx's transpiler in memory), run on its own with
// --expose-gc so that its resident memory is the scheduler's alone. A real daemon with its HTTP
// server on 127.0.0.1 holds 100 jobs and 20 checkouts; after a first simulated hour the bench
// scrapes it, then this process simulates more hours and prints one JSON line.
//
// An hour of a busy platform is simulated quickly: the reports of 100 jobs each run every
// minute (6,000 an hour, a third of them failed) are handed to the daemon's listeners as a
// run's end is, the autodeploy job's event lines of a deploy every five minutes judge the 20
// checkouts again, and /metrics is scraped 240 times (every 15 s). Memory is read after a first
// simulated hour (every series exists by then) and after five more.
//
// Plain JavaScript over dist/: argv[2] is the repository, argv[3] a scratch directory.

import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [repo, dir] = process.argv.slice(2);
const dist = (path) => import(pathToFileURL(join(repo, 'dist', path)).href);
const { DaemonServices } = await dist('cli/daemon-services.js');
const { BUILTIN_JOB_KINDS } = await dist('cli/job-kinds.js');
const { formatEventLine } = await dist('core/event-line.js');
const { Daemon } = await dist('scheduler/daemon.js');

const JOBS = 100;
const CHECKOUTS = 20;
const WARM_UPS = 50;
const MORE_HOURS = 5;

const settledRss = () => {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  return Math.round(process.memoryUsage().rss / 1024);
};

const NO_CONTAINERS = {
  self: async () => undefined,
  list: async () => [],
  inspect: async () => undefined,
  create: async () => { throw new Error('no container in this bench'); },
  start: async () => undefined,
  output: async function* () {},
  wait: async () => 0,
  stop: async () => undefined,
  remove: async () => undefined,
};

const schedules = ['@every 1h', '17 3 * * *', '0 0 1 1 *', '5 4 * * 1-5', '0 30 2 * * 0,6'];
const names = Array.from({ length: JOBS }, (_, i) => `bench${String(i).padStart(3, '0')}`);
await mkdir(join(dir, 'jobs'), { recursive: true });
await mkdir(join(dir, 'log'), { recursive: true });
await writeFile(join(dir, 'jobs', 'jobs.yml'), names.map((name, i) => `- name: ${name}\n  schedule: "${schedules[i % schedules.length]}"\n  command: echo job ${i}\n`).join(''));
await writeFile(join(dir, 'env.local'), [
  `AUTODEPLOY_LOG_DIR=${join(dir, 'log')}`,
  `AUTODEPLOY_STATE_DIR=${join(dir, 'state')}`,
  `AUTODEPLOY_JOBS_DIR=${join(dir, 'jobs')}`,
  'AUTODEPLOY_PLATFORM_FREQUENCY=',
  '',
].join('\n'));

const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const services = new DaemonServices({ http: { host: '127.0.0.1', port: 0 } });
const daemon = await Daemon.start({
  builtins: BUILTIN_JOB_KINDS,
  version: 'bench',
  envFile: join(dir, 'env.local'),
  defaultsFile: join(repo, 'config', 'default.env'),
  processEnv: env,
  containers: NO_CONTAINERS,
  onOutput: (run, line) => services.onOutput(run, line),
});
await services.attach(daemon);

const checkouts = Array.from({ length: CHECKOUTS }, (_, i) => `/srv/checkout-${String(i).padStart(2, '0')}`);
let deploys = 0;
const deploy = () => {
  deploys += 1;
  const run = `bench-deploy-${deploys}`;
  const events = [
    { type: 'started', dryRun: false, at: new Date().toISOString(), checkouts },
    ...checkouts.map((path, i) => ({ type: 'checkout-judged', path, verdict: (deploys + i) % 7 === 0 ? 'behind' : 'up-to-date', reason: 'as the bench says', branch: 'main', upstream: 'origin/main', head: String(deploys).padStart(40, 'a'), upstreamHead: String(deploys).padStart(40, 'b'), ahead: 0, behind: (deploys + i) % 7 === 0 ? 1 : 0 })),
    { type: 'decision', action: deploys % 2 === 0 ? 'deploy' : 'nothing', reason: 'bench', deploy: [], pullOnly: [] },
    { type: 'finished', outcome: deploys % 2 === 0 ? 'deployed' : 'nothing', message: 'bench', endedAt: new Date().toISOString(), durationMs: 30_000 + deploys, exitCode: 0 },
  ];
  // What the daemon does with each line of a run: its onOutput, then its listeners.
  for (const event of events) {
    const line = { stream: 'stdout', text: formatEventLine('deploy', event, `deploy ${event.type}`) };
    services.onOutput({ job: 'autodeploy', run }, line);
    daemon.emit('output', { job: 'autodeploy', run }, line);
  }
};
deploy();

// node:http, as the server already holds it: fetch would load undici, tens of MB that are the
// client's, not the scheduler's (Prometheus scrapes from another process).
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const scrape = () => new Promise((resolve, reject) => {
  const started = performance.now();
  http.get({ host: '127.0.0.1', port: services.port, path: '/metrics', agent }, (response) => {
    let bytes = 0;
    response.on('data', (chunk) => { bytes += chunk.length; });
    response.on('end', () => {
      if (response.statusCode !== 200) reject(new Error(`/metrics answered ${response.statusCode}`));
      else resolve({ ms: performance.now() - started, bytes });
    });
  }).on('error', reject);
});

for (let i = 0; i < WARM_UPS; i++) await scrape();
const bootKb = settledRss();

let runs = 0;
const hour = async () => {
  for (let minute = 0; minute < 60; minute++) {
    for (let j = 0; j < JOBS; j++) {
      runs += 1;
      const startedAt = new Date();
      const outcome = (runs + j) % 3 === 0 ? 'failed' : 'succeeded';
      daemon.emit('run', { job: names[j], run: `r${runs.toString(36)}`, outcome, exitCode: outcome === 'failed' ? 1 : 0, startedAt, endedAt: startedAt, durationMs: 100 + (runs % 5000), message: undefined });
    }
    if (minute % 5 === 0) deploy();
    for (let q = 0; q < 4; q++) await scrape();
  }
};
await hour();
const firstHourKb = settledRss();
// The latency is measured by the bench once every series exists (a histogram per job), from
// another process as Prometheus scrapes: this process says where it listens, and waits. Asked
// for `busy`, it ends a run every 5 ms meanwhile, so that every scrape finds a change.
const message = () => new Promise((resolve) => process.once('message', resolve));
process.send?.({ port: services.port });
// CPU time of this process while the bench scrapes: what a scrape costs whatever else the
// machine is doing (the wall time of a loaded machine is other processes' too).
let cpuFrom = process.cpuUsage();
const cpuMs = {};
const spent = () => {
  const used = process.cpuUsage(cpuFrom);
  cpuFrom = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
let busy;
for (;;) {
  const what = await message();
  if (what === 'busy') {
    cpuMs.quiet = spent();
    let k = 0;
    busy = setInterval(() => {
      k += 1;
      const startedAt = new Date();
      daemon.emit('run', { job: names[k % JOBS], run: `busy${k}`, outcome: k % 4 === 0 ? 'failed' : 'succeeded', exitCode: 0, startedAt, endedAt: startedAt, durationMs: k, message: undefined });
    }, 5);
    process.send?.('busy');
  } else {
    cpuMs.busy = spent();
    clearInterval(busy);
    break;
  }
}
for (let h = 0; h < MORE_HOURS; h++) await hour();
const laterKb = settledRss();
agent.destroy();
await services.stop();
await daemon.stop();
process.stdout.write(`${JSON.stringify({ cpuMs, bootKb, firstHourKb, laterKb, hours: MORE_HOURS, runs, deploys, gc: globalThis.gc !== undefined })}\n`);
process.exit(0);
