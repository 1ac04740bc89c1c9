import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The append-only spool: a write-ahead log of export requests on disk.
 *
 * Layout (documented in docs/export.md):
 *   <spoolDir>/<streamDirName>/owner.json        {"pid", "host", "startedAt"}: who writes here
 *   <spoolDir>/<streamDirName>/seg-000001.log    lines "<spanCount> <OTLP/JSON request>\n"
 *   <spoolDir>/<streamDirName>/seg-000001.ack    decimal byte offset acknowledged so far
 *
 * Segments are only appended to. A segment is deleted once every line in it was acknowledged
 * by the collector; until then the .ack file says how far delivery got, so a restarted process
 * resends at most the requests whose acknowledgement it had not yet written down (at-least-once).
 */

export interface SpoolEntryRef {
  readonly segment: Segment;
  /** Byte offset of the line in the segment. */
  readonly offset: number;
  /** Byte length of the line, newline included. */
  readonly length: number;
  /** Spans in the request. */
  readonly spans: number;
}

export class Segment {
  fd: number | undefined;
  /** Bytes written (the next append goes here). */
  size: number;
  /** Bytes acknowledged by the collector, from the start. */
  acked: number;
  constructor(
    readonly file: string,
    size: number,
    acked: number,
    /** Segments adopted from a dead process are read, never appended to. */
    readonly adopted: boolean,
  ) {
    this.size = size;
    this.acked = acked;
  }
  get ackFile(): string {
    return this.file.replace(/\.log$/, '.ack');
  }
}

export interface RecoveredSegment {
  segment: Segment;
  entries: SpoolEntryRef[];
  /** Bytes at the end that did not form a whole line (a write cut by a crash). */
  tornBytes: number;
}

const SEGMENT_RE = /^seg-(\d{6})\.log$/;

export class Spool {
  readonly dir: string;
  private active: Segment | undefined;
  private nextIndex = 1;

  constructor(
    readonly root: string,
    streamDirName: string,
    private readonly segmentBytes: number,
  ) {
    this.dir = path.join(root, streamDirName);
  }

  /** Creates the stream folder and claims it. Throws when the spool cannot be written. */
  open(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    fs.writeFileSync(
      path.join(this.dir, 'owner.json'),
      JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() }),
    );
  }

  /** Appends one line; returns where it went. Throws on I/O errors (full disk, permissions). */
  append(line: string, spans: number): SpoolEntryRef {
    let seg = this.active;
    if (seg === undefined || seg.size >= this.segmentBytes) seg = this.rotate();
    const buf = Buffer.from(line, 'utf8');
    let written = 0;
    while (written < buf.length) {
      written += fs.writeSync(seg.fd as number, buf, written, buf.length - written, seg.size + written);
    }
    const ref: SpoolEntryRef = { segment: seg, offset: seg.size, length: buf.length, spans };
    seg.size += buf.length;
    return ref;
  }

  /** Makes everything appended so far durable. */
  sync(): void {
    if (this.active?.fd !== undefined) fs.fdatasyncSync(this.active.fd);
  }

  private rotate(): Segment {
    if (this.active?.fd !== undefined) {
      fs.closeSync(this.active.fd);
      this.active.fd = undefined;
    }
    const file = path.join(this.dir, `seg-${String(this.nextIndex++).padStart(6, '0')}.log`);
    const seg = new Segment(file, 0, 0, false);
    seg.fd = fs.openSync(file, 'a+'); // read back too, when the memory cache has let the body go
    this.active = seg;
    return seg;
  }

  /** Reads one line back (without its newline, without the span-count prefix). */
  read(ref: SpoolEntryRef): string {
    const buf = Buffer.allocUnsafe(ref.length);
    const fd = ref.segment.fd ?? fs.openSync(ref.segment.file, 'r');
    try {
      let got = 0;
      while (got < ref.length) {
        const n = fs.readSync(fd, buf, got, ref.length - got, ref.offset + got);
        if (n === 0) throw new Error(`spool segment ${ref.segment.file} is shorter than expected`);
        got += n;
      }
    } finally {
      if (ref.segment.fd === undefined) fs.closeSync(fd);
    }
    const text = buf.toString('utf8', 0, ref.length - 1);
    return text.slice(text.indexOf(' ') + 1);
  }

  /** Records delivery up to the end of `ref`; deletes the segment when it is done with. */
  ack(ref: SpoolEntryRef): void {
    const seg = ref.segment;
    seg.acked = Math.max(seg.acked, ref.offset + ref.length);
    const finished = seg.acked >= seg.size && (seg.adopted || seg !== this.active);
    if (finished) {
      this.remove(seg);
      return;
    }
    if (seg === this.active && seg.acked >= seg.size && seg.size >= this.segmentBytes) {
      // A full, fully delivered active segment: start a new one so this can go.
      this.rotate();
      this.remove(seg);
      return;
    }
    try {
      fs.writeFileSync(seg.ackFile, String(seg.acked));
    } catch {
      // Losing the ack marker only means a resend after a restart (at-least-once).
    }
  }

  private remove(seg: Segment): void {
    if (seg.fd !== undefined) {
      fs.closeSync(seg.fd);
      seg.fd = undefined;
    }
    fs.rmSync(seg.file, { force: true });
    fs.rmSync(seg.ackFile, { force: true });
  }

  close(): void {
    if (this.active?.fd !== undefined) {
      try {
        fs.closeSync(this.active.fd);
      } catch {
        /* already closed */
      }
      this.active.fd = undefined;
    }
  }

  /** Deletes the stream folder (and the namespace folder, when it empties) if nothing is left to deliver. */
  removeIfEmpty(): void {
    try {
      const left = fs.readdirSync(this.dir).filter((f) => SEGMENT_RE.test(f));
      const pending = left.some((f) => {
        const file = path.join(this.dir, f);
        const size = fs.statSync(file).size;
        return size > readAck(file.replace(/\.log$/, '.ack'));
      });
      if (!pending) {
        fs.rmSync(this.dir, { recursive: true, force: true });
        if (fs.readdirSync(this.root).length === 0) fs.rmdirSync(this.root);
      }
    } catch {
      /* best effort */
    }
  }

  /**
   * Takes over stream folders left by processes that are gone (crashed, killed), moving each
   * into this stream's folder (an atomic rename, so two live processes never adopt the same
   * one), and returns their undelivered lines, oldest first.
   */
  adoptOrphans(): RecoveredSegment[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    const out: RecoveredSegment[] = [];
    const orphans = names
      .map((name) => path.join(this.root, name))
      .filter((dir) => dir !== this.dir && isOrphan(dir))
      .sort((a, b) => mtime(a) - mtime(b));
    for (const dir of orphans) {
      const target = path.join(this.dir, `adopted-${path.basename(dir)}`);
      try {
        fs.renameSync(dir, target);
      } catch {
        continue; // another process took it first
      }
      for (const file of fs.readdirSync(target).filter((f) => SEGMENT_RE.test(f)).sort()) {
        out.push(recoverSegment(path.join(target, file)));
      }
    }
    return out;
  }

  /** Removes adopted folders whose segments are all delivered. */
  cleanAdopted(): void {
    try {
      for (const name of fs.readdirSync(this.dir)) {
        if (!name.startsWith('adopted-')) continue;
        const dir = path.join(this.dir, name);
        if (!fs.readdirSync(dir).some((f) => SEGMENT_RE.test(f))) fs.rmSync(dir, { recursive: true, force: true });
      }
    } catch {
      /* best effort */
    }
  }
}

function readAck(file: string): number {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

function mtime(dir: string): number {
  try {
    return fs.statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}

function isOrphan(dir: string): boolean {
  let owner: { pid?: unknown; host?: unknown };
  try {
    if (!fs.statSync(dir).isDirectory()) return false;
    owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8')) as { pid?: unknown; host?: unknown };
  } catch {
    // No readable owner: a folder from a process that died while creating it, or not ours.
    try {
      return fs.readdirSync(dir).some((f) => SEGMENT_RE.test(f));
    } catch {
      return false;
    }
  }
  if (owner.host !== os.hostname()) return false; // a shared folder: only judge our own host's processes
  if (typeof owner.pid !== 'number') return true;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false; // alive
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function recoverSegment(file: string): RecoveredSegment {
  const data = fs.readFileSync(file);
  const acked = Math.min(readAck(file.replace(/\.log$/, '.ack')), data.length);
  const segment = new Segment(file, data.length, acked, true);
  const entries: SpoolEntryRef[] = [];
  let offset = acked;
  while (offset < data.length) {
    const nl = data.indexOf(10, offset);
    if (nl === -1) break;
    const space = data.indexOf(32, offset);
    const spans = space > offset && space < nl ? Number(data.toString('latin1', offset, space)) : NaN;
    if (Number.isFinite(spans)) entries.push({ segment, offset, length: nl + 1 - offset, spans });
    offset = nl + 1;
  }
  const tornBytes = data.length - offset;
  // What follows the last whole line can never be delivered: mark it as handled.
  segment.size = offset;
  return { segment, entries, tornBytes };
}
