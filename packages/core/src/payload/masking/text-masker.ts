/**
 * Masks secrets inside one string. Every detector's matches are collected on the original text
 * and, when it holds anything to normalise (`%XX`, non-ASCII, a base64 run), on its normalised
 * view too, mapped back to the original characters. Overlapping matches are merged into one
 * masked region, and the output is built once: tokens are never scanned again, so a detector
 * cannot re-match another's token.
 */
import type { MaskTally } from '../encode-report.js';
import { extendBareValue, KEY_VALUE_PATTERN } from './catalog/builtin.js';
import type { DetectorDef, MaskStrategy } from './catalog/detector-def.js';
import { containsAny, escapeRegExp, gateOpen, groupByGate, type GateState, type Group } from './gates.js';
import { LINE_VALUE_RULES, type KeyMatcher } from './key-names.js';
import { mayNeedNormalising, normalisedViews } from './normalise.js';
import type { Tokenizer } from './tokens.js';

/** How a kind is masked: the user's choice for it, else the detector's default. */
export interface StrategyTable {
  strategyFor(kind: string, fallback: MaskStrategy): MaskStrategy;
}

interface Region {
  start: number;
  end: number;
  kind: string;
  det: DetectorDef | undefined;
  /** Catalog position: on a tie the earlier detector names the region. */
  order: number;
  /** Found in the normalised view: the text it matched there, when that differs from the original's. */
  view?: string;
}

/** Strings up to this length are memoised; bounded, then reset. */
const MEMO_MAX_LENGTH = 40;
const MEMO_LIMIT = 4096;

export class TextScanner {
  /** Detectors grouped by gate, so each gate is tested once per string. */
  private readonly groups: Group[];
  /** Detectors behind a literal gate, found in one pass of this regex. */
  private readonly literalGate: RegExp | undefined;
  private readonly byLiteral = new Map<string, number[]>();
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
    const literals: string[] = [];
    this.groups = groupByGate(detectors);
    detectors.forEach((d, order) => {
      if (d.gate !== 'literal') return;
      for (const lit of d.literals ?? []) {
        const list = this.byLiteral.get(lit);
        if (list) list.push(order);
        else {
          this.byLiteral.set(lit, [order]);
          literals.push(lit);
        }
      }
    });
    // Longest first: at `sk-ant-` the anthropic detector must be the one flagged.
    literals.sort((a, b) => b.length - a.length);
    // Case-sensitive: V8 scans a plain alternation of literals markedly faster than with /i.
    this.literalGate = literals.length > 0 ? new RegExp(literals.map(escapeRegExp).join('|'), 'g') : undefined;
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
    const state: GateState = { noRun: Infinity };
    let found = this.find(s, keyValue, state);
    // Ordinary ASCII prose fails the cheap test and is scanned once, as before.
    if (mayNeedNormalising(s, state.noRun)) {
      for (const view of normalisedViews(s) ?? []) {
        if (view.text.length < this.minLength) continue;
        for (const r of this.find(view.text, keyValue, { noRun: Infinity }) ?? []) {
          const [start, end] = view.toSource(r.start, r.end);
          const seen = view.text.slice(r.start, r.end);
          (found ??= []).push({ ...r, start, end, view: seen === s.slice(start, end) ? undefined : seen });
        }
      }
    }
    return found === undefined ? s : this.render(s, found, report);
  }

  private find(s: string, keyValue: boolean, state: GateState): Region[] | undefined {
    const n = s.length;
    let found: Region[] | undefined;
    let flagged: Set<number> | undefined;
    for (const g of this.groups) {
      if (n < g.min || !gateOpen(g, s, state)) continue;
      if (g.gate === 'literal') {
        flagged = this.flagLiterals(s);
        if (flagged.size === 0) continue;
      }
      for (const { d, order } of g.members) {
        if (n < d.minLength || (flagged !== undefined && g.gate === 'literal' && !flagged.has(order))) continue;
        if (g.gate === 'contains' && !containsAny(s, d.needles)) continue;
        found = this.run(d, order, s, found);
      }
    }
    if (keyValue && this.keyValue !== undefined && (s.indexOf('=') !== -1 || s.indexOf(':') !== -1)) found = this.runKeyValue(s, found);
    return found;
  }

  /** Indexes of the literal-gated detectors whose literal occurs in `s`. */
  private flagLiterals(s: string): Set<number> {
    const out = new Set<number>();
    const re = this.literalGate;
    if (re === undefined) return out;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      const list = this.byLiteral.get(m[0]);
      if (list) for (const i of list) out.add(i);
    }
    return out;
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
        if (ok === false) continue;
        if (typeof ok === 'object') [start, end] = [start + ok.start, start + ok.end];
      }
      (found ??= []).push({ start, end, kind: d.id, det: d, order });
    }
    return found;
  }

  private runKeyValue(s: string, found: Region[] | undefined): Region[] | undefined {
    const matcher = this.keyValue as KeyMatcher;
    const re = KEY_VALUE_PATTERN;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      const indices = m.indices as RegExpIndicesArray;
      let value: [number, number] | undefined;
      for (let g = 3; g <= 7; g++) {
        const span = indices[g];
        if (span !== undefined) {
          value = span;
          break;
        }
      }
      if (value === undefined) continue;
      const kind = matcher.match(m[2] as string);
      if (kind === undefined) {
        // Not a secret key: look again inside its value (`url=https://x?token=...`).
        re.lastIndex = value[0] > m.index ? value[0] : m.index + 1;
        continue;
      }
      let [start, end] = value;
      if (indices[6] !== undefined && end - start === 256) end = extendBareValue(s, end);
      if (LINE_VALUE_RULES.has(kind)) {
        // Header values run to the end of the line: `Authorization: Basic <b64>`, cookie lists.
        const cr = s.indexOf('\r', start);
        const lf = s.indexOf('\n', start);
        const stop = Math.min(cr === -1 ? s.length : cr, lf === -1 ? s.length : lf);
        if (stop > end) end = stop;
      }
      if (end > start) (found ??= []).push({ start, end, kind, det: undefined, order: this.detectors.length });
      if (re.lastIndex < end) re.lastIndex = end;
    }
    return found;
  }

  private render(s: string, all: Region[], report: MaskTally): string {
    let found = all;
    for (const r of all) {
      const drop = r.det?.suppresses;
      if (drop !== undefined) found = found.filter((o) => o === r || !drop.includes(o.kind) || o.start < r.start || o.start >= r.end);
    }
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
      out += s.slice(pos, first.start) + this.token(found, i, j, s, end, report);
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
  private token(all: readonly Region[], i: number, j: number, s: string, end: number, report: MaskTally): string {
    const r = all[i] as Region;
    const det = r.det;
    let strategy = this.strategies.strategyFor(r.kind, det?.strategy ?? 'redact');
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
    return this.tokenizer.token(r.kind, strategy, text, canonical, det?.partial);
  }
}
