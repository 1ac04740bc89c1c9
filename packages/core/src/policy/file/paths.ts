/**
 * File paths among the arguments, resolved the way the file system will see them: relative to
 * baseDir, `~` to the home directory, `.` and `..` collapsed. `/srv/data/../../etc/passwd` is
 * `/etc/passwd` to a rule. Symbolic links are not followed (that needs the disk, per call).
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { percentDecode } from './text.js';

/** The last word of a key's name (camelCase, snake_case, kebab-case) that marks a path. */
const PATH_WORDS = new Set([
  'path', 'paths', 'file', 'files', 'filename', 'filenames', 'filepath', 'dir', 'dirs', 'dirname', 'directory',
  'directories', 'folder', 'folders', 'cwd', 'workdir', 'dest', 'destination',
]);
const PATH_PREFIX = /^(?:\/|\.\.?(?:\/|$)|~(?:\/|$))/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const MAX_PATH_CHARS = 4_096;

export function isPathKey(key: string | undefined): boolean {
  if (key === undefined) return false;
  const words = key.split(/[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])/);
  const last = words[words.length - 1];
  return last !== undefined && PATH_WORDS.has(last.toLowerCase());
}

/** The resolved path when `value` (under `key`) is a file path, else undefined. */
export function pathOf(value: string, key: string | undefined, baseDir: string): string | undefined {
  if (value.length === 0 || value.length > MAX_PATH_CHARS || value.includes('\n')) return undefined;
  if (value.startsWith('file://')) {
    try {
      return resolve(decodeURIComponent(new URL(value).pathname));
    } catch {
      return undefined;
    }
  }
  if (SCHEME.test(value)) return undefined;
  if (!PATH_PREFIX.test(value) && !isPathKey(key)) return undefined;
  const expanded = value === '~' ? homedir() : value.startsWith('~/') ? homedir() + value.slice(1) : value;
  return resolve(baseDir, expanded);
}

/**
 * Every reading of `value` as a path: as written, percent-decoded (`%2e%2e`, `..%2f..`: a tool
 * that decodes before it opens), and with backslashes as separators (Windows, or a tool that
 * normalises them). A rule sees them all, so `/srv/data/..\\..\\etc` is not under /srv/data.
 */
export function pathsOf(value: string, key: string | undefined, baseDir: string): string[] {
  const readings = [value];
  if (value.includes('%')) readings.push(percentDecode(value));
  for (const r of readings.slice()) if (r.includes('\\')) readings.push(r.replace(/\\/g, '/'));
  const out: string[] = [];
  for (const r of readings) {
    const p = pathOf(r, key, baseDir);
    if (p !== undefined && !out.includes(p)) out.push(p);
  }
  return out;
}
