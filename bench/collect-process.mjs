// A real `tooltrail collect` process on 127.0.0.1 with a folder of its own, for suites that only
// need a receiver to export to (the export suite keeps its own, which it also kills and restarts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const started = new Set();
process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** Resolves to `{ tracesUrl, stop() }` once the collector prints where it listens. */
export function startCollect(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tooltrail-bench-${name}-`));
  const child = spawn(process.execPath, [BIN, 'collect', '--host', '127.0.0.1', '--port', '0', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  child.on('exit', () => started.delete(child));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start: ${stderr}`)), 15_000);
    child.once('exit', (code, signal) => reject(new Error(`collector exited (${code ?? signal}): ${stderr}`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1\/traces)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        tracesUrl: m[1],
        dir,
        stop: () => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', () => done()), child.kill('SIGTERM')))),
      });
    });
  });
}
