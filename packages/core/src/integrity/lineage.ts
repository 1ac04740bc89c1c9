/**
 * The stream lineage (docs/integrity.md): one service's auditors sharing a spool folder write a
 * sequence of streams, and each new stream's start record names the stream the lineage file
 * named when it started. Deleting a whole stream (records, checkpoints and start) then leaves a
 * `prev_id` pointing at a stream that is not in the trail, which `tooltrail verify` reports.
 *
 * The file is `{"lineage","streamId","startedAt"}`, rewritten atomically (temp file + rename)
 * under a short lock file, so two auditors starting at once still form a chain, not a fork.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { AuditLogger } from '../contract/logger.js';
import { makeDirSync } from '../files/make-dir.js';
import type { StreamOrigin } from './chain.js';

export interface LineageFileContent {
  lineage: string;
  streamId: string;
  startedAt: string;
}

const LOCK_WAIT_MS = 2_000;
/** A lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 10_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function parse(text: string): LineageFileContent | undefined {
  const v = JSON.parse(text) as Partial<LineageFileContent> | null;
  if (typeof v !== 'object' || v === null) return undefined;
  if (typeof v.lineage !== 'string' || v.lineage === '' || typeof v.streamId !== 'string' || v.streamId === '' || typeof v.startedAt !== 'string') {
    return undefined;
  }
  return { lineage: v.lineage, streamId: v.streamId, startedAt: v.startedAt };
}

/** Reads the lineage file; undefined when there is none yet. Throws when it exists but is unusable. */
export function readLineageFile(file: string): LineageFileContent | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const content = parse(text);
  if (content === undefined) throw new Error('it does not hold {"lineage","streamId","startedAt"}');
  return content;
}

function writeAtomically(file: string, content: LineageFileContent): void {
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(content)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    // The rename is durable only once the folder is synced (not possible on every platform).
    const dirFd = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    /* Windows cannot open a folder for syncing */
  }
}

/** Takes `<file>.lock` (O_EXCL), waiting briefly; false when it could not be had. */
function lock(lockFile: string): boolean {
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lockFile, 'wx'));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    try {
      if (Date.now() - statSync(lockFile).mtimeMs > STALE_LOCK_MS) {
        unlinkSync(lockFile);
        continue;
      }
    } catch {
      continue; // released meanwhile
    }
    if (Date.now() >= until) return false;
    sleepSync(5);
  }
}

/**
 * Records `streamId` as the lineage's newest stream and returns where it comes from. Never
 * throws: a lineage file that cannot be read or written is warned about, and the stream then
 * starts a lineage of its own (a deleted earlier stream is then detectable only through the
 * collector's seals).
 */
export function advanceLineage(file: string | undefined, streamId: string, startedAt: string, logger: AuditLogger): StreamOrigin {
  if (file === undefined) return { lineage: randomUUID() };
  const lockFile = `${file}.lock`;
  let locked = false;
  let origin: StreamOrigin = { lineage: randomUUID() };
  try {
    makeDirSync(path.dirname(file));
    locked = lock(lockFile);
    if (!locked) logger.warn(`stream lineage file ${file} stayed locked by another process; going on without the lock`);
    let previous: LineageFileContent | undefined;
    try {
      previous = readLineageFile(file);
    } catch (err) {
      logger.warn(
        `stream lineage file ${file} is unusable (${(err as Error).message}); this stream starts a new lineage, ` +
          'so a stream deleted before it cannot be detected through the lineage',
      );
    }
    if (previous !== undefined) origin = { lineage: previous.lineage, prevId: previous.streamId, prevStartedAt: previous.startedAt };
    writeAtomically(file, { lineage: origin.lineage, streamId, startedAt });
    return origin;
  } catch (err) {
    logger.warn(
      `stream lineage file ${file} could not be written (${(err as Error).message}); the next stream cannot name this one, ` +
        'so its deletion is detectable only through the collector\'s seals',
    );
    return origin;
  } finally {
    if (locked) {
      try {
        unlinkSync(lockFile);
      } catch {
        /* already gone */
      }
    }
  }
}
