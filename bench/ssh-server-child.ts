// The benchmark's SSH git server, in a process of its own: ssh2 does its cryptography in
// JavaScript, and in the benchmark's own process it would take the event loop from the
// code being measured. Reads {root, keys: [{repo, publicKey}]} as JSON from argv[2],
// prints {port, knownHostsLine} on stdout, answers "stats" lines on stdin, and stops
// when stdin closes.
import { createInterface } from 'node:readline';
import { startSshGitServer } from '../test/fixtures/ssh-git-server.js';

interface Setup {
  readonly root: string;
  readonly keys: readonly { readonly repo: string; readonly publicKey: string }[];
}

const setup = JSON.parse(process.argv[2] ?? '{}') as Setup;
const server = await startSshGitServer({ root: setup.root });
for (const { repo, publicKey } of setup.keys) server.authorize(repo, publicKey);
process.stdout.write(`${JSON.stringify({ port: server.port, knownHostsLine: server.knownHostsLine() })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', () => process.stdout.write(`${JSON.stringify(server.stats())}\n`));
lines.on('close', () => void server.close().then(() => process.exit(0)));
