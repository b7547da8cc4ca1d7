#!/usr/bin/env node
import { main } from './cli.js';

const code = await main({ argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr });
// Exit explicitly: an idle keep-alive socket to the Docker engine must not hold the process open.
// Wait for stdout first, so that piped output is not cut short.
process.stdout.write('', () => process.exit(code));
