import type { TrailSpan } from '../trail/record.js';
import { dirSource } from './dir-source.js';
import { ProblemLog } from './problems.js';
import { DEFAULT_PAGING, jaegerEntries, newRead, tempoEntries, type Paging, type SourceRead } from './query-sources.js';
import type { SealSummary } from './seals.js';
import type { OpenedSource, OpenOptions } from './source-types.js';

/** Where `tooltrail verify` reads records from. */
export type VerifySource =
  | { kind: 'dir'; dir: string }
  | { kind: 'jaeger'; url: string; service: string; since: Date; until: Date; paging?: Partial<Paging> }
  | { kind: 'tempo'; url: string; service: string; since: Date; until: Date; paging?: Partial<Paging> };

export type { Paging, SourceRead, OpenedSource, OpenOptions };

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
