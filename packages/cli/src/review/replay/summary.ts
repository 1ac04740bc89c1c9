/**
 * The replay's totals and the calls worth listing. A contract (`--json`, docs/review.md):
 * fields are only ever added.
 */
import type { HoleCause } from './holes.js';
import type { Verdict, VerdictKind } from './replay.js';

export interface ReplaySummary {
  calls: number;
  same: number;
  differs: number;
  undecidable: number;
  invalid: number;
  /** Differences by transition, `recorded→expected`: `allow→deny`, `deny→allow`, ... */
  changes: Record<string, number>;
  /** Calls that cannot be decided, by cause (a call can have two). */
  undecidableBy: Partial<Record<HoleCause, number>>;
}

export class ReplayTally {
  readonly summary: ReplaySummary = { calls: 0, same: 0, differs: 0, undecidable: 0, invalid: 0, changes: {}, undecidableBy: {} };
  /** The calls listed: every one but the `same` ones, unless all are kept. */
  readonly listed: Verdict[] = [];

  constructor(private readonly keep: (kind: VerdictKind) => boolean = (k) => k !== 'same') {}

  add(v: Verdict): void {
    const s = this.summary;
    s.calls++;
    s[v.kind]++;
    if (v.kind === 'differs') {
      const key = `${v.recorded.kind}→${v.expected as string}`;
      s.changes[key] = (s.changes[key] ?? 0) + 1;
    }
    if (v.kind === 'undecidable') for (const c of v.needed?.causes ?? []) s.undecidableBy[c] = (s.undecidableBy[c] ?? 0) + 1;
    if (this.keep(v.kind)) this.listed.push(v);
  }

  /**
   * 0: the candidate decides every call as recorded; 1: a call differs or cannot be decided, or
   * there was no call (a wrong folder, service or range passes nothing).
   */
  exitCode(): number {
    const s = this.summary;
    return s.calls === 0 || s.differs > 0 || s.undecidable > 0 ? 1 : 0;
  }
}

const ORDER: Record<VerdictKind, number> = { differs: 0, undecidable: 1, invalid: 2, same: 3 };

/** Listed calls by kind, then time. */
export function sortVerdicts(list: Verdict[]): Verdict[] {
  return list.sort((a, b) => ORDER[a.kind] - ORDER[b.kind] || a.call.time - b.call.time || a.call.spanId.localeCompare(b.call.spanId));
}
