import fs from 'node:fs';
import path from 'node:path';
import { makeDirSync } from '../files/make-dir.js';

/**
 * Records the collector refuses one by one (a single-record request answered 400, 413, or
 * rejected in an OTLP partialSuccess) are kept here, never deleted: one JSON line each,
 *   {"at","status","reason","spans","stream","request"}
 * where `request` is the complete OTLP/JSON export request, ready to POST again once the
 * collector is fixed (docs/export.md, "The quarantine"). The file is appended to by every
 * process of the service, so it lives in the namespace folder, not in a stream folder.
 */
const CLOSE = Buffer.from('}\n');

export class Quarantine {
  constructor(readonly dir: string) {}

  get file(): string {
    return path.join(this.dir, 'rejected.jsonl');
  }

  /** Appends and fsyncs one record. Throws on I/O errors: the caller then keeps the record queued. */
  add(request: Buffer, spans: number, status: number, reason: string, stream: string): void {
    makeDirSync(this.dir);
    const head = JSON.stringify({ at: new Date().toISOString(), status, reason: reason.slice(0, 500), spans, stream });
    const line = Buffer.concat([Buffer.from(`${head.slice(0, -1)},"request":`, 'utf8'), request, CLOSE]);
    // One write of the whole line with O_APPEND: lines of processes sharing the file do not interleave.
    const fd = fs.openSync(this.file, 'a');
    try {
      let written = 0;
      while (written < line.length) written += fs.writeSync(fd, line, written, line.length - written);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Whether earlier processes left anything here (reported once at start). */
  holdsEarlierRecords(): boolean {
    try {
      return fs.readdirSync(this.dir).length > 0;
    } catch {
      return false;
    }
  }
}
