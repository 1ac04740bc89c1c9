import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Who owns a stream folder of the spool, and whether that owner is gone.
 *
 * A PID alone cannot say: in a fresh container the agent is PID 1 again, like its dead
 * predecessor, and a PID can be reused by an unrelated process. So the owner file records the
 * PID together with every identity this platform offers (host, boot id, PID namespace, the
 * process's start time), and the live owner keeps touching it (a heartbeat: its mtime). An
 * owner is judged gone when this host can prove it (same boot and PID namespace: no such
 * process, or another process under that PID), or when the heartbeat is older than the stale
 * period. docs/export.md, "Ownership and adoption", says what each platform supports.
 */

export const OWNER_FILE = 'owner.json';

export interface OwnerRecord {
  v?: number;
  pid?: unknown;
  host?: unknown;
  bootId?: unknown;
  pidNs?: unknown;
  procStart?: unknown;
  instance?: unknown;
  startedAt?: unknown;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Linux only: the kernel's id for this boot; elsewhere undefined. */
const BOOT_ID = readText('/proc/sys/kernel/random/boot_id');

function pidNamespace(): string | undefined {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}
const PID_NS = pidNamespace();

/**
 * A process's start time in clock ticks since boot (Linux /proc/<pid>/stat field 22), 'gone'
 * for no such process or a zombie, undefined where /proc cannot tell.
 */
export function processStart(pid: number): string | 'gone' | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync('/proc/self/stat')) return 'gone';
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return 'gone';
  return fields[19];
}

// Instances of live spools in this process (shared across copies of this module): a folder
// whose owner names our PID is ours only when its instance is listed here.
const KEY = Symbol.for('tooltrail.core.spool-instances.v1');
const g = globalThis as typeof globalThis & { [KEY]?: Set<string> };
const liveInstances: Set<string> = (g[KEY] ??= new Set());

export class SpoolOwner {
  readonly instance = randomUUID();
  private lastBeat = 0;

  constructor(private readonly dir: string) {}

  get file(): string {
    return path.join(this.dir, OWNER_FILE);
  }

  /** Writes the owner file (atomically: a half-written one would look unowned). */
  claim(): void {
    const record = {
      v: 2,
      pid: process.pid,
      host: os.hostname(),
      bootId: BOOT_ID,
      pidNs: PID_NS,
      procStart: processStart(process.pid),
      instance: this.instance,
      startedAt: new Date().toISOString(),
    };
    const tmp = `${this.file}.${this.instance.slice(0, 8)}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record));
    fs.renameSync(tmp, this.file);
    liveInstances.add(this.instance);
    this.lastBeat = Date.now();
  }

  /**
   * Refreshes the heartbeat (the owner file's mtime: needs no free space and cannot tear).
   * Returns false when the owner file is gone: another process adopted this folder.
   */
  beat(now = Date.now()): boolean {
    try {
      const t = new Date(now);
      fs.utimesSync(this.file, t, t);
      this.lastBeat = now;
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }

  /** Beats when the last beat is older than `everyMs` (cheap to call often). */
  beatIfDue(everyMs: number, now = Date.now()): boolean {
    return now - this.lastBeat < everyMs ? true : this.beat(now);
  }

  release(): void {
    liveInstances.delete(this.instance);
  }
}

export type OwnerVerdict = { gone: true; why: string } | { gone: false; why: string };

/**
 * Whether the owner of `dir` is gone. `staleMs`: a heartbeat older than this counts as a dead
 * owner whenever this host cannot prove the owner alive or dead by itself.
 */
export function judgeOwner(dir: string, staleMs: number, now = Date.now()): OwnerVerdict {
  const file = path.join(dir, OWNER_FILE);
  let mtime: number;
  try {
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    // No owner file: a folder whose process died creating it (a live owner writes its owner
    // file before any segment), or something that is not ours (the caller checks for segments).
    return { gone: true, why: 'no owner file' };
  }
  let owner: OwnerRecord = {};
  try {
    owner = JSON.parse(fs.readFileSync(file, 'utf8')) as OwnerRecord;
  } catch {
    /* unreadable: only the heartbeat can tell */
  }
  if (typeof owner.instance === 'string' && liveInstances.has(owner.instance)) return { gone: false, why: 'a live spool of this process' };
  const sameHost = owner.host === os.hostname();
  const pid = typeof owner.pid === 'number' ? owner.pid : undefined;
  if (sameHost && pid !== undefined && typeof owner.bootId === 'string' && owner.bootId === BOOT_ID && typeof owner.pidNs === 'string' && owner.pidNs === PID_NS) {
    // Same boot, same PID namespace: the PID means the same process here, so /proc is proof.
    if (pid === process.pid) return { gone: true, why: `PID ${pid} is this process now, and not that spool's owner` };
    const start = processStart(pid);
    if (start === 'gone') return { gone: true, why: `process ${pid} is gone` };
    if (start !== undefined && typeof owner.procStart === 'string') {
      return start === owner.procStart ? { gone: false, why: `process ${pid} is alive` } : { gone: true, why: `PID ${pid} now belongs to another process` };
    }
  }
  if (sameHost && typeof owner.bootId === 'string' && BOOT_ID !== undefined && owner.bootId !== BOOT_ID) {
    return { gone: true, why: 'written before this host last booted' };
  }
  if (sameHost && pid !== undefined && pid !== process.pid && owner.pidNs === undefined && PID_NS === undefined) {
    // No PID namespaces known on either side (macOS, Windows): the PID is ours to ask about.
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return { gone: true, why: `process ${pid} is gone` };
    }
  }
  if (owner.v === undefined && sameHost && pid !== undefined && pid !== process.pid) {
    // Written by an older tooltrail, which never refreshes a heartbeat: its PID is all there is.
    try {
      process.kill(pid, 0);
      return { gone: false, why: `process ${pid} is alive (an owner file without a heartbeat)` };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return { gone: true, why: `process ${pid} is gone` };
    }
  }
  const age = now - mtime;
  if (age > staleMs) return { gone: true, why: `its heartbeat stopped ${Math.round(age / 1000)} s ago` };
  return { gone: false, why: `heartbeat ${Math.round(age / 1000)} s old` };
}

/** When the folder's owner started (for delivering adopted folders oldest first). */
export function ownerStartedAt(dir: string): number {
  try {
    const owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    const t = typeof owner.startedAt === 'string' ? Date.parse(owner.startedAt) : NaN;
    if (Number.isFinite(t)) return t;
  } catch {
    /* fall back to the folder's own time */
  }
  try {
    return fs.statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}
