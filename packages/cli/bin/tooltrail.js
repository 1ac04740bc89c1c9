#!/usr/bin/env node
// The `tooltrail` command: runs the built dist/bin.js. This file is in the source tree (not
// built) so that npm links the command at install time in a fresh clone of the repository too,
// before `npm run build` made dist/ (npm skips a bin whose file does not exist yet).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(bin)) {
  process.stderr.write(`tooltrail: ${fileURLToPath(bin)} is missing: build it first (npm run build)\n`);
  process.exit(1);
}
await import(bin.href);
