// Docker multiplexes a non-TTY container's stdout and stderr into frames of
// [stream type (1 byte), 3 zero bytes, payload size (4 bytes BE), payload]:
// https://docs.docker.com/engine/api/v1.41/#tag/Container/operation/ContainerAttach
// dockerode's demuxStream splits them into two streams and so loses their
// relative order; this splitter keeps one ordered sequence of lines.

import type { OutputLine, OutputStream } from '../core/run.js';

const HEADER = 8;

/** Turns multiplexed frames into whole lines, in the order the container wrote them. */
export class FrameLineSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private readonly partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  /** Feeds raw bytes; returns the lines completed by them. */
  push(chunk: Buffer): OutputLine[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const lines: OutputLine[] = [];
    while (this.pending.length >= HEADER) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + size) break;
      const type = this.pending[0];
      const payload = this.pending.subarray(HEADER, HEADER + size);
      this.pending = this.pending.subarray(HEADER + size);
      // Type 0 is stdin (never sent back), 1 stdout, 2 stderr; a TTY stream has no frames at all.
      const stream: OutputStream = type === 2 ? 'stderr' : 'stdout';
      this.collect(stream, this.decoders[stream].decode(payload, { stream: true }), lines);
    }
    return lines;
  }

  /** At end of stream: a last line without its newline is still a line of output. */
  end(): OutputLine[] {
    const lines: OutputLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial[stream] + this.decoders[stream].decode();
      if (rest.length > 0) lines.push({ stream, text: rest });
      this.partial[stream] = '';
    }
    return lines;
  }

  private collect(stream: OutputStream, text: string, into: OutputLine[]): void {
    let buffered = this.partial[stream] + text;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      let line = buffered.slice(0, newline);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      into.push({ stream, text: line });
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
    this.partial[stream] = buffered;
  }
}
