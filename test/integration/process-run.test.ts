import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessError, runProcess } from '../../src/process/run.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autodeploy-process-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A word only the processes of one test carry in their arguments, to look for them in `ps`. */
function marker(name: string): string {
  return `autodeploy-process-run-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

async function running(word: string): Promise<boolean> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'args']);
  return stdout.split('\n').some((line) => line.includes(word) && !line.includes('ps -eo'));
}

/** Polls until `check` holds, or fails after `withinMs`. */
async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function failureOf(run: Promise<unknown>): Promise<ProcessError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProcessError);
  return error as ProcessError;
}

describe('runProcess', () => {
  it('gives back the output, the exit code and the time taken', async () => {
    const result = await runProcess({ argv: ['sh', '-c', 'printf "out"; printf "err" >&2; pwd'], cwd: dir });
    expect(result).toMatchObject({ exitCode: 0, signal: null, stdout: `out${dir}\n`, stderr: 'err', timedOut: false, truncated: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('passes the environment and stdin as given', async () => {
    const result = await runProcess({ argv: ['sh', '-c', 'echo "$GREETING"; cat'], env: { PATH: process.env['PATH'], GREETING: 'hello' }, stdin: 'from stdin\n' });
    expect(result.stdout).toBe('hello\nfrom stdin\n');
  });

  it('throws on a non-zero exit, with the command, the exit code and the end of stderr in the message', async () => {
    const script = 'for i in 1 2 3 4 5; do echo "line $i" >&2; done; exit 3';
    const error = await failureOf(runProcess({ argv: ['sh', '-c', script], cwd: dir }));
    expect(error).toMatchObject({ failure: 'exit-code', exitCode: 3, signal: undefined, timedOut: false, aborted: false, cwd: dir });
    expect(error.command).toEqual(['sh', '-c', script]);
    expect(error.stderrTail).toBe('line 1\nline 2\nline 3\nline 4\nline 5');
    expect(error.message).toBe(`command "sh -c ${script}" in ${dir} exited with code 3: line 3 | line 4 | line 5`);
  });

  it('keeps only the last lines of a long stderr', async () => {
    const error = await failureOf(runProcess({ argv: ['sh', '-c', 'i=0; while [ $i -lt 500 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 1'] }));
    const lines = error.stderrTail.split('\n');
    expect(lines.length).toBeLessThanOrEqual(21);
    expect(lines.at(-1)).toBe('line 499');
  });

  it('returns a non-zero exit when asked to, as an answer', async () => {
    const result = await runProcess({ argv: ['sh', '-c', 'echo no; exit 1'], failures: 'return' });
    expect(result).toMatchObject({ exitCode: 1, signal: null, stdout: 'no\n', timedOut: false });
  });

  it('names the signal that killed the command', async () => {
    const error = await failureOf(runProcess({ argv: ['sh', '-c', 'kill -TERM $$'] }));
    expect(error).toMatchObject({ failure: 'signal', exitCode: undefined, signal: 'SIGTERM' });
    expect(error.message).toMatch(/was killed by SIGTERM$/);
    const returned = await runProcess({ argv: ['sh', '-c', 'kill -KILL $$'], failures: 'return' });
    expect(returned).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('says what to check when the program does not exist', async () => {
    const error = await failureOf(runProcess({ argv: ['/nonexistent/program', 'arg'], cwd: dir, failures: 'return' }));
    expect(error.failure).toBe('not-started');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(error.message).toBe(
      `command "/nonexistent/program arg" in ${dir} could not be run (spawn /nonexistent/program ENOENT); check that /nonexistent/program is installed and that ${dir} exists`,
    );
  });

  it('stops the whole process group at the timeout: a grandchild sleep is gone too', async () => {
    const word = marker('timeout');
    // The grandchild holds the output open: only stopping the whole group ends the run.
    const script = `sh -c 'sleep 300; echo ${word}' & echo started; wait`;
    const started = Date.now();
    const error = await failureOf(runProcess({ argv: ['sh', '-c', script], timeoutMs: 500, stopGroup: true, graceMs: 200 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ failure: 'timeout', timedOut: true, groupStopped: true, timeoutMs: 500 });
    expect(error.message).toMatch(/did not finish within 0\.5s and was stopped, with everything it started$/);
    await eventually(async () => !(await running(word)), 2_000);
  });

  it('kills with SIGKILL after the grace when SIGTERM is ignored', async () => {
    const result = await runProcess({
      argv: ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
      timeoutMs: 300,
      stopGroup: true,
      graceMs: 300,
      failures: 'return',
    });
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL', stdout: 'ready\n' });
  });

  it('returns a timeout when asked to, with what was printed before it', async () => {
    const result = await runProcess({ argv: ['sh', '-c', 'echo waiting; sleep 300'], timeoutMs: 300, stopGroup: true, graceMs: 0, failures: 'return' });
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL', stdout: 'waiting\n', timedOut: true });
  });

  it('stops only the command without stopGroup, and ends the run even when a grandchild holds the output', async () => {
    const word = marker('no-group');
    const started = Date.now();
    const error = await failureOf(runProcess({ argv: ['sh', '-c', `sleep 3 && echo ${word}; echo never`], timeoutMs: 300, graceMs: 0 }));
    expect(Date.now() - started).toBeLessThan(2_900);
    expect(error).toMatchObject({ timedOut: true, groupStopped: false });
  });

  it('stops what the command left running when it exits, with stopLeftovers', async () => {
    const word = marker('leftover');
    const started = Date.now();
    const result = await runProcess({ argv: ['sh', '-c', `sh -c 'sleep 300; echo ${word}' & echo done`], stopGroup: true, stopLeftovers: true, timeoutMs: 20_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'done\n', timedOut: false });
    await eventually(async () => !(await running(word)), 2_000);
  });

  it('streams lines in the order they come, before the command ends', async () => {
    const seen: { line: string; stream: string; at: number }[] = [];
    const script = 'echo one; sleep 0.3; echo two >&2; sleep 0.3; printf "three\\r\\nfour\\rfive\\n\\n"; sleep 0.3; printf "no newline"';
    const result = await runProcess({ argv: ['sh', '-c', script], onLine: (line, stream) => seen.push({ line, stream, at: Date.now() }) });
    const ended = Date.now();
    expect(seen.map(({ line, stream }) => [line, stream])).toEqual([
      ['one', 'stdout'],
      ['two', 'stderr'],
      ['three', 'stdout'],
      ['four', 'stdout'],
      ['five', 'stdout'],
      ['no newline', 'stdout'],
    ]);
    expect(ended - seen[0]!.at).toBeGreaterThanOrEqual(600);
    expect(result.stdout).toBe('one\nthree\r\nfour\rfive\n\nno newline');
  });

  it('joins a character cut between two chunks before giving the line', async () => {
    const seen: string[] = [];
    // "é" is two bytes: the first ends one write, the second starts the next.
    await runProcess({ argv: ['sh', '-c', "printf 'caf\\303'; sleep 0.2; printf '\\251\\n'"], onLine: (line) => seen.push(line) });
    expect(seen).toEqual(['café']);
  });

  it('keeps stderr with stdout in the order it came, when asked to', async () => {
    const result = await runProcess({ argv: ['sh', '-c', 'echo a; sleep 0.2; echo b >&2; sleep 0.2; echo c'], mergeStderr: true });
    expect(result).toMatchObject({ stdout: 'a\nb\nc\n', stderr: '' });
  });

  it('keeps at most maxOutputBytes of each stream, and says so', async () => {
    const lines: string[] = [];
    const result = await runProcess({ argv: ['sh', '-c', 'echo 0123456789; echo abcdefghij'], maxOutputBytes: 15, onLine: (line) => lines.push(line) });
    expect(result).toMatchObject({ stdout: '0123456789\nabcd', truncated: true });
    expect(lines).toEqual(['0123456789', 'abcdefghij']);
  });

  it('stops the command, with its group, when aborted', async () => {
    const word = marker('abort');
    const controller = new AbortController();
    const run = runProcess({ argv: ['sh', '-c', `sh -c 'sleep 300; echo ${word}' & wait`], signal: controller.signal, stopGroup: true, graceMs: 200, failures: 'return' });
    await eventually(() => running(word), 5_000);
    controller.abort(new Error('the scheduler is shutting down'));
    const error = await failureOf(run);
    expect(error).toMatchObject({ failure: 'aborted', aborted: true, timedOut: false, groupStopped: true });
    expect(error.message).toMatch(/was stopped before it finished, with everything it started \(the scheduler is shutting down\)$/);
    await eventually(async () => !(await running(word)), 2_000);
  });

  it('does not start a command whose signal is aborted already', async () => {
    const word = marker('pre-aborted');
    const error = await failureOf(runProcess({ argv: ['sh', '-c', `echo ${word} > ${join(dir, word)}`], signal: AbortSignal.abort() }));
    expect(error.aborted).toBe(true);
    await expect(promisify(execFile)('test', ['-e', join(dir, word)])).rejects.toThrow();
  });

  it('removes its abort listener when the command ends: many runs share one signal without a warning', async () => {
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 50; i += 1) await runProcess({ argv: ['true'], signal: controller.signal });
      await Promise.all(Array.from({ length: 5 }, () => runProcess({ argv: ['sh', '-c', 'exit 1'], signal: controller.signal, failures: 'return' })));
      await runProcess({ argv: ['sleep', '5'], signal: controller.signal, timeoutMs: 100, graceMs: 0, failures: 'return' });
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    // None is left on the signal, not even below the count that warns.
    expect(EventEmitter.getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('shows a script given to sh -c by its first line', async () => {
    const error = await failureOf(runProcess({ argv: ['sh', '-c', '\nset -u\necho "$UNSET_HERE"\n'], cwd: dir }));
    expect(error.message).toMatch(new RegExp(`^command "sh -c set -u…" in ${dir} exited with code 2: .*UNSET_HERE`));
  });

  it('refuses an empty command', async () => {
    const error = await failureOf(runProcess({ argv: [], cwd: dir }));
    expect(error.message).toBe(`command "" in ${dir} could not be run (the command is empty)`);
  });
});
