import fs from 'node:fs';
import path from 'node:path';
import { SpoolOwner } from './spool-owner.js';
import { makeDirSync } from '../files/make-dir.js';
import { ADOPTED_PREFIX, fileSize, hasUndelivered, QUARANTINE_DIR, readAck, Segment, SEGMENT_RE, SpoolReadError, type SpoolEntryRef } from './spool-segment.js';
export { ADOPTED_PREFIX, hasUndelivered, QUARANTINE_DIR, readAck, Segment, SEGMENT_RE, SpoolReadError, type SpoolEntryRef };

/**
 * The append-only spool: a write-ahead log of export requests on disk.
 *
 * Layout (documented in docs/export.md):
 *   <namespaceDir>/<stream>/owner.json        who writes here (spool-owner.ts); its mtime is the heartbeat
 *   <namespaceDir>/<stream>/seg-000001.log    lines "<spanCount> <OTLP/JSON request>\n"
 *   <namespaceDir>/<stream>/seg-000001.ack    decimal byte offset acknowledged so far
 *   <namespaceDir>/<stream>/adopted-<stream>/ a gone process's folder, being delivered
 *   <namespaceDir>/quarantine/                records the collector refused, damaged segments
 *
 * Segments are only appended to. A segment is deleted once every line in it was acknowledged
 * by the collector; until then the .ack file says how far delivery got, so a restarted process
 * resends at most the requests whose acknowledgement it had not yet written down (at-least-once).
 */

const NEWLINE = Buffer.from('\n');

export type AckResult = 'partial' | 'finished' | 'grown';

export class Spool {
  readonly dir: string;
  readonly owner: SpoolOwner;
  private active: Segment | undefined;
  private nextIndex = 1;
  /** Segments appended to since the last sync(), and whether a new file's name needs syncing. */
  private readonly unsynced = new Set<Segment>();
  private dirUnsynced = false;

  constructor(
    /** The service's namespace folder (spoolLocation().namespaceDir). */
    readonly root: string,
    readonly streamName: string,
    private readonly segmentBytes: number,
  ) {
    this.dir = path.join(root, streamName);
    this.owner = new SpoolOwner(this.dir);
  }

  get quarantineDir(): string {
    return path.join(this.root, QUARANTINE_DIR);
  }

  /**
   * Creates the stream folder and claims it. Throws when the spool cannot be written. Called
   * again after a failure (full disk, permissions, the folder taken away): it is idempotent.
   */
  open(): void {
    makeDirSync(this.dir);
    this.owner.claim();
  }

  /**
   * Appends one line, "<spans> <request>\n", with one write (the request's bytes are not copied);
   * returns where it went. Throws on I/O errors (full disk, permissions).
   */
  append(request: Buffer, spans: number): SpoolEntryRef {
    let seg = this.active;
    if (seg === undefined || seg.size >= this.segmentBytes) seg = this.rotate();
    const prefix = Buffer.from(`${spans} `, 'latin1');
    const length = prefix.length + request.length + 1;
    const fd = seg.fd as number;
    let written = 0;
    try {
      written = fs.writevSync(fd, [prefix, request, NEWLINE], seg.size);
      if (written < length) {
        // A short write (rare: a signal, a nearly full disk): the rest from where it stopped.
        const rest = Buffer.concat([prefix, request, NEWLINE], length).subarray(written);
        for (let at = 0; at < rest.length; ) {
          const n = fs.writeSync(fd, rest, at, rest.length - at, seg.size + written);
          at += n;
          written += n;
        }
      }
    } catch (err) {
      // A partial line would be read back as garbage (and the next line written after it):
      // cut the file back to its last whole line, or give this segment up.
      try {
        if (written > 0) fs.ftruncateSync(fd, seg.size);
      } catch {
        this.active = undefined;
      }
      throw err;
    }
    const ref: SpoolEntryRef = { segment: seg, offset: seg.size, length, spans, skip: prefix.length };
    seg.size += length;
    this.unsynced.add(seg);
    return ref;
  }

  /** Makes everything appended so far durable (each segment written to, and new files' names). */
  sync(): void {
    for (const seg of this.unsynced) {
      if (seg.fd !== undefined) fs.fdatasyncSync(seg.fd);
      this.unsynced.delete(seg);
    }
    if (this.dirUnsynced) {
      this.dirUnsynced = false;
      try {
        const fd = fs.openSync(this.dir, 'r');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        // Folders cannot be fsynced on every platform (Windows); the file's own data is synced.
      }
    }
  }

  private rotate(): Segment {
    let fd: number | undefined;
    let file = '';
    for (let tries = 0; fd === undefined; tries++) {
      file = path.join(this.dir, `seg-${String(this.nextIndex).padStart(6, '0')}.log`);
      try {
        // Not O_APPEND: writes go at explicit offsets, so a failed write can be cut back.
        fd = fs.openSync(file, 'wx+');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' && tries < 1000) this.nextIndex++;
        else if (code === 'ENOENT' && tries < 1000) this.open(); // the folder is gone: make it again
        else throw err;
      }
    }
    this.nextIndex++;
    this.dirUnsynced = true;
    const previous = this.active;
    const seg = new Segment(file, 0, 0, false);
    seg.fd = fd;
    this.active = seg;
    // A full segment already delivered can go now.
    if (previous !== undefined && previous.acked >= previous.size) this.retire(previous);
    return seg;
  }

  /** Reads one request back (the line without its newline and span-count prefix). */
  read(ref: SpoolEntryRef): Buffer {
    const seg = ref.segment;
    seg.fd ??= fs.openSync(seg.file, 'r');
    const buf = Buffer.allocUnsafe(ref.length);
    let got = 0;
    while (got < ref.length) {
      const n = fs.readSync(seg.fd, buf, got, ref.length - got, ref.offset + got);
      if (n === 0) throw new SpoolReadError(`spool segment ${seg.file} is shorter than expected (${ref.offset + got} of ${ref.offset + ref.length} bytes)`);
      got += n;
    }
    if (buf[ref.length - 1] !== 10 || buf[ref.skip] !== 123) throw new SpoolReadError(`spool segment ${seg.file} changed under us at byte ${ref.offset}`);
    return buf.subarray(ref.skip, ref.length - 1);
  }

  /** Records delivery up to the end of `ref`; retires the segment when it is done with. */
  ack(ref: SpoolEntryRef): AckResult {
    const seg = ref.segment;
    seg.acked = Math.max(seg.acked, ref.offset + ref.length);
    if (seg.acked >= seg.size) {
      if (seg.adopted) {
        if (fileSize(seg) > seg.scannedBytes) return 'grown';
        this.retire(seg);
        return 'finished';
      }
      if (seg !== this.active) {
        this.retire(seg);
        return 'finished';
      }
    }
    if (!seg.moved) {
      try {
        fs.writeFileSync(seg.ackFile, String(seg.acked));
      } catch {
        // Losing the ack marker only means a resend after a restart (at-least-once).
      }
    }
    return 'partial';
  }

  /** Deletes a delivered segment, or keeps a damaged one in the quarantine folder. */
  retire(seg: Segment): void {
    if (seg.fd !== undefined) {
      try {
        fs.closeSync(seg.fd);
      } catch {
        /* already closed */
      }
      seg.fd = undefined;
    }
    if (seg === this.active) this.active = undefined;
    this.unsynced.delete(seg);
    if (seg.moved) return;
    if (seg.damaged) {
      try {
        makeDirSync(this.quarantineDir);
        const rel = path.relative(this.root, seg.file).split(path.sep).join('_');
        fs.renameSync(seg.file, path.join(this.quarantineDir, `damaged-${Date.now()}-${rel}`));
        fs.rmSync(seg.ackFile, { force: true });
        return;
      } catch {
        return; // kept where it is: a later start reports it again rather than lose the evidence
      }
    }
    fs.rmSync(seg.file, { force: true });
    fs.rmSync(seg.ackFile, { force: true });
  }

  /**
   * Our folder was adopted by another process (our heartbeat looked stale to it): the segments
   * we hold open now live in its folder and it delivers them too. Stop writing into them and
   * start the folder afresh for what comes next.
   */
  rehome(segments: Iterable<Segment>): void {
    for (const seg of segments) if (!seg.adopted) seg.moved = true;
    this.active = undefined;
    this.open();
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
    this.active = undefined;
    this.owner.release();
  }

  /**
   * Deletes the stream folder (and the namespace folder, when it empties) if nothing below it
   * is left to deliver. Never the lineage file beside the namespace folder.
   */
  removeIfEmpty(): void {
    try {
      if (hasUndelivered(this.dir)) return;
      fs.rmSync(this.dir, { recursive: true, force: true });
      if (fs.readdirSync(this.root).length === 0) fs.rmdirSync(this.root);
    } catch {
      /* best effort */
    }
  }

  /** Removes adopted folders (at any depth) that hold nothing undelivered any more. */
  cleanAdopted(): void {
    try {
      for (const name of fs.readdirSync(this.dir)) {
        if (!name.startsWith(ADOPTED_PREFIX)) continue;
        const dir = path.join(this.dir, name);
        if (!hasUndelivered(dir)) fs.rmSync(dir, { recursive: true, force: true });
      }
    } catch {
      /* best effort */
    }
  }
}
