#!/usr/bin/env node
import { main } from './cli.js';

// bin/autodeploy puts the arguments after a `--`, so that Node 20 does not read --env-file as its own.
const given = process.argv.slice(2);
const code = await main({ argv: given[0] === '--' ? given.slice(1) : given, env: process.env, stdout: process.stdout, stderr: process.stderr });
// Exit explicitly: an idle keep-alive socket to the Docker engine must not hold the process open.
// Wait for stdout first, so that piped output is not cut short.
process.stdout.write('', () => process.exit(code));
