import fs from 'node:fs';
import path from 'node:path';

/** One segment file of the spool, and the small reads of segments and their .ack files. */

export interface SpoolEntryRef {
  readonly segment: Segment;
  /** Byte offset of the line in the segment. */
  readonly offset: number;
  /** Byte length of the line, newline included. */
  readonly length: number;
  /** Spans in the request. */
  readonly spans: number;
  /** Bytes before the request itself (the "<spanCount> " prefix). */
  readonly skip: number;
}

export class Segment {
  fd: number | undefined;
  /** Bytes that hold deliverable lines (the next append goes here, for our own segments). */
  size: number;
  /** Bytes acknowledged by the collector, from the start. */
  acked: number;
  /** Lost lines were found in it: it is kept in the quarantine rather than deleted. */
  damaged = false;
  /** Its folder was adopted by another process while we were alive: no more acks or deletes by path. */
  moved = false;
  constructor(
    public file: string,
    size: number,
    acked: number,
    /** Segments adopted from a gone process are read, never appended to. */
    readonly adopted: boolean,
    /** For adopted segments: the file size when it was scanned (a grown file is scanned again). */
    public scannedBytes = size,
  ) {
    this.size = size;
    this.acked = acked;
  }
  get ackFile(): string {
    return this.file.replace(/\.log$/, '.ack');
  }
}

export const SEGMENT_RE = /^seg-(\d{6})\.log$/;
export const ADOPTED_PREFIX = 'adopted-';
export const QUARANTINE_DIR = 'quarantine';

export class SpoolReadError extends Error {}

export function fileSize(seg: Segment): number {
  try {
    return seg.fd !== undefined ? fs.fstatSync(seg.fd).size : fs.statSync(seg.file).size;
  } catch {
    return 0;
  }
}

export function readAck(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch {
    return 0; // no ack yet
  }
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) ? n : undefined;
}

/** True when any segment below `dir` (at any depth) holds bytes beyond its acknowledgement. */
export function hasUndelivered(dir: string): boolean {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'; // unreadable: assume it holds something
  }
  for (const name of names) {
    const p = path.join(dir, name);
    if (SEGMENT_RE.test(name)) {
      let size: number;
      try {
        size = fs.statSync(p).size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        return true;
      }
      const ack = readAck(p.replace(/\.log$/, '.ack'));
      if (ack === undefined || size > ack) return true;
    } else if (name.startsWith(ADOPTED_PREFIX)) {
      if (hasUndelivered(p)) return true;
    }
  }
  return false;
}
