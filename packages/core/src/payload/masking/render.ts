/**
 * The masked string from the regions the detectors found: matches other detectors' matches
 * suppress are dropped, overlapping regions are merged into one masked span, and the output is
 * built once (tokens are never scanned again, so a detector cannot re-match another's token).
 */
import type { MaskTally } from '../encode-report.js';
import type { DetectorDef, MaskStrategy } from './catalog/detector-def.js';
import type { Tokenizer } from './tokens.js';

/** How a kind is masked: the user's choice for it, else the detector's default. */
export interface StrategyTable {
  strategyFor(kind: string, fallback: MaskStrategy): MaskStrategy;
}

export interface Region {
  start: number;
  end: number;
  kind: string;
  det: DetectorDef | undefined;
  /** Catalog position: on a tie the earlier detector names the region. */
  order: number;
  /** Found in the normalised view: the text it matched there, when that differs from the original's. */
  view?: string;
}

/**
 * The spans of the regions that suppress one kind, sorted by start, with the region of the
 * largest end so far and the runner-up from another region (a region never suppresses itself).
 */
class Cover {
  private readonly starts: number[] = [];
  private readonly best: Region[] = [];
  private readonly second: (Region | undefined)[] = [];

  constructor(spans: Region[]) {
    spans.sort((a, b) => a.start - b.start);
    let best: Region | undefined;
    let second: Region | undefined;
    for (const r of spans) {
      if (r === best || r === second) continue;
      if (best === undefined || r.end > best.end) {
        second = best;
        best = r;
      } else if (second === undefined || r.end > second.end) second = r;
      this.starts.push(r.start);
      this.best.push(best);
      this.second.push(second);
    }
  }

  /** Whether another region of these spans starts at or before `o` and ends after its start. */
  covers(o: Region): boolean {
    let lo = 0;
    let hi = this.starts.length - 1;
    if (hi < 0 || (this.starts[0] as number) > o.start) return false;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= o.start) lo = mid;
      else hi = mid - 1;
    }
    const best = this.best[lo] as Region;
    const other = best === o ? this.second[lo] : best;
    return other !== undefined && other.end > o.start;
  }
}

/**
 * `all` without the regions whose start lies inside another region whose detector suppresses
 * their kind. Linear in the regions (a log factor aside): thousands of suppressing matches in
 * one string must not cost their square.
 */
function unsuppressed(all: Region[]): Region[] {
  let byKind: Map<string, Region[]> | undefined;
  for (const r of all) {
    for (const kind of r.det?.suppresses ?? []) {
      byKind ??= new Map();
      const list = byKind.get(kind);
      if (list === undefined) byKind.set(kind, [r]);
      else list.push(r);
    }
  }
  if (byKind === undefined) return all;
  const covers = new Map<string, Cover>();
  for (const [kind, spans] of byKind) covers.set(kind, new Cover(spans));
  return all.filter((o) => covers.get(o.kind)?.covers(o) !== true);
}

/** `s` with the regions in `all` replaced by their tokens. */
export function renderRegions(s: string, all: Region[], report: MaskTally, strategies: StrategyTable, tokenizer: Tokenizer): string {
  const found = unsuppressed(all);
  // On equal starts the longer region first, then catalog order.
  if (found.length > 1) found.sort((a, b) => a.start - b.start || b.end - a.end || a.order - b.order);
  let out = '';
  let pos = 0;
  let i = 0;
  while (i < found.length) {
    const first = found[i] as Region;
    let end = first.end;
    let j = i + 1;
    // Overlapping regions are masked as one: masking less could leave part of a secret.
    while (j < found.length && (found[j] as Region).start < end) {
      end = Math.max(end, (found[j] as Region).end);
      j++;
    }
    out += s.slice(pos, first.start) + token(found, i, j, s, end, report, strategies, tokenizer);
    pos = end;
    i = j;
  }
  return out + s.slice(pos);
}

/**
 * The token for regions [i, j) merged into [start, end). A region found in the normalised
 * view that covers the whole merge is named by what it was there (a full-width card's
 * digits, the address inside a base64 run), so its hash correlates with the plain value;
 * other merges holding a normalised region have no such text and are never shown in part.
 */
function token(all: readonly Region[], i: number, j: number, s: string, end: number, report: MaskTally, strategies: StrategyTable, tokenizer: Tokenizer): string {
  const r = all[i] as Region;
  const det = r.det;
  let strategy = strategies.strategyFor(r.kind, det?.strategy ?? 'redact');
  let text: string | undefined;
  let normalised = false;
  for (let k = i; k < j; k++) {
    const o = all[k] as Region;
    if (o.view === undefined) continue;
    normalised = true;
    if (o.start === r.start && o.end === end && o.kind === r.kind) {
      text = o.view;
      break;
    }
  }
  if (text === undefined) {
    text = s.slice(r.start, end);
    if (normalised && strategy === 'partial') strategy = 'redact';
  }
  report.add(r.kind, strategy !== 'hash');
  const canonical = det?.canonical !== undefined ? det.canonical(text) : text;
  return tokenizer.token(r.kind, strategy, text, canonical, det?.partial);
}
