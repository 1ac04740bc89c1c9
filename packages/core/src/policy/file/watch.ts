/**
 * Change notice for the policy file and its signature. fs.watch on their directories (an
 * editor's save-by-rename replaces the file, and a watch on the old inode would go quiet), plus
 * a stat poll, because fs.watch misses changes on network and container file systems. Both feed
 * one debounced callback; nothing here keeps the process alive.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface FileWatch {
  close(): void;
}

function stamp(path: string): string {
  try {
    const s = statSync(path, { throwIfNoEntry: false });
    return s === undefined ? 'missing' : `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (err) {
    return `error:${(err as { code?: string }).code ?? ''}`;
  }
}

export function watchFiles(paths: readonly string[], pollMs: number, onChange: () => void): FileWatch {
  const debounceMs = Math.min(100, pollMs);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const fire = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
    timer.unref();
  };

  const watchers: FSWatcher[] = [];
  const names = new Map<string, Set<string>>();
  for (const p of paths) {
    const dir = dirname(p);
    const set = names.get(dir) ?? new Set<string>();
    set.add(basename(p));
    names.set(dir, set);
  }
  for (const [dir, files] of names) {
    try {
      const w = watch(dir, { persistent: false }, (_event, filename) => {
        if (filename === null || files.has(String(filename))) fire();
      });
      // A watched directory that goes away: the poll carries on alone.
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // No watch here (unsupported, too many watchers): the poll alone.
    }
  }

  const stamps = paths.map(stamp);
  const poll = setInterval(() => {
    let changed = false;
    paths.forEach((p, i) => {
      const s = stamp(p);
      if (s !== stamps[i]) {
        stamps[i] = s;
        changed = true;
      }
    });
    if (changed) fire();
  }, pollMs);
  poll.unref();

  return {
    close(): void {
      closed = true;
      clearInterval(poll);
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
