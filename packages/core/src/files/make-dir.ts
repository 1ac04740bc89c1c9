import fs from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` without `fs.mkdirSync(dir, { recursive: true })`, which on some Node releases
 * (20.x) never returns for a path under /proc: there mkdir of a missing entry answers ENOENT
 * while its parent exists, and Node's recursive walk retries that forever, blocking the event
 * loop. A spoolDir of `/proc/...` (a read-only path, as root) then hung the whole process at
 * createAuditor(), and `tooltrail collect --dir /proc/x` hung too. Here each level is tried
 * once; an ENOENT that creating the parent did not cure is thrown, like any other error.
 */
export function makeDirSync(dir: string, mode?: number): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    try {
      fs.mkdirSync(at, mode === undefined ? undefined : { mode });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        if (!fs.statSync(at).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${target}'`), { code: 'ENOTDIR', path: at });
        break;
      }
      const parent = path.dirname(at);
      if (code !== 'ENOENT' || parent === at) throw err;
      missing.push(at);
      at = parent;
    }
  }
  // Create what was missing, top down; each level once.
  for (let i = missing.length - 1; i >= 0; i--) {
    const d = missing[i] as string;
    try {
      fs.mkdirSync(d, mode === undefined ? undefined : { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(d).isDirectory()) throw err;
    }
  }
}
