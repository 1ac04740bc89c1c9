import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { listTrailFiles } from '../trail/reader.js';
import { isTrailRecord } from '../trail/record.js';
import { ProblemLog } from './problems.js';
import type { OpenedSource, OpenOptions } from './sources.js';
import type { VerifyEntry } from './verifier.js';

/**
 * The collector's folder, read a chunk at a time: memory holds one chunk and the line being
 * assembled, whatever the files' sizes. A line longer than MAX_LINE_BYTES is skipped and
 * reported (no span the collector accepts is that large).
 */

const CHUNK_BYTES = 1024 * 1024;
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

interface Line {
  line: number;
  text: string | undefined;
  size: number;
  complete: boolean;
}

async function* linesOf(file: string, onBytes: (n: number) => void): AsyncGenerator<Line> {
  const handle = await fsp.open(file, 'r');
  try {
    let parts: Buffer[] = [];
    let partSize = 0;
    let dropped = false;
    let line = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await handle.read(buf, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      onBytes(bytesRead);
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl === -1 || nl >= bytesRead) {
          const rest = buf.subarray(start, bytesRead);
          partSize += rest.length;
          if (partSize > MAX_LINE_BYTES) {
            dropped = true;
            parts = [];
          } else if (rest.length > 0) parts.push(Buffer.from(rest));
          break;
        }
        line++;
        const piece = buf.subarray(start, nl);
        const size = partSize + piece.length;
        const text = dropped || size > MAX_LINE_BYTES ? undefined : (partSize === 0 ? piece : Buffer.concat([...parts, piece], size)).toString('utf8');
        yield { line, text, size, complete: true };
        parts = [];
        partSize = 0;
        dropped = false;
        start = nl + 1;
      }
    }
    if (partSize > 0) yield { line: line + 1, text: undefined, size: partSize, complete: false };
  } finally {
    await handle.close();
  }
}

export function dirSource(dir: string, o: OpenOptions): OpenedSource {
  const problems = new ProblemLog();
  let files = 0;
  async function* entries(): AsyncGenerator<VerifyEntry> {
    let list: string[];
    try {
      list = await listTrailFiles(dir);
    } catch (err) {
      problems.add(`${dir}: ${(err as Error).message}`);
      return;
    }
    files = list.length;
    let bytes = 0;
    let lines = 0;
    for (const file of list) {
      const name = path.basename(file);
      try {
        for await (const l of linesOf(file, (n) => {
          bytes += n;
          o.onProgress?.(bytes, lines);
        })) {
          lines++;
          const where = `${name}:${l.line}`;
          if (!l.complete) {
            problems.add(`${where}: torn: last line is incomplete (${l.size} bytes without a line end): a write was cut short; it was never acknowledged`);
            continue;
          }
          if (l.text === undefined) {
            problems.add(`${where}: malformed: line of ${l.size} bytes, longer than ${MAX_LINE_BYTES}: not read`);
            continue;
          }
          let value: unknown;
          try {
            value = JSON.parse(l.text);
          } catch (err) {
            problems.add(`${where}: malformed: not JSON: ${(err as Error).message}`);
            continue;
          }
          if (!isTrailRecord(value)) {
            problems.add(`${where}: malformed: JSON, but not a trail record`);
            continue;
          }
          yield { span: value, where };
        }
      } catch (err) {
        problems.add(`${name}: ${(err as Error).message}`);
      }
    }
  }
  return {
    get description() {
      return `${files} file(s) in ${dir}`;
    },
    entries: entries(),
    problems: problems.list,
    problemCount: () => problems.count,
    seals: () => undefined,
  };
}
