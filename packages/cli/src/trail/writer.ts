import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { GENESIS_HASH, sealMessage, type PrevLink, type SealReason } from './format-v2.js';
import { makeDirSync } from '@tooltrail/core/integrity';
import { listTrailFiles } from './reader.js';
import { CHAIN_OVERHEAD_BYTES, type PendingLine, type RequestLines } from './request-lines.js';
import { sealKeyId } from './seal-key.js';
import { LineBatch } from './line-batch.js';
import { lastCompleteLine } from './tail.js';
import { trailFileName } from './trail-files.js';

export { TRAIL_FILE_PATTERN, trailFileName } from './trail-files.js';

/**
 * The append-only trail writer, and the collector's own hash chain (docs/collector.md, "Line
 * format v2"). Each `append` is one request's lines; it resolves only once they are written
 * and fsynced. Appends are written one after another, so lines of concurrent requests never
 * interleave; appends that queue up while an fsync runs are written together and share the next
 * fsync (group commit). The writer numbers and chains every line as it writes it (only it knows
 * the order), and seals the chain every `sealEvery` lines, `sealIntervalMs` after the first
 * unsealed line, when a file is rotated and on close.
 */

export interface TrailWriterOptions {
  /** The folder; created if missing. */
  dir: string;
  /** Start a new file once the current one would pass this size. Default 64 MiB. */
  maxFileBytes?: number;
  /** Ed25519 private key that signs the seals; without it seals are unsigned (structure only). */
  sealKey?: KeyObject;
  /** Seal after this many lines. Default 1000. */
  sealEvery?: number;
  /** Seal this long after the first line not yet sealed. Default 5000 ms. */
  sealIntervalMs?: number;
  /** Where file names and time stamps take their time from; for tests. */
  now?: () => Date;
  /** The run's chain id (32 hex digits). Default: random. For test vectors. */
  chainId?: string;
  /** Problems the writer recovers from (a failed write, a seal it could not write). Default: ignored. */
  onError?: (message: string) => void;
}

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SEAL_EVERY = 1000;
export const DEFAULT_SEAL_INTERVAL_MS = 5000;

interface Pending {
  /** A request's lines, or a seal the timer asked for. */
  lines: PendingLine[] | 'seal';
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The chain's last line: what the next line's `p` is. */
interface Head {
  n: number;
  hash: string;
  /** File that holds it (absolute), and its index in this run (0: another run's file, or none). */
  file: string | undefined;
  index: number;
  /** Its chain id and `n` when it is another run's v2 line (the `prev` of the run's first file). */
  prevChain?: string;
  prevN?: number;
}

interface OpenFile {
  handle: fsp.FileHandle;
  path: string;
  size: number;
  index: number;
}

export interface TrailWriterStats {
  lines: number;
  seals: number;
  files: readonly string[];
}

export class TrailWriter {
  readonly dir: string;
  /** Random id of this run's chain (32 hex digits). */
  readonly chain: string;
  readonly keyId: string | undefined;
  private readonly maxFileBytes: number;
  private readonly sealKey: KeyObject | undefined;
  private readonly sealEvery: number;
  private readonly sealIntervalMs: number;
  private readonly now: () => Date;
  private readonly onError: (message: string) => void;
  private queue: Pending[] = [];
  /** Set while drain() runs; cleared in the same tick its loop sees an empty queue. */
  private draining: Promise<void> | undefined;
  private file: OpenFile | undefined;
  private fileCounter = 0;
  private closed = false;
  private readonly created: string[] = [];
  /** Head of the lines on disk (fsynced), and of the lines built so far. */
  private durable: Head = { n: 0, hash: GENESIS_HASH, file: undefined, index: 0 };
  private linesSinceSeal = 0;
  private sealTimer: NodeJS.Timeout | undefined;
  private lineCount = 0;
  private sealCount = 0;
  /** What the folder's newest file ended with at start, for the collector's start message. */
  predecessor: { file: string; closed: boolean } | undefined;

  constructor(options: TrailWriterOptions) {
    this.dir = path.resolve(options.dir);
    this.chain = options.chainId ?? randomBytes(16).toString('hex');
    if (!/^[0-9a-f]{32}$/.test(this.chain)) throw new RangeError('chainId must be 32 lowercase hex digits');
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.sealKey = options.sealKey;
    this.keyId = options.sealKey ? sealKeyId(options.sealKey) : undefined;
    this.sealEvery = options.sealEvery ?? DEFAULT_SEAL_EVERY;
    this.sealIntervalMs = options.sealIntervalMs ?? DEFAULT_SEAL_INTERVAL_MS;
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError ?? (() => undefined);
    if (!Number.isSafeInteger(this.maxFileBytes) || this.maxFileBytes <= 0) throw new RangeError('maxFileBytes must be a positive integer');
    if (!Number.isSafeInteger(this.sealEvery) || this.sealEvery <= 0) throw new RangeError('sealEvery must be a positive integer');
    if (!Number.isSafeInteger(this.sealIntervalMs) || this.sealIntervalMs <= 0) throw new RangeError('sealIntervalMs must be a positive integer');
    if (this.sealKey && (this.sealKey.type !== 'private' || this.sealKey.asymmetricKeyType !== 'ed25519')) {
      throw new TypeError('sealKey must be an Ed25519 private key');
    }
  }

  /**
   * Creates the folder, checks it is writable (so a bad path fails at start, not at the first
   * span), and finds the line this run continues: the last complete line of the newest file.
   */
  async init(): Promise<void> {
    makeDirSync(this.dir, 0o750);
    await fsp.access(this.dir, constants.W_OK);
    const files = await listTrailFiles(this.dir);
    for (let i = files.length - 1; i >= 0; i--) {
      const last = await lastCompleteLine(files[i]!);
      if (!last) continue;
      this.head = this.durable = { n: 0, hash: last.hash, file: files[i]!, index: 0, prevChain: last.chain, prevN: last.n };
      this.predecessor = { file: files[i]!, closed: last.why === 'close' && last.tornBytes === 0 };
      break;
    }
  }

  /** Files this writer created, oldest first. */
  get files(): readonly string[] {
    return this.created;
  }

  stats(): TrailWriterStats {
    return { lines: this.lineCount, seals: this.sealCount, files: [...this.created] };
  }

  /** Appends one request's lines; resolves once they are on disk (fsynced). */
  append(request: RequestLines): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the trail writer is closed'));
    if (request.lines.length === 0) return Promise.resolve();
    return this.enqueue(request.lines, request.bytes);
  }

  /** Waits for queued appends, then seals and closes the file. Later appends are refused. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearTimeout(this.sealTimer);
      this.sealTimer = undefined;
    }
    while (this.draining) await this.draining;
    const file = this.file;
    if (!file) return;
    try {
      const out = new LineBatch();
      this.sealLine(out, 'close');
      await this.writeLines(file, out);
      this.commitHead(file);
    } catch (err) {
      this.onError(`could not write the closing seal of ${file.path}: ${(err as Error).message}`);
    }
    this.file = undefined;
    await file.handle.close().catch(() => undefined);
  }

  private enqueue(lines: PendingLine[] | 'seal', bytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ lines, bytes, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Lines built but not yet fsynced extend this head; reset to `durable` when a write fails. */
  private head: Head = this.durable;

  private async drain(): Promise<void> {
    // No await between the loop's last check and clearing `draining`: an append arriving in
    // between would otherwise find a drain still marked as running and wait forever.
    for (;;) {
      if (this.queue.length === 0) {
        this.draining = undefined;
        return;
      }
      if (this.queue[0]!.lines === 'seal') {
        const p = this.queue.shift()!;
        await this.timedSeal();
        p.resolve();
        continue;
      }
      let batch: Pending[] = [];
      let file: OpenFile | undefined;
      try {
        file = await this.fileFor(this.queue[0]!.bytes);
        batch = this.takeBatch(file);
        let expected = 0;
        for (const p of batch) expected += p.bytes;
        const out = new LineBatch(expected + 1024);
        let count = 0;
        if (file.size === 0) {
          this.openLine(out, file);
          count++;
        }
        for (const p of batch) {
          for (const l of p.lines as PendingLine[]) this.chainLine(out, l.t, l.rest);
          count += (p.lines as PendingLine[]).length;
          // Copied into the write buffer: the writer no longer holds the request's own buffers.
          p.lines = [];
        }
        this.linesSinceSeal += count;
        if (this.linesSinceSeal >= this.sealEvery) this.sealLine(out, 'count');
        await this.writeLines(file, out);
        this.commitHead(file);
        for (const p of batch) p.resolve();
        this.armSealTimer();
      } catch (err) {
        // The file may now end in a partial line. Leave it as it is (readers report a torn last
        // line) and continue in a new file that links to what is really on disk.
        if (batch.length === 0) batch = this.queue.splice(0, 1);
        await this.abandonFile(err as Error);
        for (const p of batch) p.reject(err as Error);
      }
    }
  }

  /**
   * The appends written together: the first in the queue, plus those after it that still fit
   * in the current file. One append is never split across files, so a file can exceed the
   * limit by at most one request's lines.
   */
  private takeBatch(file: OpenFile): Pending[] {
    let size = file.size + this.queue[0]!.bytes;
    let count = 1;
    while (count < this.queue.length) {
      const next = this.queue[count]!;
      if (next.lines === 'seal' || size + next.bytes > this.maxFileBytes) break;
      size += next.bytes;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async fileFor(bytes: number): Promise<OpenFile> {
    if (this.file && this.file.size > 0 && this.file.size + bytes + CHAIN_OVERHEAD_BYTES > this.maxFileBytes) {
      const old = this.file;
      const out = new LineBatch();
      this.sealLine(out, 'rotate');
      await this.writeLines(old, out);
      this.commitHead(old);
      this.file = undefined;
      await old.handle.close();
    }
    this.file ??= await this.openNewFile();
    return this.file;
  }

  private async openNewFile(): Promise<OpenFile> {
    for (;;) {
      const name = trailFileName(this.now(), process.pid, ++this.fileCounter);
      const file = path.join(this.dir, name);
      let handle: fsp.FileHandle;
      try {
        // 'ax': append-only, and never an existing file, so each file has exactly one writer.
        handle = await fsp.open(file, 'ax', 0o640);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      await syncDir(this.dir);
      this.created.push(file);
      return { handle, path: file, size: 0, index: this.head.index + 1 };
    }
  }

  /** Numbers and chains one line, copying its bytes into `out` (which hashes them in place). */
  private chainLine(out: LineBatch, t: PendingLine['t'] | 'open' | 'seal', rest: Buffer | Record<string, unknown>): void {
    const n = this.head.n + 1;
    const body = Buffer.isBuffer(rest) ? rest : Buffer.from(JSON.stringify(rest), 'utf8');
    const hash = out.line(`{"v":2,"t":"${t}","n":${n},"p":"${this.head.hash}"`, body);
    this.head = { n, hash, file: this.head.file, index: this.head.index };
  }

  private openLine(out: LineBatch, file: OpenFile): void {
    const from = this.head;
    const prev: PrevLink | undefined = from.file
      ? { file: path.basename(from.file), ...(from.index === 0 ? opt(from.prevN, from.prevChain) : { n: from.n, chain: this.chain }) }
      : undefined;
    this.chainLine(out, 'open', {
      chain: this.chain,
      file: file.index,
      at: this.now().toISOString(),
      ...(this.keyId === undefined ? {} : { key: this.keyId }),
      ...(prev === undefined ? {} : { prev }),
    });
    this.head = { ...this.head, file: file.path, index: file.index };
  }

  private sealLine(out: LineBatch, why: SealReason): void {
    const n = this.head.n + 1;
    const p = this.head.hash;
    const at = this.now().toISOString();
    const fields: Record<string, unknown> = { chain: this.chain, why, at };
    if (this.sealKey && this.keyId) {
      fields.key = this.keyId;
      fields.sig = sign(null, sealMessage({ chain: this.chain, n, p, why, at }), this.sealKey).toString('base64');
    }
    this.linesSinceSeal = 0;
    this.sealCount++;
    this.chainLine(out, 'seal', fields);
  }

  /** Writes the batch's bytes, then fsyncs. */
  private async writeLines(file: OpenFile, out: LineBatch): Promise<void> {
    for (const chunk of out.chunks()) {
      await writeAll(file.handle, chunk);
      file.size += chunk.length;
    }
    await file.handle.sync();
    this.lineCount += out.lines;
  }

  private commitHead(file: OpenFile): void {
    this.head = { ...this.head, file: file.path, index: file.index };
    this.durable = this.head;
  }

  private armSealTimer(): void {
    if (this.linesSinceSeal === 0 || this.sealTimer || this.closed) return;
    this.sealTimer = setTimeout(() => {
      this.sealTimer = undefined;
      if (!this.closed && this.linesSinceSeal > 0) void this.enqueue('seal', 0);
    }, this.sealIntervalMs);
    this.sealTimer.unref();
  }

  private async timedSeal(): Promise<void> {
    const file = this.file;
    if (!file || this.linesSinceSeal === 0) return;
    try {
      const out = new LineBatch();
      this.sealLine(out, 'time');
      await this.writeLines(file, out);
      this.commitHead(file);
    } catch (err) {
      await this.abandonFile(err as Error);
    }
  }

  /**
   * After a failed write: close the file, find what of it is really on disk, and continue the
   * chain from there (or from the last durable line when none of the failed lines made it).
   * A file left without a single complete line is removed: it holds nothing acknowledged.
   */
  private async abandonFile(err: Error): Promise<void> {
    const file = this.file;
    this.file = undefined;
    this.head = this.durable;
    if (!file) return;
    this.onError(`writing ${file.path} failed (${err.message}); continuing in a new file`);
    await file.handle.close().catch(() => undefined);
    try {
      const last = await lastCompleteLine(file.path);
      if (last?.n !== undefined && last.n > this.durable.n) {
        // Lines of the failed batch that did reach the disk: the chain goes on after them.
        this.head = this.durable = { n: last.n, hash: last.hash, file: file.path, index: file.index };
      } else if (!last) {
        await fsp.unlink(file.path);
        this.created.splice(this.created.indexOf(file.path), 1);
      }
    } catch (tailErr) {
      this.onError(`could not read back ${file.path} (${(tailErr as Error).message}); the next file's link to it may not verify`);
    }
    this.linesSinceSeal = 0;
  }
}

function opt(n: number | undefined, chain: string | undefined): { n?: number; chain?: string } {
  return { ...(n === undefined ? {} : { n }), ...(chain === undefined ? {} : { chain }) };
}

async function writeAll(handle: fsp.FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

/** Makes a new file's directory entry durable. Not possible on every platform (Windows): best effort. */
async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Nothing to do: the file's own fsync still covers its contents.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
