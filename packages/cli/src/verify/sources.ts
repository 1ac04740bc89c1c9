import type { KeyObject } from 'node:crypto';
import type { TrailSpan } from '../trail/record.js';
import { dirSource } from './dir-source.js';
import { ProblemLog } from './problems.js';
import { DEFAULT_PAGING, jaegerEntries, newRead, tempoEntries, type Paging, type SourceRead } from './query-sources.js';
import type { SealSummary } from './seals.js';
import type { VerifyEntry } from './verifier.js';

/** Where `tooltrail verify` reads records from. */
export type VerifySource =
  | { kind: 'dir'; dir: string }
  | { kind: 'jaeger'; url: string; service: string; since: Date; until: Date; paging?: Partial<Paging> }
  | { kind: 'tempo'; url: string; service: string; since: Date; until: Date; paging?: Partial<Paging> };

export type { Paging, SourceRead };

/**
 * A source being read: its entries stream by once; `problems`, `seals` and the counters are
 * final once the iteration ended. Nothing here holds more than one file chunk, one query
 * response or one trace at a time.
 */
export interface OpenedSource {
  description: string;
  entries: AsyncIterable<VerifyEntry>;
  /** Problems reading the source (torn lines, traces that could not be fetched): each a finding. The first 100. */
  problems: string[];
  problemCount: () => number;
  /** The collector's seals, for a folder written by `tooltrail collect` (undefined for query APIs). */
  seals: () => SealSummary | undefined;
  /** Things worth saying about what was read that are not findings; final once the iteration ended. */
  notes: () => string[];
  /** The time range the source covers, when it has one of its own (a query's --since/--until). */
  window?: { from: number; to: number };
  /** What a query API source read (traces, spans, queries, windows); final once the iteration ended. */
  read?: () => SourceRead;
}

export interface OpenOptions {
  /** Trusted collector keys for the seals (`--collector-key`). */
  sealKeys?: KeyObject[];
  /** Bytes and lines read so far, for the progress line. */
  onProgress?: (bytes: number, lines: number) => void;
}

export function openSource(source: VerifySource, options: OpenOptions = {}): OpenedSource {
  if (source.kind === 'dir') return dirSource(source.dir, options);
  const problems = new ProblemLog();
  const window = { from: source.since.getTime(), to: source.until.getTime() };
  const base = source.url.replace(/\/+$/, '');
  const paging: Paging = { ...DEFAULT_PAGING, ...source.paging };
  const read = newRead(paging);
  const spec = { service: source.service, since: source.since, until: source.until, paging };
  const entries = (source.kind === 'jaeger' ? jaegerEntries : tempoEntries)(base, spec, problems, read, options.onProgress);
  const what = source.kind === 'jaeger' ? 'Jaeger' : 'Tempo';
  return {
    description: `service ${source.service} from ${what} at ${base}, ${source.since.toISOString()} to ${source.until.toISOString()}`,
    entries,
    problems: problems.list,
    problemCount: () => problems.count,
    seals: () => undefined,
    notes: () => (read.otherSpans > 0 ? [`${read.otherSpans} span(s) of other services in the same traces were not checked (not ${source.service}'s trail)`] : []),
    window,
    read: () => read,
  };
}

export interface LoadedRecords {
  spans: TrailSpan[];
  /** Problems reading the source (torn lines, traces that could not be fetched), reported as findings. */
  problems: string[];
  description: string;
}

/** Every span of a source in memory at once (for small trails and scripts; the command streams). */
export async function loadRecords(source: VerifySource): Promise<LoadedRecords> {
  const opened = openSource(source);
  const spans: TrailSpan[] = [];
  for await (const e of opened.entries) spans.push(e.span);
  return { spans, problems: opened.problems, description: `${spans.length} spans: ${opened.description}` };
}
