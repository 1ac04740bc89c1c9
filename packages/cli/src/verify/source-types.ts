import type { KeyObject } from 'node:crypto';
import type { SourceRead } from './query-sources.js';
import type { SealSummary } from './seals.js';
import type { VerifyEntry } from './verifier.js';

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
