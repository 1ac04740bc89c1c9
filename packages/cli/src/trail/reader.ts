import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isTrailRecord, type TrailRecord } from './record.js';
import { TRAIL_FILE_PATTERN } from './writer.js';

/**
 * Reading a trail folder back. Never throws on file contents: a last line without its `\n`
 * (a write cut short by a crash or a full disk) and lines that are not records are reported
 * as problems, and every good line is still returned.
 */

export interface TrailEntry {
  /** Absolute path of the file. */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  /** The line exactly as stored, without its `\n`. */
  raw: string;
  record: TrailRecord;
}

export interface TrailProblem {
  file: string;
  line: number;
  /** `torn`: the file's last line has no `\n`. `malformed`: a complete line that is not a record. */
  kind: 'torn' | 'malformed';
  message: string;
}

export interface TrailFileContents {
  file: string;
  entries: TrailEntry[];
  problems: TrailProblem[];
}

export interface Trail {
  /** The trail files found, in order (see `listTrailFiles`). */
  files: string[];
  /** Every record, file by file, line by line. */
  records: TrailRecord[];
  /** The same records with where they were read from, and their exact bytes. */
  entries: TrailEntry[];
  problems: TrailProblem[];
}

/**
 * The trail files in `dir` (names `spans-<yyyymmdd>T<hhmmss>-<pid>-<n>.jsonl`), as absolute
 * paths, ordered by time stamp, then process id, then sequence number (numerically).
 * Other files are ignored. A missing folder is an empty trail.
 */
export async function listTrailFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const parsed = names.flatMap((name) => {
    const m = TRAIL_FILE_PATTERN.exec(name);
    return m ? [{ name, stamp: m[1]!, pid: Number(m[2]), n: Number(m[3]) }] : [];
  });
  parsed.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.pid - b.pid || a.n - b.n));
  const abs = path.resolve(dir);
  return parsed.map((p) => path.join(abs, p.name));
}

/** Every record of one trail file. */
export async function readTrailFile(file: string): Promise<TrailFileContents> {
  const abs = path.resolve(file);
  const text = await fsp.readFile(abs, 'utf8');
  return parseTrailText(abs, text);
}

/** Every record in a trail folder, with the problems found. */
export async function readTrail(dir: string): Promise<Trail> {
  const files = await listTrailFiles(dir);
  const entries: TrailEntry[] = [];
  const problems: TrailProblem[] = [];
  for (const file of files) {
    const contents = await readTrailFile(file);
    entries.push(...contents.entries);
    problems.push(...contents.problems);
  }
  return { files, records: entries.map((e) => e.record), entries, problems };
}

/** Parses a trail file's text; exported for readers that get the bytes some other way. */
export function parseTrailText(file: string, text: string): TrailFileContents {
  const entries: TrailEntry[] = [];
  const problems: TrailProblem[] = [];
  const lines = text.split('\n');
  // A file ending in '\n' splits into a last empty string; anything else there is a torn line.
  const tail = lines.pop()!;
  lines.forEach((raw, i) => {
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      problems.push({ file, line, kind: 'malformed', message: `not JSON: ${(err as Error).message}` });
      return;
    }
    if (!isTrailRecord(value)) {
      problems.push({ file, line, kind: 'malformed', message: 'JSON, but not a trail record' });
      return;
    }
    entries.push({ file, line, raw, record: value });
  });
  if (tail !== '') {
    problems.push({
      file,
      line: lines.length + 1,
      kind: 'torn',
      message: `last line is incomplete (${Buffer.byteLength(tail)} bytes without a line end): a write was cut short; it was never acknowledged`,
    });
  }
  return { file, entries, problems };
}
