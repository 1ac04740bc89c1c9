import fs from 'node:fs';
import path from 'node:path';
import { judgeOwner, ownerStartedAt } from './spool-owner.js';
import { ADOPTED_PREFIX, QUARANTINE_DIR, readAck, SEGMENT_RE, Segment, type Spool, type SpoolEntryRef } from './spool.js';

/**
 * Taking over what gone processes left in the spool, and reading it back without losing what
 * is intact. A folder is adopted with an atomic rename into our own folder (two live processes
 * never adopt the same one); folders it had adopted itself are moved up beside it (so a crash
 * loop cannot nest them without bound) and delivered too. Nothing here deletes a segment.
 */

/** What was lost or doubtful in one segment. */
export interface Damage {
  /** Byte offset of the damaged region. */
  offset: number;
  bytes: number;
  /** Records lost there: the line's count prefix when readable, else 1 ("at least one"). */
  records: number;
  what: string;
}

export interface RecoveredSegment {
  segment: Segment;
  entries: SpoolEntryRef[];
  /** Regions whose records are lost. */
  damage: Damage[];
  /** Oddities that lost nothing (an ack marker distrusted, a count prefix recomputed). */
  notes: string[];
  /** Set when the segment could not be read at all; it stays where it is. */
  unreadable?: string;
}

export interface Adopted {
  /** Folders taken over, oldest first, and why their owner was judged gone. */
  folders: { dir: string; why: string }[];
  segments: RecoveredSegment[];
}

const BODY_START = Buffer.from('{"resourceSpans":[');

/** Adopts every folder of a gone owner in the namespace folder, and reads their segments. */
export function adoptOrphans(spool: Spool, staleMs: number): Adopted {
  let names: string[];
  try {
    names = fs.readdirSync(spool.root);
  } catch {
    return { folders: [], segments: [] };
  }
  const taken: { dir: string; why: string }[] = [];
  for (const name of names) {
    if (name === spool.streamName || name === QUARANTINE_DIR) continue;
    const dir = path.join(spool.root, name);
    try {
      if (!fs.statSync(dir).isDirectory()) continue;
    } catch {
      continue;
    }
    const verdict = judgeOwner(dir, staleMs);
    if (!verdict.gone) continue;
    if (verdict.why === 'no owner file' && !holdsSegments(dir)) continue; // a live owner still creating it, or not ours
    const target = path.join(spool.dir, `${ADOPTED_PREFIX}${name}`);
    try {
      fs.renameSync(dir, target);
    } catch {
      continue; // another process took it first, or it vanished
    }
    taken.push({ dir: target, why: verdict.why });
    for (const moved of flattenInto(spool.dir, target)) taken.push({ dir: moved, why: 'adopted by a process that is gone too' });
  }
  taken.sort((a, b) => ownerStartedAt(a.dir) - ownerStartedAt(b.dir));
  const segments: RecoveredSegment[] = [];
  for (const { dir } of taken) {
    let files: string[];
    try {
      files = fs.readdirSync(dir).filter((f) => SEGMENT_RE.test(f)).sort();
    } catch {
      continue;
    }
    for (const f of files) segments.push(recoverSegment(path.join(dir, f)));
  }
  return { folders: taken, segments };
}

/** Moves the adopted-* folders inside `dir` (at any depth) up into `into`; returns where they went. */
function flattenInto(into: string, dir: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.startsWith(ADOPTED_PREFIX)) continue;
    const src = path.join(dir, name);
    let target = path.join(into, name);
    if (fs.existsSync(target)) target = `${target}-${Date.now().toString(36)}`;
    try {
      fs.renameSync(src, target);
    } catch {
      // Left nested: still delivered, since we scan what we could not move.
      out.push(src, ...flattenInto(into, src));
      continue;
    }
    out.push(target, ...flattenInto(into, target));
  }
  return out;
}

function holdsSegments(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((f) => SEGMENT_RE.test(f) || f.startsWith(ADOPTED_PREFIX));
  } catch {
    return false;
  }
}

/** Reads one adopted segment: every intact line from its acknowledgement on, and what is damaged. */
export function recoverSegment(file: string): RecoveredSegment {
  const notes: string[] = [];
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    const segment = new Segment(file, 0, 0, true);
    return { segment, entries: [], damage: [], notes, unreadable: (err as Error).message };
  }
  let start = readAck(file.replace(/\.log$/, '.ack'));
  if (start === undefined) {
    notes.push('its .ack marker is unreadable: the whole segment is sent again');
    start = 0;
  } else if (start > data.length) {
    notes.push(
      data.length === 0
        ? `it is empty although ${start} bytes were acknowledged (truncated on disk?): anything written after them is lost, count unknown`
        : `its .ack marker (${start}) lies beyond its end (${data.length} bytes): the whole segment is sent again`,
    );
    start = 0;
  } else if (start > 0 && data[start - 1] !== 10) {
    notes.push(`its .ack marker (${start}) is not at a line end: sending again from the line it points into`);
    start = data.lastIndexOf(10, start - 1) + 1;
  }
  const segment = new Segment(file, data.length, start, true, data.length);
  const { entries, damage, end } = scanLines(segment, data, start, notes);
  segment.size = end;
  if (damage.length > 0) segment.damaged = true;
  return { segment, entries, damage, notes };
}

/** For a grown adopted segment (its owner was alive after all): the lines added since the scan. */
export function rescanTail(segment: Segment): { entries: SpoolEntryRef[]; damage: Damage[] } {
  let data: Buffer;
  try {
    data = fs.readFileSync(segment.file);
  } catch {
    return { entries: [], damage: [] };
  }
  const { entries, damage, end } = scanLines(segment, data, segment.size, []);
  segment.size = end;
  segment.scannedBytes = data.length;
  if (damage.length > 0) segment.damaged = true;
  return { entries, damage };
}

function scanLines(segment: Segment, data: Buffer, from: number, notes: string[]): { entries: SpoolEntryRef[]; damage: Damage[]; end: number } {
  const entries: SpoolEntryRef[] = [];
  const damage: Damage[] = [];
  let offset = from;
  while (offset < data.length) {
    const nl = data.indexOf(10, offset);
    if (nl === -1) {
      const prefix = /^(\d+) /.exec(data.toString('latin1', offset, Math.min(data.length, offset + 12)));
      damage.push({ offset, bytes: data.length - offset, records: prefix ? Math.max(1, Number(prefix[1])) : 1, what: 'a last line cut off mid-write' });
      break;
    }
    if (nl === offset) {
      notes.push(`an empty line at byte ${offset}`);
      offset = nl + 1;
      continue;
    }
    const line = parseLine(data, offset, nl);
    if (line === undefined) {
      const prefix = /^(\d+) \{/.exec(data.toString('latin1', offset, Math.min(nl, offset + 12)));
      damage.push({ offset, bytes: nl + 1 - offset, records: prefix ? Math.max(1, Number(prefix[1])) : 1, what: 'an unreadable line' });
    } else {
      if (line.garbage > 0) damage.push({ offset, bytes: line.garbage, records: 1, what: 'unreadable bytes before a line' });
      if (line.note) notes.push(`${line.note} at byte ${offset}`);
      const lineStart = offset + line.garbage;
      entries.push({ segment, offset: lineStart, length: nl + 1 - lineStart, spans: line.spans, skip: line.skip });
    }
    offset = nl + 1;
  }
  return { entries, damage, end: offset };
}

/**
 * One line "<count> <request>": the request must look whole (it starts as our encoder starts and
 * ends with "]}"). A damaged count is recomputed from the request; bytes before a count that
 * follow no line of their own are a lost region.
 */
function parseLine(data: Buffer, start: number, nl: number): { spans: number; skip: number; garbage: number; note?: string } | undefined {
  const bodyAt = data.indexOf(BODY_START, start);
  if (bodyAt === -1 || bodyAt >= nl || data[nl - 1] !== 125 || data[nl - 2] !== 93) return undefined;
  const prefix = data.toString('latin1', start, bodyAt);
  const clean = /^(\d+) $/.exec(prefix);
  if (clean && Number(clean[1]) > 0) return { spans: Number(clean[1]), skip: bodyAt - start, garbage: 0 };
  const tail = /(\d+) $/.exec(prefix);
  if (tail && Number(tail[1]) > 0 && tail.index > 0) {
    return { spans: Number(tail[1]), skip: prefix.length - tail.index, garbage: tail.index };
  }
  const spans = countSpans(data.toString('utf8', bodyAt, nl));
  if (spans === undefined) return undefined;
  return { spans, skip: bodyAt - start, garbage: 0, note: `a damaged count prefix ${JSON.stringify(prefix.slice(0, 20))} (recounted: ${spans})` };
}

function countSpans(body: string): number | undefined {
  try {
    const req = JSON.parse(body) as { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };
    let n = 0;
    for (const rs of req.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
