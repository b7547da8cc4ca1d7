// Every child process of the project is started here, so that all of them are stopped, timed
// out, cancelled and reported the same way, and no caller has to get Node's events right again.
// Over 300 lines as one file: starting, streaming, stopping the group and the error a run
// ends with are one child's lifecycle.

import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export type OutputStream = 'stdout' | 'stderr';

export interface RunProcessOptions {
  /** the program, then its arguments: passed as they are, never read by a shell */
  readonly argv: readonly string[];
  /** default: this process's working directory */
  readonly cwd?: string | undefined;
  /** the whole environment the command sees; default: this process's */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** written to the command's stdin, which is then closed; without it the command has no stdin */
  readonly stdin?: string | undefined;
  /** stop the command after this long */
  readonly timeoutMs?: number | undefined;
  /** stop the command when this is aborted; the run then fails, whatever `failures` says */
  readonly signal?: AbortSignal | undefined;
  /**
   * Each line of output as it comes, for a log that follows the command. A carriage return
   * ends a line too (progress bars redraw with it); blank lines are left out.
   */
  readonly onLine?: ((line: string, stream: OutputStream) => void) | undefined;
  /** bytes of each stream kept for the result (the first ones); onLine still sees all. Default 16 MiB */
  readonly maxOutputBytes?: number | undefined;
  /** keep stderr in `stdout`, in the order it came, as a terminal would show it */
  readonly mergeStderr?: boolean | undefined;
  /**
   * The command leads its own process group, and a stop (timeout, abort) signals the whole
   * group: a shell's or a wrapper script's children go with it instead of living on.
   */
  readonly stopGroup?: boolean | undefined;
  /**
   * With stopGroup: what the command leaves running when it exits is killed then. Without it,
   * a leftover that holds the output open is waited for, as a shell pipeline would.
   */
  readonly stopLeftovers?: boolean | undefined;
  /** time between SIGTERM and SIGKILL when stopping the command; 0: SIGKILL at once. Default 10 s */
  readonly graceMs?: number | undefined;
  /**
   * 'throw' (default): anything but exit code 0 is a ProcessError. 'return': an exit code, a
   * signal or a timeout is part of the result, for commands whose exit code is an answer. A
   * command that could not be started, or was aborted, throws either way.
   */
  readonly failures?: 'throw' | 'return' | undefined;
}

export interface ProcessResult {
  /** null when the command did not exit by itself */
  readonly exitCode: number | null;
  /** the signal that ended the command, ours (a stop) or another's */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** the command was stopped after timeoutMs */
  readonly timedOut: boolean;
  /** some output went beyond maxOutputBytes and is not in stdout or stderr */
  readonly truncated: boolean;
}

export type ProcessFailure = 'not-started' | 'exit-code' | 'signal' | 'timeout' | 'aborted';

export interface ProcessErrorInit {
  /** the whole argv that was run */
  readonly command: readonly string[];
  readonly cwd: string;
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly timedOut: boolean;
  readonly timeoutMs?: number | undefined;
  readonly aborted?: boolean | undefined;
  /** the command's whole process group was signalled to stop it */
  readonly groupStopped?: boolean | undefined;
  /** the last lines of stderr */
  readonly stderrTail: string;
  /** why it could not be started, or the abort's reason */
  readonly cause?: unknown;
  /** what the command is to an operator, at the start of the message; default "command" */
  readonly label?: string | undefined;
}

/** A command that could not be started, failed, was killed, ran out of time or was aborted. */
export class ProcessError extends Error {
  readonly command: readonly string[];
  readonly cwd: string;
  /** undefined when the command did not exit by itself */
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly timedOut: boolean;
  readonly timeoutMs: number | undefined;
  readonly aborted: boolean;
  readonly groupStopped: boolean;
  readonly stderrTail: string;
  readonly failure: ProcessFailure;

  constructor(init: ProcessErrorInit) {
    const failure = failureOf(init);
    super(sentence(init, failure), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ProcessError';
    this.command = init.command;
    this.cwd = init.cwd;
    this.exitCode = init.exitCode;
    this.signal = init.signal;
    this.timedOut = init.timedOut;
    this.timeoutMs = init.timeoutMs;
    this.aborted = init.aborted ?? false;
    this.groupStopped = init.groupStopped ?? false;
    this.stderrTail = init.stderrTail;
    this.failure = failure;
  }

  /** This error's data, to build another error of the same failure. */
  protected static dataOf(error: ProcessError): ProcessErrorInit {
    return {
      command: error.command,
      cwd: error.cwd,
      exitCode: error.exitCode,
      signal: error.signal,
      timedOut: error.timedOut,
      timeoutMs: error.timeoutMs,
      aborted: error.aborted,
      groupStopped: error.groupStopped,
      stderrTail: error.stderrTail,
      ...(error.cause === undefined ? {} : { cause: error.cause }),
    };
  }
}

function failureOf(init: ProcessErrorInit): ProcessFailure {
  if (init.timedOut) return 'timeout';
  if (init.aborted === true) return 'aborted';
  if (init.signal !== undefined) return 'signal';
  if (init.exitCode !== undefined) return 'exit-code';
  return 'not-started';
}

function sentence(init: ProcessErrorInit, failure: ProcessFailure): string {
  const shown = init.command.map(shortArg).join(' ');
  const withGroup = init.groupStopped === true ? ', with everything it started' : '';
  let what: string;
  switch (failure) {
    case 'timeout':
      what = `did not finish within ${seconds(init.timeoutMs ?? 0)} and was stopped${withGroup}`;
      break;
    case 'aborted':
      what = `was stopped before it finished${withGroup} (${messageOf(init.cause) || 'aborted'})`;
      break;
    case 'signal':
      what = `was killed by ${init.signal}`;
      break;
    case 'exit-code':
      what = `exited with code ${init.exitCode}`;
      break;
    case 'not-started': {
      const code = (init.cause as NodeJS.ErrnoException | undefined)?.code;
      // Node says ENOENT for a missing directory as well as for a missing program.
      const hint = code === 'ENOENT' ? `; check that ${init.command[0] ?? 'the program'} is installed and that ${init.cwd} exists` : '';
      what = `could not be run (${messageOf(init.cause)})${hint}`;
      break;
    }
  }
  const said = init.stderrTail
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-3)
    .join(' | ');
  return `${init.label ?? 'command'} "${shown}" in ${init.cwd} ${what}${said === '' ? '' : `: ${said}`}`;
}

/** A script given with `sh -c` would fill the message: its first line stands for it. */
function shortArg(arg: string): string {
  if (arg.includes('\n')) {
    const firstLine = arg.split('\n').find((line) => line.trim() !== '') ?? '';
    return `${firstLine.trim().slice(0, 60)}…`;
  }
  return arg.length > 300 ? `${arg.slice(0, 300)}…` : arg;
}

function messageOf(cause: unknown): string {
  if (cause === undefined) return '';
  return cause instanceof Error ? cause.message : String(cause);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const DEFAULT_GRACE_MS = 10_000;
const STDERR_TAIL_LINES = 20;
const STDERR_TAIL_CHARS = 16 * 1024;
/**
 * After the last SIGKILL, how long the output may stay open once the command is gone: only a
 * process outside its group can still hold it, and that one is not waited for.
 */
const DRAIN_AFTER_KILL_MS = 1_000;

/**
 * Runs `argv` to its end. Resolves with what it printed; a failure (see `failures`) is a
 * ProcessError that says which command, where, and how it ended.
 */
export function runProcess(options: RunProcessOptions): Promise<ProcessResult> {
  const command = [...options.argv];
  const cwd = options.cwd ?? process.cwd();
  const [program, ...args] = command;
  const notStarted = (cause: unknown): ProcessError =>
    new ProcessError({ command, cwd, exitCode: undefined, signal: undefined, timedOut: false, stderrTail: '', cause });
  if (program === undefined) return Promise.reject(notStarted(new Error('the command is empty')));
  if (options.signal?.aborted === true) {
    return Promise.reject(new ProcessError({ command, cwd, exitCode: undefined, signal: undefined, timedOut: false, aborted: true, stderrTail: '', cause: options.signal.reason }));
  }

  const startedAt = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(program, args, {
      cwd,
      env: options.env ?? process.env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: options.stopGroup === true,
    });
  } catch (cause) {
    return Promise.reject(notStarted(cause));
  }

  return new Promise((resolve, reject) => {
    const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const kept: Record<OutputStream, Buffer[]> = { stdout: [], stderr: [] };
    const keptBytes: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
    let truncated = false;
    let stderrTail = '';
    const keep = (into: OutputStream, chunk: Buffer): void => {
      const room = maxBytes - keptBytes[into];
      if (chunk.length > room) truncated = true;
      if (room <= 0) return;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      kept[into].push(piece);
      keptBytes[into] += piece.length;
    };
    const listen = (stream: OutputStream): LineSplitter => {
      const lines = lineSplitter(options.onLine === undefined ? undefined : (line) => options.onLine?.(line, stream));
      child[stream]?.on('data', (chunk: Buffer) => {
        keep(stream === 'stderr' && options.mergeStderr === true ? 'stdout' : stream, chunk);
        const text = lines.push(chunk);
        if (stream === 'stderr') stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
      });
      return lines;
    };
    const outLines = listen('stdout');
    const errLines = listen('stderr');

    if (options.stdin !== undefined && child.stdin !== null) {
      // A command that exits without reading its input is not a failure of the run.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin);
    }

    let timedOut = false;
    let aborted = false;
    let groupStopped = false;
    let exited = false;
    let closed = false;
    let killSent = false;
    let timer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    // A group is signalled only until its output is closed: by then it may be gone, and its
    // number given to another group.
    const send = (signal: NodeJS.Signals): boolean => {
      let sent = false;
      if (options.stopGroup === true) sent = !closed && signalGroup(child, signal);
      else if (!exited) sent = child.kill(signal);
      if (signal === 'SIGKILL') {
        killSent = true;
        if (exited) drainSoon();
      }
      return sent;
    };
    const drainSoon = (): void => {
      if (drainTimer !== undefined || closed) return;
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, DRAIN_AFTER_KILL_MS);
    };
    const stopping = (signal: NodeJS.Signals): void => {
      if (send(signal) && options.stopGroup === true) groupStopped = true;
    };
    // The first of the timeout and the abort is why the command was stopped.
    const stop = (): void => {
      const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
      if (graceMs <= 0) {
        stopping('SIGKILL');
        return;
      }
      stopping('SIGTERM');
      killTimer = setTimeout(() => stopping('SIGKILL'), graceMs);
    };
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (aborted) return;
        timedOut = true;
        stop();
      }, options.timeoutMs);
    }
    const onAbort = (): void => {
      if (timedOut) return;
      aborted = true;
      stop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    let startError: unknown;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
      outLines.end();
      errLines.end();
      if (startError !== undefined) {
        reject(notStarted(startError));
        return;
      }
      const stdout = Buffer.concat(kept.stdout).toString('utf8');
      const stderr = Buffer.concat(kept.stderr).toString('utf8');
      const failed = aborted || timedOut || code !== 0;
      if (!failed || (options.failures === 'return' && !aborted)) {
        resolve({ exitCode: code, signal, stdout, stderr, durationMs: Date.now() - startedAt, timedOut, truncated });
        return;
      }
      reject(
        new ProcessError({
          command,
          cwd,
          exitCode: code ?? undefined,
          signal: signal ?? undefined,
          timedOut,
          timeoutMs: options.timeoutMs,
          aborted,
          groupStopped,
          stderrTail: stderrTail.split('\n').slice(-STDERR_TAIL_LINES - 1).join('\n').trim(),
          ...(aborted ? { cause: options.signal?.reason } : {}),
        }),
      );
    };
    // `on`, not `once`: a later error (a failed kill) must not go unhandled.
    child.on('error', (error) => {
      // Never started (no such program or directory): there will be no exit to wait for.
      if (child.pid === undefined) {
        startError = error;
        finish(null, null);
      }
    });
    child.once('exit', () => {
      exited = true;
      if (options.stopGroup === true && options.stopLeftovers === true) send('SIGKILL');
      if (killSent) drainSoon();
    });
    child.once('close', finish);
  });
}

/**
 * Sends `signal` to the process group the child leads (it was started detached). False when
 * the group is gone already.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    // ESRCH: nothing of the group is left.
    return false;
  }
}

interface LineSplitter {
  /** the chunk as text; its complete lines are emitted */
  push(chunk: Buffer): string;
  end(): void;
}

/** Splits streamed bytes into lines; a character cut between two chunks is joined again. */
function lineSplitter(emit: ((line: string) => void) | undefined): LineSplitter {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  return {
    push(chunk) {
      const text = decoder.write(chunk);
      if (emit === undefined) return text;
      const pieces = (partial + text).split(/\r\n|\n|\r/);
      partial = pieces.pop() ?? '';
      for (const piece of pieces) if (piece.trim() !== '') emit(piece);
      return text;
    },
    end() {
      const rest = partial + decoder.end();
      partial = '';
      if (emit !== undefined && rest.trim() !== '') emit(rest);
    },
  };
}
