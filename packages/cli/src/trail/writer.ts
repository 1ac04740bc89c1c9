import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { trailFileName } from './trail-files.js';

/**
 * The append-only trail writer. Each `append` is one request's lines; it resolves only once
 * they are written and fsynced. Appends are written one after another, so lines of concurrent
 * requests never interleave; appends that queue up while an fsync is running are written
 * together and share the next fsync (group commit), which is what keeps fsync-per-request fast.
 */

export interface TrailWriterOptions {
  /** The folder; created if missing. */
  dir: string;
  /** Start a new file once the current one would pass this size. Default 64 MiB. */
  maxFileBytes?: number;
  /** Where file names take their time from; for tests. */
  now?: () => Date;
}

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

interface Pending {
  data: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

export { TRAIL_FILE_PATTERN, trailFileName } from './trail-files.js';

export class TrailWriter {
  readonly dir: string;
  private readonly maxFileBytes: number;
  private readonly now: () => Date;
  private queue: Pending[] = [];
  /** Set while drain() runs; cleared in the same tick its loop sees an empty queue. */
  private draining: Promise<void> | undefined;
  private file: { handle: fsp.FileHandle; path: string; size: number } | undefined;
  private fileCounter = 0;
  private closed = false;
  private readonly created: string[] = [];

  constructor(options: TrailWriterOptions) {
    this.dir = path.resolve(options.dir);
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.now = options.now ?? (() => new Date());
    if (!Number.isSafeInteger(this.maxFileBytes) || this.maxFileBytes <= 0) {
      throw new RangeError('maxFileBytes must be a positive integer');
    }
  }

  /** Creates the folder and checks it is writable, so a bad path fails at start, not at the first span. */
  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o750 });
    await fsp.access(this.dir, constants.W_OK);
  }

  /** Files this writer created, oldest first. */
  get files(): readonly string[] {
    return this.created;
  }

  /** Appends `\n`-terminated lines; resolves once they are on disk (fsynced). */
  append(lines: string | Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the trail writer is closed'));
    const data = typeof lines === 'string' ? Buffer.from(lines, 'utf8') : lines;
    if (data.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ data, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Waits for queued appends, then closes the file. Later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
    const file = this.file;
    this.file = undefined;
    await file?.handle.close();
  }

  private async drain(): Promise<void> {
    // No await between the loop's last check and clearing `draining`: an append arriving in
    // between would otherwise find a drain still marked as running and wait forever.
    for (;;) {
      if (this.queue.length === 0) {
        this.draining = undefined;
        return;
      }
      const batch = this.takeBatch();
      try {
        const file = await this.fileFor(batch.size);
        await writeAll(file.handle, batch.data);
        file.size += batch.size;
        await file.handle.sync();
        for (const p of batch.items) p.resolve();
      } catch (err) {
        // The file may now end in a partial line. Leave it as it is (readers report a torn
        // last line) and continue in a new file, so no later line is glued onto the fragment.
        await this.abandonFile();
        for (const p of batch.items) p.reject(err as Error);
      }
    }
  }

  /**
   * The appends written together: the first in the queue, plus those after it that still fit
   * in the current file. One append is never split across files, so a file can exceed the
   * limit by at most one request's lines.
   */
  private takeBatch(): { items: Pending[]; data: Buffer; size: number } {
    const first = this.queue[0]!;
    const used = this.file && this.file.size + first.data.length <= this.maxFileBytes ? this.file.size : 0;
    let size = first.data.length;
    let count = 1;
    while (count < this.queue.length && used + size + this.queue[count]!.data.length <= this.maxFileBytes) {
      size += this.queue[count]!.data.length;
      count++;
    }
    const items = this.queue.splice(0, count);
    const data = items.length === 1 ? first.data : Buffer.concat(items.map((p) => p.data), size);
    return { items, data, size };
  }

  private async fileFor(bytes: number) {
    if (this.file && this.file.size > 0 && this.file.size + bytes > this.maxFileBytes) {
      const old = this.file;
      this.file = undefined;
      await old.handle.close();
    }
    this.file ??= await this.openNewFile();
    return this.file;
  }

  private async openNewFile() {
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
      return { handle, path: file, size: 0 };
    }
  }

  private async abandonFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.handle.close().catch(() => undefined);
  }
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
