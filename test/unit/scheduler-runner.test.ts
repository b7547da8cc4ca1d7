// The job runner on a fake clock and an in-memory engine: the runner's own decisions (mutex,
// timeout, re-attach) in milliseconds. The real engine is exercised by
// test/integration/scheduler.test.ts; the fake below only has to be honest about what the runner
// relies on, as src/docker/job-containers.ts does it.
import { EventEmitter, getEventListeners, once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContainerJob, ContainerSpec } from '../../src/core/job.js';
import type { JobContainers } from '../../src/core/ports.js';
import type { OutputLine, OutputStream, RunContainer, RunMeta } from '../../src/core/run.js';
import { ContainerNameInUse } from '../../src/docker/errors.js';
import { logOutputLine } from '../../src/logging/log-files.js';
import { resumeRun, runJob, type JobLogs, type RunDeps } from '../../src/scheduler/run-job.js';
import { RunHistory } from '../../src/state/run-history.js';
import { containerJob } from '../helpers/jobs.js';

interface FakeContainer {
  readonly id: string;
  readonly name: string;
  readonly meta: RunMeta;
  state: 'created' | 'running' | 'exited';
  startedAt: Date | undefined;
  exitCode: number | undefined;
  readonly lines: OutputLine[];
  /** 'change' on every line and on exit, for the output readers */
  readonly events: EventEmitter;
}

interface EngineEvents {
  started: [FakeContainer];
  /** someone waits for the container's exit: the runner is following it */
  waiting: [FakeContainer];
}

/**
 * The engine as the runner sees it. A name belongs to one container until that container is
 * removed; `wait` and `output` end at once on a container that is not running, as Docker's do.
 */
class FakeContainers extends EventEmitter<EngineEvents> implements JobContainers {
  /** The names of the containers created, in order: a refused create adds nothing. */
  readonly created: string[] = [];
  readonly stops: { id: string; graceSeconds: number; at: string }[] = [];
  /** Most job commands run under `sh` as PID 1, which ignores SIGTERM: they go at SIGKILL. */
  sigterm: 'ignore' | 'exit' = 'ignore';
  private readonly containers = new Map<string, FakeContainer>();
  private lastId = 0;

  async create(spec: ContainerSpec, meta: RunMeta): Promise<string> {
    const holder = this.find(spec.containerName);
    if (holder !== undefined) {
      // What dockerode rejects with, which the real adapter turns into ContainerNameInUse.
      const conflict = { statusCode: 409, json: { message: `Conflict. The container name "/${spec.containerName}" is already in use by container "${holder.id}".` } };
      throw new ContainerNameInUse(spec.containerName, conflict);
    }
    this.lastId += 1;
    const id = this.lastId.toString(16).padStart(64, '0');
    this.containers.set(id, { id, name: spec.containerName, meta, state: 'created', startedAt: undefined, exitCode: undefined, lines: [], events: new EventEmitter() });
    this.created.push(spec.containerName);
    return id;
  }

  async start(id: string): Promise<void> {
    const c = this.get(id);
    if (c.state !== 'created') return;
    c.state = 'running';
    c.startedAt = new Date();
    this.emit('started', c);
  }

  async inspect(idOrName: string): Promise<RunContainer | undefined> {
    const c = this.find(idOrName);
    return c === undefined ? undefined : toRunContainer(c);
  }

  async list(): Promise<RunContainer[]> {
    return [...this.containers.values()].map(toRunContainer);
  }

  async *output(id: string, options: { skipLines: number; signal?: AbortSignal | undefined }): AsyncIterable<OutputLine> {
    const c = this.get(id);
    const { signal } = options;
    let next = options.skipLines;
    for (;;) {
      while (next < c.lines.length) {
        if (signal?.aborted) return;
        yield c.lines[next++]!;
      }
      if (c.state !== 'running' || signal?.aborted) return;
      try {
        await (signal === undefined ? once(c.events, 'change') : once(c.events, 'change', { signal }));
      } catch (error) {
        if (signal?.aborted) return;
        throw error;
      }
    }
  }

  async wait(id: string): Promise<number> {
    const c = this.get(id);
    this.emit('waiting', c);
    if (c.state === 'running') await once(c.events, 'exited');
    return c.exitCode ?? 0;
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    this.stops.push({ id, graceSeconds, at: new Date().toISOString() });
    if (c === undefined || c.state !== 'running') return;
    const exited = once(c.events, 'exited');
    if (this.sigterm === 'exit') this.end(c, 143);
    else setTimeout(() => this.end(c, 137), graceSeconds * 1000);
    await exited;
  }

  async remove(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c === undefined) return;
    if (c.state === 'running') this.end(c, 137);
    this.containers.delete(id);
  }

  async self(): Promise<undefined> {
    return undefined;
  }

  /** The live container that holds `name`, as the test drives it. */
  container(name: string): FakeContainer | undefined {
    return this.find(name);
  }

  print(name: string, text: string, stream: OutputStream = 'stdout'): void {
    const c = this.running(name);
    c.lines.push({ stream, text });
    c.events.emit('change');
  }

  exit(name: string, code: number): void {
    this.end(this.running(name), code);
  }

  private end(c: FakeContainer, code: number): void {
    if (c.state !== 'running') return;
    c.state = 'exited';
    c.exitCode = code;
    c.events.emit('exited');
    c.events.emit('change');
  }

  private running(name: string): FakeContainer {
    const c = this.find(name);
    if (c?.state !== 'running') throw new Error(`test bug: no running container named ${name}`);
    return c;
  }

  private find(idOrName: string): FakeContainer | undefined {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.name === idOrName);
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (c === undefined) throw new Error(`docker: no such container: ${id.slice(0, 12)}`);
    return c;
  }
}

function toRunContainer(c: FakeContainer): RunContainer {
  // Docker reports a never-started container as not running with exit code 0.
  return { ...c.meta, id: c.id, name: c.name, running: c.state === 'running', exitCode: c.state === 'running' ? undefined : (c.exitCode ?? 0), startedAt: c.startedAt };
}

interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly run?: string;
  readonly out?: OutputStream;
  readonly [key: string]: unknown;
}

/** Job logs kept in memory, as pino writes them to the files. */
class MemoryLogs implements JobLogs {
  private readonly loggers = new Map<string, Logger>();
  private readonly records = new Map<string, LogRecord[]>();

  job(name: string): Logger {
    let logger = this.loggers.get(name);
    if (logger === undefined) {
      const records: LogRecord[] = [];
      this.records.set(name, records);
      logger = pino({ base: { job: name } }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) });
      this.loggers.set(name, logger);
    }
    return logger;
  }

  async flush(): Promise<void> {}

  async countRunOutput(job: string, run: string): Promise<number> {
    return this.output(job, run).length;
  }

  /** Lines an earlier scheduler wrote before it went away. */
  writeOutput(job: string, run: string, texts: readonly string[]): void {
    for (const text of texts) logOutputLine(this.job(job).child({ run }), 'stdout', text);
  }

  of(job: string, run: string): LogRecord[] {
    return (this.records.get(job) ?? []).filter((r) => r.run === run);
  }

  output(job: string, run: string): string[] {
    return this.of(job, run).filter((r) => r.out !== undefined).map((r) => r.msg);
  }
}

const T0 = new Date('2030-01-02T03:04:05.000Z');
const at = (ms: number): string => new Date(T0.getTime() + ms).toISOString();

let dir: string;
let engine: FakeContainers;
let logs: MemoryLogs;
let history: RunHistory;
let deps: RunDeps;

beforeEach(async () => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
  dir = await mkdtemp(join(tmpdir(), 'autodeploy-runner-'));
  engine = new FakeContainers();
  logs = new MemoryLogs();
  history = new RunHistory(dir);
  deps = { containers: engine, logs, history, instance: 'test' };
});

afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

/** The container of the next run the runner starts to follow. */
async function following(): Promise<FakeContainer> {
  const [c] = await once(engine, 'waiting');
  return c as FakeContainer;
}

describe('runJob', () => {
  it('runs a job in its container, logs its output, records it and removes the container', async () => {
    const job = containerJob('hello');
    const report = runJob(job, deps, { origin: 'schedule' });
    const c = await following();
    engine.print('hello', 'hello');
    engine.print('hello', 'to stderr', 'stderr');
    await vi.advanceTimersByTimeAsync(1500);
    engine.exit('hello', 0);

    const r = await report;
    expect(r).toMatchObject({ job: 'hello', run: c.meta.run, outcome: 'succeeded', exitCode: 0, durationMs: 1500, message: undefined });
    expect(c.meta).toEqual({ job: 'hello', run: r.run, origin: 'schedule', instance: 'test' });
    expect(logs.output('hello', r.run)).toEqual(['hello', 'to stderr']);
    expect(logs.of('hello', r.run).find((l) => l.msg === 'run finished')).toMatchObject({ exitCode: 0, durationMs: 1500 });
    expect(engine.container('hello')).toBeUndefined();
    expect(await history.runs('hello')).toEqual([
      { job: 'hello', run: r.run, origin: 'schedule', outcome: 'succeeded', startedAt: at(0), endedAt: at(1500), durationMs: 1500, exitCode: 0 },
    ]);
  });

  it('skips a run while the previous run holds the container name, naming that run, and creates nothing', async () => {
    const job = containerJob('slow');
    const first = runJob(job, deps, { origin: 'schedule' });
    const held = await following();
    await vi.advanceTimersByTimeAsync(60_000);

    const second = await runJob(job, deps, { origin: 'schedule' });
    expect(second).toMatchObject({
      job: 'slow',
      outcome: 'skipped',
      exitCode: undefined,
      durationMs: 0,
      message: `previous run ${held.meta.run} is still running (container slow)`,
    });
    expect(second.run).not.toBe(held.meta.run);
    expect(engine.created).toEqual(['slow']);
    expect(engine.stops).toEqual([]);
    expect(held.state).toBe('running');
    expect(logs.of('slow', second.run)).toMatchObject([{ level: 40, msg: `run skipped: ${second.message!}` }]);

    engine.exit('slow', 0);
    const firstReport = await first;
    expect(firstReport.outcome).toBe('succeeded');
    expect((await history.runs('slow')).map((r) => [r.run, r.outcome, r.startedAt])).toEqual([
      [second.run, 'skipped', at(60_000)],
      [firstReport.run, 'succeeded', at(0)],
    ]);
  });

  it('skips a run whose container name a running container of another job holds', async () => {
    const first = runJob(containerJob('one', { containerName: 'shared' }), deps, { origin: 'schedule' });
    await following();
    const second = await runJob(containerJob('two', { containerName: 'shared' }), deps, { origin: 'manual' });
    expect(second).toMatchObject({ outcome: 'skipped', message: 'container name shared is held by a running container that is not a run of this job' });
    expect(engine.created).toEqual(['shared']);
    engine.exit('shared', 0);
    await first;
  });

  it('collects a run that ended while no scheduler watched before starting the next one', async () => {
    const job = containerJob('left');
    // An earlier scheduler started the run, wrote two of its three lines, and went away.
    const id = await engine.create(job.container, { job: 'left', run: 'earlier', origin: 'schedule', instance: 'test' });
    await engine.start(id);
    for (const text of ['one', 'two', 'three']) engine.print('left', text);
    engine.exit('left', 1);
    logs.writeOutput('left', 'earlier', ['one', 'two']);
    await vi.advanceTimersByTimeAsync(10_000);

    const report = runJob(job, deps, { origin: 'schedule' });
    // The runner follows the leftover to its end first, then starts the new run.
    const [next] = (await once(engine, 'started')) as [FakeContainer];
    await following();
    expect(next.id).not.toBe(id);
    expect(logs.output('left', 'earlier')).toEqual(['one', 'two', 'three']);
    expect(await history.last('left')).toMatchObject({ run: next.meta.run, outcome: 'running' });
    expect((await history.runs('left')).find((r) => r.run === 'earlier')).toMatchObject({ outcome: 'failed', exitCode: 1, durationMs: 10_000 });
    engine.exit('left', 0);
    expect((await report).outcome).toBe('succeeded');
    expect(engine.created).toEqual(['left', 'left']);
  });

  it('stops a run at its timeout with SIGTERM then the grace, and records it as timed out', async () => {
    const job = containerJob('stuck', { timeoutMs: 2000 });
    const report = runJob(job, deps, { origin: 'manual', stopGraceSeconds: 3 });
    const c = await following();
    engine.print('stuck', 'started');

    await vi.advanceTimersByTimeAsync(1999);
    expect(engine.stops).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.stops).toEqual([{ id: c.id, graceSeconds: 3, at: at(2000) }]);
    // The job ignores SIGTERM: it keeps running through the grace, until SIGKILL.
    await vi.advanceTimersByTimeAsync(2999);
    expect(c.state).toBe('running');
    await vi.advanceTimersByTimeAsync(1);

    const r = await report;
    expect(r).toMatchObject({ outcome: 'timed-out', exitCode: 137, durationMs: 5000, message: 'timed out after 2s' });
    expect(logs.output('stuck', r.run)).toEqual(['started']);
    expect(logs.of('stuck', r.run).find((l) => l.level === 40)).toMatchObject({ msg: 'run timed out: stopping its container (SIGTERM, then SIGKILL)', timeoutMs: 2000, graceSeconds: 3 });
    expect(engine.container('stuck')).toBeUndefined();
    expect(await history.runs('stuck')).toEqual([
      { job: 'stuck', run: r.run, origin: 'manual', outcome: 'timed-out', startedAt: at(0), endedAt: at(5000), durationMs: 5000, exitCode: 137, message: 'timed out after 2s' },
    ]);
  });

  it('records a run that ends at SIGTERM as timed out at its timeout', async () => {
    engine.sigterm = 'exit';
    const report = runJob(containerJob('polite', { timeoutMs: 30_000 }), deps, { origin: 'schedule' });
    await following();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await report).toMatchObject({ outcome: 'timed-out', exitCode: 143, durationMs: 30_000 });
    expect(engine.stops).toMatchObject([{ graceSeconds: 10, at: at(30_000) }]);
  });

  it('leaves no timer behind when a run ends before its timeout', async () => {
    const report = runJob(containerJob('quick', { timeoutMs: 60_000 }), deps, { origin: 'schedule' });
    await following();
    await vi.advanceTimersByTimeAsync(1000);
    engine.exit('quick', 0);
    expect(await report).toMatchObject({ outcome: 'succeeded', durationMs: 1000 });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(engine.stops).toEqual([]);
  });

  it('holds a timeout longer than a Node timer can', async () => {
    // 30 days is more than 2^31-1 ms (24.8 days), which Node's setTimeout takes for 1 ms.
    const thirtyDays = 30 * 24 * 3_600_000;
    const report = runJob(containerJob('monthly', { timeoutMs: thirtyDays }), deps, { origin: 'schedule', stopGraceSeconds: 1 });
    const c = await following();
    await vi.advanceTimersByTimeAsync(1000);
    expect(engine.stops).toEqual([]);
    await vi.advanceTimersByTimeAsync(thirtyDays - 1001);
    expect(engine.stops).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.stops).toEqual([{ id: c.id, graceSeconds: 1, at: at(thirtyDays) }]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await report).toMatchObject({ outcome: 'timed-out', exitCode: 137, durationMs: thirtyDays + 1000 });
  });

  it('stops following a run when the scheduler stops, and leaves its container running', async () => {
    const stopping = new AbortController();
    const report = runJob(containerJob('going'), deps, { origin: 'schedule', signal: stopping.signal });
    const c = await following();
    engine.print('going', 'before the stop');
    await vi.advanceTimersByTimeAsync(1000);
    stopping.abort();

    const r = await report;
    expect(r).toMatchObject({ outcome: 'interrupted', exitCode: undefined, durationMs: 1000 });
    expect(c.state).toBe('running');
    expect(engine.container('going')).toBe(c);
    expect(logs.output('going', r.run)).toEqual(['before the stop']);
    // The history keeps the run as running: the next scheduler re-attaches and records its end.
    expect(await history.runs('going')).toMatchObject([{ run: r.run, outcome: 'running' }]);
  });
  it('lets go of the scheduler\'s abort signal once a run has ended', async () => {
    // The daemon hands every run the one signal it aborts at shutdown: a listener left on it
    // per run would pile up for as long as the scheduler lives.
    const stopping = new AbortController();
    for (const [name, code] of [['a', 0], ['b', 1], ['c', 0]] as const) {
      const report = runJob(containerJob(name), deps, { origin: 'schedule', signal: stopping.signal });
      await following();
      engine.exit(name, code);
      expect(await report).toMatchObject({ exitCode: code });
    }
    expect(getEventListeners(stopping.signal, 'abort')).toHaveLength(0);
  });
});

describe('resumeRun', () => {
  /** A run an earlier scheduler started at T0, logged `logged` lines of, recorded as running, and left. */
  async function leftRunning(job: ContainerJob, lines: readonly string[], logged: number): Promise<RunContainer> {
    const id = await engine.create(job.container, { job: job.name, run: 'earlier', origin: 'schedule', instance: 'test' });
    await engine.start(id);
    for (const text of lines) engine.print(job.container.containerName, text);
    logs.writeOutput(job.name, 'earlier', lines.slice(0, logged));
    await history.record({ job: job.name, run: 'earlier', origin: 'schedule', outcome: 'running', startedAt: at(0) });
    const container = await engine.inspect(id);
    if (container === undefined) throw new Error('test bug: the run vanished');
    return container;
  }

  it('logs only the lines after those already logged, and records the run once', async () => {
    const job = containerJob('long');
    const lines = Array.from({ length: 5 }, (_, i) => `line ${i + 1}`);
    const container = await leftRunning(job, lines, 3);
    await vi.advanceTimersByTimeAsync(10_000);

    const report = resumeRun(container, deps, { origin: 'schedule' });
    await following();
    engine.print('long', 'line 6');
    await vi.advanceTimersByTimeAsync(2000);
    engine.exit('long', 0);

    const r = await report;
    expect(r).toMatchObject({ job: 'long', run: 'earlier', outcome: 'succeeded', exitCode: 0, durationMs: 12_000 });
    expect(logs.output('long', 'earlier')).toEqual([...lines, 'line 6']);
    expect(logs.of('long', 'earlier').find((l) => l.msg === 're-attached to run')).toMatchObject({ linesAlreadyLogged: 3, running: true });
    expect(await history.runs('long')).toEqual([
      { job: 'long', run: 'earlier', origin: 'schedule', outcome: 'succeeded', startedAt: at(0), endedAt: at(12_000), durationMs: 12_000, exitCode: 0 },
    ]);
    expect(engine.container('long')).toBeUndefined();
    expect(engine.created).toEqual(['long']);
  });

  it('keeps the deadline of the run it re-attaches to', async () => {
    const job = containerJob('late', { timeoutMs: 60_000 });
    const container = await leftRunning(job, ['working'], 1);
    await vi.advanceTimersByTimeAsync(50_000);

    const report = resumeRun(container, deps, { origin: 'schedule', timeoutMs: job.timeoutMs, stopGraceSeconds: 1 });
    const c = await following();
    await vi.advanceTimersByTimeAsync(9999);
    expect(engine.stops).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.stops).toEqual([{ id: c.id, graceSeconds: 1, at: at(60_000) }]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await report).toMatchObject({ run: 'earlier', outcome: 'timed-out', durationMs: 61_000 });
    expect(logs.output('late', 'earlier')).toEqual(['working']);
  });
});
