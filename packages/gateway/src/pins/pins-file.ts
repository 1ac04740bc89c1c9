/**
 * The pins file: which definition hash each server's tools are pinned to.
 *
 * ```json
 * { "version": 1, "servers": { "files": { "read_file": "sha256:<64 hex>" } } }
 * ```
 *
 * Read strictly (an unknown key, a hash that is not `sha256:` + 64 lower-case hex digits, text
 * that is not JSON: an AuditConfigError, never an empty pin set), written atomically (a temp
 * file in the same directory, fsync, rename; mode 0600) with sorted keys so a diff shows what
 * changed.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { AuditConfigError } from '@tooltrail/core';

/** server name -> tool name -> `sha256:<hex>`. */
export type PinTable = Map<string, Map<string, string>>;

export const PINS_FILE_VERSION = 1;
const HASH = /^sha256:[0-9a-f]{64}$/;
/** A pins file is small; anything larger is not one. */
const MAX_BYTES = 16 * 1024 * 1024;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a pins file's text; every problem is listed at once. */
export function parsePins(text: string, source: string): PinTable {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new AuditConfigError(`pins file ${source} is not valid JSON (fix or remove it; it is never read as empty)`, [
      err instanceof Error ? err.message : String(err),
    ]);
  }
  const issues: string[] = [];
  const table: PinTable = new Map();
  if (!isPlainObject(doc)) {
    issues.push('the file must hold an object { version, servers }');
  } else {
    for (const key of Object.keys(doc)) if (key !== 'version' && key !== 'servers') issues.push(`unknown key "${key}"`);
    if (doc.version !== PINS_FILE_VERSION) issues.push(`version must be ${PINS_FILE_VERSION}`);
    if (!isPlainObject(doc.servers)) issues.push('servers must be an object: server name -> { tool name -> "sha256:..." }');
    else {
      for (const [server, tools] of Object.entries(doc.servers)) {
        if (!isPlainObject(tools)) {
          issues.push(`servers.${server} must be an object: tool name -> "sha256:..."`);
          continue;
        }
        const pins = new Map<string, string>();
        for (const [tool, hash] of Object.entries(tools)) {
          if (typeof hash !== 'string' || !HASH.test(hash)) issues.push(`servers.${server}.${tool} must be "sha256:" and 64 lower-case hex digits`);
          else pins.set(tool, hash);
        }
        table.set(server, pins);
      }
    }
  }
  if (issues.length > 0) throw new AuditConfigError(`pins file ${source} is not a valid pins file (fix or remove it; it is never read as empty)`, issues);
  return table;
}

/** What identifies one version of the file on disk (mtime, size, inode), or undefined when it is absent. */
export function pinsFileKey(path: string): string | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined ? undefined : `${st.mtimeMs}:${st.size}:${st.ino}`;
}

/** Reads the pins file: absent is an empty table (nothing pinned yet); anything unreadable or invalid throws. */
export function readPinsFile(path: string): PinTable {
  let text: string;
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return new Map();
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuditConfigError(`cannot read pins file ${path}`, [err instanceof Error ? err.message : String(err)]);
  }
  return parsePins(text, path);
}

/** The file's text for a table: sorted keys, two-space indent, a final newline. */
export function formatPins(table: PinTable): string {
  // Null-prototype objects: a server or tool named `__proto__` is a key like any other.
  const servers = Object.create(null) as Record<string, Record<string, string>>;
  for (const server of [...table.keys()].sort()) {
    const tools = table.get(server) ?? new Map<string, string>();
    const out = Object.create(null) as Record<string, string>;
    for (const tool of [...tools.keys()].sort()) out[tool] = tools.get(tool) as string;
    servers[server] = out;
  }
  return `${JSON.stringify({ version: PINS_FILE_VERSION, servers }, null, 2)}\n`;
}

/** Writes the table atomically: temp file (0600) in the same directory, fsync, rename over the file. */
export function writePinsFile(path: string, table: PinTable): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  let renamed = false;
  try {
    try {
      writeSync(fd, formatPins(table));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
  }
  // The rename is durable once the directory is synced (best effort: not every platform allows it).
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // directory fsync is not supported here
  }
}

/** A temp file created and removed in the pins file's folder: a folder the gateway cannot write would lose every new pin at a restart. */
export function assertWritableFolder(file: string): void {
  const probe = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.probe`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    unlinkSync(probe);
  } catch (err) {
    throw new AuditConfigError('invalid pins options', [
      `the folder of pins file ${file} is not writable (${err instanceof Error ? err.message : String(err)}): new pins could not be kept, so a tool changed across a restart would be pinned afresh`,
    ]);
  }
}
