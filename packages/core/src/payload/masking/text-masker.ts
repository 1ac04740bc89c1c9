/**
 * Masks secrets inside one string. Every detector's matches are collected on the original text
 * and, when it holds anything to normalise (`%XX`, non-ASCII, a base64 run), on its normalised
 * view too, mapped back to the original characters. Overlapping matches are merged into one
 * masked region, and the output is built once: tokens are never scanned again, so a detector
 * cannot re-match another's token.
 */
import type { MaskTally } from '../encode-report.js';
import type { DetectorDef } from './catalog/detector-def.js';
import { containsAny, gateOpen, GateState, groupByGate, type Group } from './gates.js';
import type { KeyMatcher } from './key-names.js';
import { findKeyValues, mayHoldKeyValue } from './key-value-scan.js';
import { LiteralGate } from './literal-gate.js';
import { mayNeedNormalising, normalisedViews } from './normalise.js';
import { renderRegions, type Region, type StrategyTable } from './render.js';
import type { Tokenizer } from './tokens.js';
import { blankWordEdges } from './word-edges.js';

/** Candidates up to this length are searched again inside, from their next character, when their validator rejects them. */
const RETRY_INSIDE_REJECTED = 64;

export type { StrategyTable } from './render.js';

/** Strings up to this length are memoised; bounded, then reset. */
const MEMO_MAX_LENGTH = 40;
const MEMO_LIMIT = 4096;

export class TextScanner {
  /** Detectors grouped by gate, so each gate is tested once per string. */
  private readonly groups: Group[];
  /** Detectors behind a literal gate, found in one pass. */
  private readonly literalGate: LiteralGate;
  /** Reused by every scan that is not nested in another (a user detector masking text). */
  private readonly gateState = new GateState();
  private scanning = false;
  /** Below this length no enabled detector can match: the string is returned as it is. */
  readonly minLength: number;
  private readonly memo = new Map<string, { out: string; kinds: [string, boolean][] } | null>();

  constructor(
    private readonly detectors: readonly DetectorDef[],
    /** Key-name rules for `key=value` in text; undefined when that detector is off. */
    private readonly keyValue: KeyMatcher | undefined,
    private readonly strategies: StrategyTable,
    private readonly tokenizer: Tokenizer,
  ) {
    this.groups = groupByGate(detectors);
    this.literalGate = new LiteralGate(detectors);
    let min = keyValue ? 3 : Infinity;
    for (const d of detectors) min = Math.min(min, d.minLength);
    this.minLength = min;
  }

  /** `s` with every secret replaced by its token; `s` itself when nothing matched. */
  mask(s: string, report: MaskTally): string {
    const n = s.length;
    if (n < this.minLength) return s;
    if (n > MEMO_MAX_LENGTH) return this.scan(s, report, true);
    // Short strings repeat (enum values, tags, locales, ids): answer them from a memo, replaying
    // what they counted. Long strings rarely repeat and are not kept.
    const hit = this.memo.get(s);
    if (hit === null) return s;
    if (hit !== undefined) {
      for (const [kind, lossy] of hit.kinds) report.add(kind, lossy);
      return hit.out;
    }
    const kinds: [string, boolean][] = [];
    const out = this.scan(s, { add: (kind, lossy) => void kinds.push([kind, lossy]) }, true);
    for (const [kind, lossy] of kinds) report.add(kind, lossy);
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(s, out === s ? null : { out, kinds });
    return out;
  }

  /** As mask(), without the `key=value` rule: for property names, which hold no assignments. */
  maskValues(s: string, report: MaskTally): string {
    return this.scan(s, report, false);
  }

  private scan(s: string, report: MaskTally, keyValue: boolean): string {
    if (s.length < this.minLength) return s;
    const outer = !this.scanning;
    const state = outer ? this.gateState.reset() : new GateState();
    this.scanning = true;
    let found: Region[] | undefined;
    let normalise: boolean;
    try {
      found = this.findAll(s, keyValue, state);
      // Ordinary ASCII prose fails the cheap test and is scanned once, as before.
      normalise = mayNeedNormalising(s, state.noRun);
    } finally {
      if (outer) this.scanning = false;
    }
    if (normalise) {
      for (const view of normalisedViews(s) ?? []) {
        if (view.text.length < this.minLength) continue;
        for (const r of this.findAll(view.text, keyValue, new GateState()) ?? []) {
          const [start, end] = view.toSource(r.start, r.end);
          const seen = view.text.slice(r.start, r.end);
          (found ??= []).push({ ...r, start, end, view: seen === s.slice(start, end) ? undefined : seen });
        }
      }
    }
    return found === undefined ? s : renderRegions(s, found, report, this.strategies, this.tokenizer);
  }

  /** find(), and on the copy with edge underscores blanked when `s` has any (same offsets). */
  private findAll(s: string, keyValue: boolean, state: GateState): Region[] | undefined {
    const found = this.find(s, keyValue, state);
    if (s.indexOf('_') === -1) return found;
    const blank = blankWordEdges(s);
    if (blank === undefined) return found;
    const more = this.find(blank, keyValue, new GateState());
    return more === undefined ? found : found === undefined ? more : found.concat(more);
  }

  private find(s: string, keyValue: boolean, state: GateState): Region[] | undefined {
    const n = s.length;
    let found: Region[] | undefined;
    for (const g of this.groups) {
      if (n < g.min || !gateOpen(g, s, state)) continue;
      if (g.gate === 'literal') {
        // Only the flagged detectors: walking all ~90 members to skip most of them cost more.
        for (const order of this.literalGate.flag(s)) {
          const d = this.detectors[order] as DetectorDef;
          if (n >= d.minLength) found = this.run(d, order, s, found);
        }
        continue;
      }
      for (const { d, order } of g.members) {
        if (n < d.minLength) continue;
        if (g.gate === 'contains' && !containsAny(s, d.needles)) continue;
        found = this.run(d, order, s, found);
      }
    }
    if (keyValue && this.keyValue !== undefined && mayHoldKeyValue(s)) found = findKeyValues(s, this.keyValue, this.detectors.length, found);
    return found;
  }

  private run(d: DetectorDef, order: number, s: string, found: Region[] | undefined): Region[] | undefined {
    if (d.find !== undefined) {
      for (const r of d.find(s)) {
        const start = Math.max(0, Math.floor(r.start));
        const end = Math.min(s.length, Math.floor(r.end));
        if (!(end > start)) continue;
        if (d.validate !== undefined && d.validate(s.slice(start, end)) === false) continue;
        (found ??= []).push({ start, end, kind: d.id, det: d, order });
      }
      return found;
    }
    const re = d.pattern as RegExp;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      if (m[0].length === 0) {
        re.lastIndex++; // a user pattern that can match nothing must not loop forever
        continue;
      }
      let start = m.index;
      let end = start + m[0].length;
      if (d.group !== undefined) {
        const span = m.indices?.[d.group];
        if (span === undefined) continue;
        [start, end] = span;
        if (end <= start) continue;
      }
      if (d.validate !== undefined) {
        const ok = d.validate(s.slice(start, end));
        if (ok === false) {
          // A rejected candidate may hide a valid one inside it ("BE PL5273918461": not a Belgian
          // number, but a Polish one after the space): look again from the next character. Only
          // for short candidates, so a long run rejected at every position cannot go quadratic.
          if (m[0].length <= RETRY_INSIDE_REJECTED) re.lastIndex = m.index + 1;
          continue;
        }
        if (typeof ok === 'object') {
          const matchEnd = m.index + m[0].length;
          [start, end] = [start + ok.start, start + ok.end];
          // The rest of a narrowed candidate may hold the next value: `3782-822463-10005
          // 3782-822463-10005` is one 19-digit run to the card pattern, confirmed as its first
          // card only, and the second card's digits were consumed with it. Short ones only, as above.
          if (end < matchEnd && m[0].length <= RETRY_INSIDE_REJECTED) re.lastIndex = Math.max(end, m.index + 1);
        }
      }
      (found ??= []).push({ start, end, kind: d.id, det: d, order });
    }
    return found;
  }
}
