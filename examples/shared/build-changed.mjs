#!/usr/bin/env node
// `npm run demo`'s build step: builds a workspace package only when its dist is missing or older
// than what it is built from (src/, package.json, tsup and tsconfig files), in the order given.
// Usage: node examples/shared/build-changed.mjs @tooltrail/core @tooltrail/cli
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Newest (or oldest) mtime of the files under p. */
function mtimes(p, pick) {
  if (!existsSync(p)) return undefined;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let best;
  for (const e of readdirSync(p)) {
    const t = mtimes(path.join(p, e), pick);
    if (t !== undefined) best = best === undefined ? t : pick(best, t);
  }
  return best;
}

const dirs = Object.fromEntries(
  readdirSync(path.join(root, 'packages')).map((d) => {
    const dir = path.join(root, 'packages', d);
    return [JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name, dir];
  }),
);
let rebuilt = false;
for (const name of process.argv.slice(2)) {
  const dir = dirs[name];
  if (!dir) throw new Error(`build-changed: no package ${name} under packages/`);
  const inputs = ['src', 'package.json', 'tsup.config.ts', 'tsconfig.json', 'tsconfig.build.json'].map((f) => mtimes(path.join(dir, f), Math.max)).filter((t) => t !== undefined);
  const built = mtimes(path.join(dir, 'dist'), Math.min);
  // A package is rebuilt when it changed, or when one it depends on (earlier in the list) was.
  if (rebuilt || built === undefined || Math.max(...inputs) > built) {
    process.stderr.write(`build-changed: building ${name}\n`);
    execFileSync(npm, ['run', 'build', '--silent', '-w', name], { cwd: root, stdio: 'inherit' });
    rebuilt = true;
  }
}
