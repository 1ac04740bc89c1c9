import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

/** What `npm run demo` does after its build step: the quickstart's demo.ts under tsx, into a temp collector dir. */
export async function demoTrail(): Promise<string> {
  const cwd = await tempDir();
  const home = await tempDir();
  const trail = path.join(cwd, 'audit-trail');
  const { XDG_CONFIG_HOME: _x, TOOLTRAIL_DEMO_KEYS: _k, ...rest } = process.env;
  const env = { ...rest, HOME: home, INIT_CWD: cwd, TOOLTRAIL_DEMO_DIR: trail, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
  const { stdout } = await run(tsx, [path.join(root, 'examples/quickstart/src/demo.ts')], { cwd: path.join(root, 'examples/quickstart'), env, timeout: 90_000 });
  expect(stdout).toMatch(/agent run [0-9a-f-]{36} finished: 5 ok, 1 denied, 0 failed/);
  return trail;
}

