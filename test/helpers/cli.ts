import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/cli.js';

/** Runs `autodeploy <argv>` in this process with exactly `env`, and collects what it wrote. */
export async function runCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await main({ argv: [...argv], env, stdout, stderr });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
