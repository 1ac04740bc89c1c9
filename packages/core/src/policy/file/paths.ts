/**
 * File paths among the arguments, resolved the way the file system will see them: relative to
 * baseDir, `~` to the home directory, `.` and `..` collapsed. `/srv/data/../../etc/passwd` is
 * `/etc/passwd` to a rule. Symbolic links are not followed (that needs the disk, per call).
 *
 * A call may reach a file system other than this process's (a gateway forwards it to a server
 * on macOS or Windows) or a tool that reads the string its own way (C stops at a NUL, a shell
 * expands `~user` and `$HOME`, Windows drops trailing dots). Each such reading is one more fact.
 */
import { homedir, userInfo } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { foldText, percentDecode, trimEndChars } from './text.js';

/** The last word of a key's name (camelCase, snake_case, kebab-case) that marks a path. */
const PATH_WORDS = new Set([
  'path', 'paths', 'file', 'files', 'filename', 'filenames', 'filepath', 'dir', 'dirs', 'dirname', 'directory',
  'directories', 'folder', 'folders', 'cwd', 'workdir', 'dest', 'destination', 'src', 'source', 'target',
]);
/** What starts a path outside a path key: `/`, `./`, `../`, `~`, `~user/`, `$HOME/`, `C:\`, `\\server`. */
const PATH_PREFIX = /^(?:\/|\.\.?(?:\/|$)|~[A-Za-z0-9._+-]*(?:\/|$)|\$\{?HOME\}?(?:\/|$)|[A-Za-z]:[\\/]|\\\\)/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const FILE_URL = /^file:/i;
/** A string that may be a path under no path key (the rest are skipped at once). */
// eslint-disable-next-line no-control-regex
const MAYBE_PATH = /^[\s\x00]*(?:[/.~$\\%]|[A-Za-z]:[\\/]|file:|[^\x00-\x7f])/i;
const MAX_PATH_CHARS = 4_096;
const HOME_VAR = /^(?:\$HOME|\$\{HOME\}|%USERPROFILE%)(?=[\\/]|$)/i;
const TILDE_USER = /^~([A-Za-z0-9._-]+)(?=\/|$)/;
/** `\\?\C:\x`, `\\.\C:\x`: Win32 device paths, the same file as `C:\x`. */
const DEVICE = /^\/\/[?.]\//;
const DRIVE = /^[A-Za-z]:(?:\/|$)/;
/** The process's root and working directory links: `/proc/self/root`, `/proc/1234/cwd`. */
const PROC_LINK = /^\/proc\/(?:self|thread-self|\d+)(?:\/task\/\d+)?\/(root|cwd)(\/.*)?$/;

export function isPathKey(key: string | undefined): boolean {
  return lastWordIn(key, PATH_WORDS);
}

function lastWordIn(key: string | undefined, set: Set<string>): boolean {
  if (key === undefined) return false;
  const words = key.split(/[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])/);
  const last = words[words.length - 1];
  return last !== undefined && (set.has(last.toLowerCase()) || set.has(key.toLowerCase()));
}

/** Keys whose value is a shell command line. */
const COMMAND_WORDS = new Set(['command', 'commands', 'cmd', 'commandline', 'shell', 'bash', 'sh']);
/** What separates the words of a command line: blanks, operators, redirections. */
const SHELL_SPLIT = /[\s;&|()<>`]+/;

/**
 * The words of a command line that are paths, unquoted as the shell does (`"/etc/"pass'wd'`,
 * `\/etc`), and the value of an option (`--output=/etc/x`). Best effort: a shell can compute
 * any path (`$(echo ...)`), so a path rule on a shell tool is a tripwire, not a sandbox.
 */
function commandWords(value: string): string[] {
  const out: string[] = [];
  for (const raw of value.split(SHELL_SPLIT)) {
    if (raw === '') continue;
    const w = raw.replace(/\\(.)/g, '$1').replace(/["']/g, '');
    out.push(w);
    const eq = w.indexOf('=');
    if (eq > 0 && eq < w.length - 1) out.push(w.slice(eq + 1));
  }
  return out;
}

/** Where other users' home directories are (`~alice`): the platform's default. */
const HOMES = process.platform === 'darwin' ? '/Users' : process.platform === 'win32' ? dirname(homedir()) : '/home';

let currentUser: string | undefined;
function userName(): string {
  if (currentUser === undefined) {
    try {
      currentUser = userInfo().username;
    } catch {
      currentUser = '';
    }
  }
  return currentUser;
}

/** `~`, `~/x`, `~+/x` (the working directory), `~user/x`, `$HOME/x`, as a shell expands them. */
function expandHome(value: string, baseDir: string): string {
  if (value === '~' || value.startsWith('~/')) return homedir() + value.slice(1);
  if (value === '~+' || value.startsWith('~+/')) return baseDir + value.slice(2);
  const home = HOME_VAR.exec(value);
  if (home !== null) return homedir() + value.slice(home[0].length);
  const user = TILDE_USER.exec(value);
  if (user !== null) {
    const name = user[1] as string;
    const dir = name === userName() ? homedir() : name === 'root' && process.platform !== 'darwin' ? '/root' : join(HOMES, name);
    return dir + value.slice(user[0].length);
  }
  return value;
}

/** The resolved path when `value` (under `key`) is a file path, else undefined. */
export function pathOf(value: string, key: string | undefined, baseDir: string): string | undefined {
  return pathReadings(value, isPathKey(key), baseDir)[0];
}

/**
 * The readings of one string as a path: resolved as POSIX does, and as Windows does when it is
 * a drive or UNC path (`C:\Windows` is `/C:/Windows`, `\\server\share` is `//server/share`, the
 * forms a `file:` URL's path has), or a `file:` URL's path (with its host, a UNC path).
 */
function pathReadings(value: string, pathKey: boolean, baseDir: string): string[] {
  // Past MAX_PATH_CHARS only a path key makes a path (a blob may start with `/`: base64 JPEG
  // is `/9j/...`); under one, any length (a tool may resolve `/etc/./././...` before it opens).
  if (value.length === 0 || (value.length > MAX_PATH_CHARS && !pathKey)) return [];
  // A line break under no path key is prose, not a path.
  if (!pathKey && value.includes('\n')) return [];
  if (FILE_URL.test(value)) {
    try {
      const u = new URL(value);
      const path = decodePath(u.pathname);
      const p = resolve(path);
      // `file://server/share/x` is a UNC path on Windows.
      return u.hostname === '' ? [p] : [p, `//${u.hostname}${posix.normalize(path)}`];
    } catch {
      return [];
    }
  }
  if (SCHEME.test(value)) return [];
  if (!pathKey && !PATH_PREFIX.test(value)) return [];
  const expanded = expandHome(value, baseDir);
  const out = [resolve(baseDir, expanded)];
  // `/proc/self/root/etc/passwd` is /etc/passwd and `/proc/self/cwd/x` is x in the working
  // directory: the kernel follows these links before any `..` after them, so read them first.
  if (expanded.startsWith('/') && expanded.includes('/proc/')) {
    const m = PROC_LINK.exec(expanded.replace(/\/\.(?=\/|$)/g, '').replace(/\/{2,}/g, '/'));
    if (m !== null) out.push(resolve(m[1] === 'root' ? '/' : baseDir, `.${m[2] ?? ''}`));
  }
  const win = windowsPath(value);
  if (win !== undefined) out.push(win);
  return out;
}

/** A URL path decoded; with an escape that is not UTF-8 (`%ff`), decoded leniently, not dropped. */
function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return percentDecode(p);
  }
}

/** A drive, UNC or device path as an absolute path: `/C:/Windows/x`, `//server/share/x`. */
function windowsPath(value: string): string | undefined {
  let s = value.replace(/\\/g, '/');
  if (DEVICE.test(s)) {
    s = s.slice(4);
    if (/^unc\//i.test(s)) s = `//${s.slice(4)}`;
  }
  if (DRIVE.test(s)) return `/${s.slice(0, 2)}${posix.normalize(`/${s.slice(2)}`)}`;
  if (/^\/\/[^/]/.test(s)) return `/${posix.normalize(s.slice(1))}`;
  return undefined;
}

/**
 * A path as a case-insensitive file system (macOS, Windows) names it: NFKC (Windows' best-fit
 * mapping turns `／` into `/`), characters that render as nothing removed (HFS+ ignores them),
 * lower-cased, and per component what Windows drops: trailing dots and spaces (`passwd.`,
 * `.. `) and the default data stream (`passwd::$DATA`).
 */
function foldPath(value: string): string {
  const parts = foldText(value).toLowerCase().split(/([\\/])/);
  // Even indexes are components, odd ones the separators between them.
  for (let i = 0; i < parts.length; i += 2) parts[i] = windowsName(parts[i] as string);
  return parts.join('');
}

/** A component as Windows opens it: `x::$DATA` is x, `passwd. ` is passwd, `.. ` is `..`. */
function windowsName(c: string): string {
  let n = c.endsWith('$data') ? c.replace(/:{1,2}\$data$/, '') : c;
  const t = trimEndChars(n, ' ');
  if (t === '.' || t === '..') return t;
  n = trimEndChars(n, '. ');
  return n === '' ? c : n;
}

let foldedBase: { dir: string; parts: string[]; folded: string[] } | undefined;

/**
 * A folded path with its leading directories that match baseDir's (folded) spelled as baseDir
 * spells them: the same directory on such a file system, and an allow-list of baseDir written
 * with capitals (`/Users/alice/work`) then still holds for `/Users/alice/work/Reports`.
 */
function spellLikeBase(p: string, baseDir: string): string {
  if (foldedBase?.dir !== baseDir) {
    const parts = resolve(baseDir).split('/');
    foldedBase = { dir: baseDir, parts, folded: parts.map(foldPath) };
  }
  const parts = p.split('/');
  for (let i = 0; i < parts.length && i < foldedBase.parts.length && parts[i] === foldedBase.folded[i]; i++) {
    parts[i] = foldedBase.parts[i] as string;
  }
  return parts.join('/');
}

/**
 * Every reading of `value` as a path: as written, percent-decoded (`%2e%2e`, `..%2f..`: a tool
 * that decodes before it opens), cut at a NUL (C), trimmed (a tool that trims; one per line
 * under a path key), with backslashes as separators (Windows, or a tool that normalises them),
 * and each of those folded as a case-insensitive file system reads it. A rule sees them all, so
 * `/srv/data/..\\..\\etc` is not under /srv/data and `/ETC/passwd` is `/etc/passwd`.
 */
export function pathsOf(value: string, key: string | undefined, baseDir: string): string[] {
  if (lastWordIn(key, COMMAND_WORDS)) {
    const out = pathsOf(value, undefined, baseDir);
    for (const w of commandWords(value)) for (const p of pathsOf(w, undefined, baseDir)) if (!out.includes(p)) out.push(p);
    return out;
  }
  const pathKey = isPathKey(key);
  if (!pathKey && !MAYBE_PATH.test(value)) return [];
  const readings = [value];
  const add = (r: string): void => {
    if (r !== '' && !readings.includes(r)) readings.push(r);
  };
  if (value.includes('%')) add(percentDecode(value));
  for (const r of readings.slice()) {
    const nul = r.indexOf('\u0000');
    if (nul >= 0) add(r.slice(0, nul));
  }
  for (const r of readings.slice()) {
    add(r.trim());
    if (pathKey && r.includes('\n')) for (const line of r.split(/\r?\n/)) add(line.trim());
  }
  for (const r of readings.slice()) if (r.includes('\\')) add(r.replace(/\\/g, '/'));
  const out: string[] = [];
  const push = (p: string): void => {
    if (!out.includes(p)) out.push(p);
  };
  for (const r of readings) for (const p of pathReadings(r, pathKey, baseDir)) push(p);
  for (const r of readings) {
    if (!pathKey && !MAYBE_PATH.test(r)) continue;
    const f = foldPath(r);
    if (f === r) continue;
    for (const p of pathReadings(f, pathKey, baseDir)) push(spellLikeBase(p, baseDir));
  }
  return out;
}
