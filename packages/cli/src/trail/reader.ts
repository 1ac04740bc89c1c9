import type { KeyObject } from 'node:crypto';
import { promises as fsp, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readLines } from './line-stream.js';
import { LineDecoder, type DecodedLine } from './line-decoder.js';
import type { TrailRecord } from './record.js';
import { ChainChecker, type SealReport } from './seal-check.js';
import { TRAIL_FILE_PATTERN } from './trail-files.js';

export type { SealFinding, SealFindingKind, SealReport } from './seal-check.js';

/**
 * Reading a trail folder back, v1 and v2 lines alike (docs/collector.md). Never throws on file
 * contents: a last line without its `\n` (a write cut short by a crash or a full disk) and lines
 * that are not records are reported as problems, and every good line is still returned.
 * `openTrail` streams and checks the collector's chain and seals; `readTrail` collects it all
 * in memory for small trails and existing callers.
 */

export interface TrailEntry {
  /** Absolute path of the file. */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  /** The line exactly as stored, without its `\n` (for a v2 span, its v2 line). */
  raw: string;
  /** The span in the v1 shape, its resource and `receivedAt` flattened back in. */
  record: TrailRecord;
  /** The writer the collector authenticated the request as (v2 lines from a collector with --tokens). */
  writer?: string;
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

export interface OpenTrailOptions {
  /** Public (or private) Ed25519 keys of the collectors whose seals are trusted. */
  sealKeys?: KeyObject[];
  /** Called as files are read: bytes and lines read so far, over all files. */
  onProgress?: (bytes: number, lines: number) => void;
}

export interface TrailStream extends AsyncIterable<TrailEntry> {
  /** Valid once iteration ended: torn/malformed lines (counted; the first 100 kept). */
  readonly problems: TrailProblem[];
  readonly problemCount: number;
  /** Valid once iteration ended (read while iterating, it is the report so far). */
  readonly seals: SealReport;
  /** The files read, in order; valid once iteration started. */
  readonly files: readonly string[];
}

const KEPT_PROBLEMS = 100;

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
  return orderTrailFiles(dir, names);
}

function listTrailFilesSync(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return orderTrailFiles(dir, names);
}

function orderTrailFiles(dir: string, names: string[]): string[] {
  const parsed = names.flatMap((name) => {
    const m = TRAIL_FILE_PATTERN.exec(name);
    return m ? [{ name, stamp: m[1]!, pid: Number(m[2]), n: Number(m[3]) }] : [];
  });
  parsed.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.pid - b.pid || a.n - b.n));
  const abs = path.resolve(dir);
  return parsed.map((p) => path.join(abs, p.name));
}

/**
 * Streams a trail folder: one entry per span, file by file, line by line, in bounded memory
 * (a chunk, the longest line, one request's resources, a few fields per file), checking the
 * collector's chain and seals on the way. Iterate it once; then read `problems` and `seals`.
 */
export function openTrail(dir: string, options: OpenTrailOptions = {}): TrailStream {
  const problems: TrailProblem[] = [];
  let problemCount = 0;
  let files: string[] = [];
  const checker = new ChainChecker(options.sealKeys);
  let started = false;
  const problem = (p: TrailProblem) => {
    problemCount++;
    if (problems.length < KEPT_PROBLEMS) problems.push(p);
  };

  async function* entries(): AsyncGenerator<TrailEntry> {
    files = await listTrailFiles(dir);
    const decoder = new LineDecoder();
    let bytesBefore = 0;
    let lines = 0;
    for (const file of files) {
      decoder.reset();
      checker.beginFile(file);
      let torn = false;
      let fileBytes = 0;
      const onChunk = (b: number) => {
        fileBytes = b;
        options.onProgress?.(bytesBefore + b, lines);
      };
      for await (const l of readLines(file, { onChunk })) {
        lines++;
        if (!l.complete) {
          torn = true;
          problem(tornProblem(file, l.line, l.size));
          continue;
        }
        if (l.bytes === undefined) {
          problem({ file, line: l.line, kind: 'malformed', message: `a line of ${l.size} bytes, longer than a reader keeps in memory` });
          checker.line(l.line, l.hash, { kind: 'other' });
          continue;
        }
        const raw = l.bytes.toString('utf8');
        const d = decoder.decode(raw);
        checker.line(l.line, l.hash, checked(d));
        if (d.kind === 'malformed') problem({ file, line: l.line, kind: 'malformed', message: d.message });
        else if (d.kind === 'record') yield entry(file, l.line, raw, d);
      }
      checker.endFile(torn);
      bytesBefore += fileBytes;
    }
    checker.finish();
  }

  return {
    get problems() {
      return problems;
    },
    get problemCount() {
      return problemCount;
    },
    get seals() {
      return checker.report;
    },
    get files() {
      return files;
    },
    [Symbol.asyncIterator]() {
      if (started) throw new Error('a TrailStream can be iterated once; call openTrail again');
      started = true;
      return entries();
    },
  };
}

function checked(d: DecodedLine) {
  if (d.v2) return { kind: 'v2', line: d.v2 } as const;
  return d.kind === 'record' ? ({ kind: 'v1' } as const) : ({ kind: 'other' } as const);
}

function entry(file: string, line: number, raw: string, d: Extract<DecodedLine, { kind: 'record' }>): TrailEntry {
  return d.writer === undefined ? { file, line, raw, record: d.record } : { file, line, raw, record: d.record, writer: d.writer };
}

function tornProblem(file: string, line: number, bytes: number): TrailProblem {
  return {
    file,
    line,
    kind: 'torn',
    message: `last line is incomplete (${bytes} bytes without a line end): a write was cut short; it was never acknowledged`,
  };
}

/** Every record of one trail file (in memory). */
export async function readTrailFile(file: string): Promise<TrailFileContents> {
  const abs = path.resolve(file);
  const text = await fsp.readFile(abs, 'utf8');
  return parseTrailText(abs, text);
}

/** Every record in a trail folder, with the problems found, in memory: for small trails. */
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

/** `readTrail` without a promise, for test harnesses and small scripts. */
export function readTrailSync(dir: string): Trail {
  const files = listTrailFilesSync(dir);
  const entries: TrailEntry[] = [];
  const problems: TrailProblem[] = [];
  for (const file of files) {
    const contents = parseTrailText(file, readFileSync(file, 'utf8'));
    entries.push(...contents.entries);
    problems.push(...contents.problems);
  }
  return { files, records: entries.map((e) => e.record), entries, problems };
}

/** Parses a trail file's text (v1 and v2 lines); exported for readers that get the bytes some other way. */
export function parseTrailText(file: string, text: string): TrailFileContents {
  const entries: TrailEntry[] = [];
  const problems: TrailProblem[] = [];
  const decoder = new LineDecoder();
  const lines = text.split('\n');
  // A file ending in '\n' splits into a last empty string; anything else there is a torn line.
  const tail = lines.pop()!;
  lines.forEach((raw, i) => {
    const line = i + 1;
    const d = decoder.decode(raw);
    if (d.kind === 'malformed') problems.push({ file, line, kind: 'malformed', message: d.message });
    else if (d.kind === 'record') entries.push(entry(file, line, raw, d));
  });
  if (tail !== '') problems.push(tornProblem(file, lines.length + 1, Buffer.byteLength(tail)));
  return { file, entries, problems };
}
