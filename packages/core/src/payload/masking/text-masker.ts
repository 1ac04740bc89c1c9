/**
 * Masks secrets inside one string. Every detector's matches are collected on the original text,
 * overlapping matches are merged into one masked region, and the output is built once: tokens
 * are never scanned again, so a detector cannot re-match another's token.
 */
import type { MaskTally } from '../encode-report.js';
import { KEY_VALUE_PATTERN } from './catalog/builtin.js';
import type { DetectorDef, MaskStrategy } from './catalog/detector-def.js';
import { LINE_VALUE_RULES, type KeyMatcher } from './key-names.js';
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
}

// Gates: each is far cheaper than the patterns behind it, and ordinary text fails them.
/**
 * Nine digits with at most two separators between them: every card, SSN and phone number
 * long enough to be one has such a run; an ISO date (eight digits) does not. Written out
 * rather than as `(?:...){8}`: V8 runs the unrolled form about three times faster.
 */
const GATE_DIGITS = new RegExp(`\\d${'[ .()-]{0,2}\\d'.repeat(8)}`);
/** Three dots between digits. */
const GATE_DOTTED_QUAD = /\d\.\d{1,3}\.\d{1,3}\.\d/;
const GATE_IBAN = /[A-Z]{2}\d\d/;
const GATE_IPV6 = /::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:/;
/** Strings up to this length are memoised; bounded, then reset. */
const MEMO_MAX_LENGTH = 40;
const MEMO_LIMIT = 4096;
/** Length of the run a `long` detector needs (AWS secret keys: 40 characters). */
const LONG_RUN = 40;

/**
 * True when some window of `run` characters holds no space. Looks backwards from the end of
 * each window for a space and jumps past it, so prose is read a word or two per window, not
 * character by character (a regex like /[^ ]{15}/ tries every position and is 20x slower).
 */
function hasSpacelessRun(s: string, run: number): boolean {
  let p = 0;
  const n = s.length;
  while (p + run <= n) {
    let i = p + run - 1;
    while (i >= p && s.charCodeAt(i) !== 32) i--;
    if (i < p) return true;
    p = i + 1;
  }
  return false;
}

/**
 * Whether a group's gate lets `s` through. `noRun` carries what earlier gates learnt about
 * spaceless runs: once there is none of length n, there is none longer.
 */
function gateOpen(g: Group, s: string, state: { noRun: number }): boolean {
  switch (g.gate) {
    case 'at':
      return s.indexOf('@') !== -1;
    case 'url':
      return s.indexOf('://') !== -1 && s.indexOf('@') !== -1;
    case 'digits':
      return GATE_DIGITS.test(s);
    case 'dotDigit':
      return GATE_DOTTED_QUAD.test(s);
    case 'colon':
      return s.indexOf(':') !== -1 && GATE_IPV6.test(s);
    case 'iban':
      return GATE_IBAN.test(s);
    case 'contains':
      return g.needles !== undefined && g.needles.test(s);
    case 'long':
    case 'literal': {
      // Tokens have no spaces: text without a run as long as the shortest match is skipped.
      const run = g.gate === 'long' ? LONG_RUN : g.min;
      if (run >= state.noRun) return false;
      if (hasSpacelessRun(s, run)) return true;
      state.noRun = run;
      return false;
    }
    default:
      return true;
  }
}

function containsAny(s: string, needles: readonly string[] | undefined): boolean {
  if (needles === undefined) return true;
  for (const n of needles) if (s.indexOf(n) !== -1) return true;
  return false;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Group {
  readonly gate: DetectorDef['gate'];
  /** The shortest string any member can match. */
  readonly min: number;
  /** Gate `contains`: every member's needles in one regex, tested once per string. */
  readonly needles: RegExp | undefined;
  readonly members: readonly { readonly d: DetectorDef; readonly order: number }[];
}

export class TextScanner {
  /** Detectors grouped by gate, so each gate is tested once per string. */
  private readonly groups: Group[] = [];
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
    const byGate = new Map<DetectorDef['gate'], { d: DetectorDef; order: number }[]>();
    detectors.forEach((d, order) => {
      const members = byGate.get(d.gate) ?? [];
      if (members.length === 0) byGate.set(d.gate, members);
      members.push({ d, order });
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
    for (const [gate, members] of byGate) {
      const needles = members.flatMap((m) => m.d.needles ?? []);
      this.groups.push({
        gate,
        min: Math.min(...members.map((m) => m.d.minLength)),
        needles: needles.length > 0 ? new RegExp(needles.map(escapeRegExp).join('|')) : undefined,
        members,
      });
    }
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
    const n = s.length;
    if (n < this.minLength) return s;
    let found: Region[] | undefined;
    let flagged: Set<number> | undefined;
    const state = { noRun: Infinity };
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
    return found === undefined ? s : this.render(s, found, report);
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
      for (let g = 3; g <= 6; g++) {
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
      out += s.slice(pos, first.start) + this.token(first, s.slice(first.start, end), report);
      pos = end;
      i = j;
    }
    return out + s.slice(pos);
  }

  private token(r: Region, raw: string, report: MaskTally): string {
    const det = r.det;
    const strategy = this.strategies.strategyFor(r.kind, det?.strategy ?? 'redact');
    report.add(r.kind, strategy !== 'hash');
    const canonical = det?.canonical !== undefined ? det.canonical(raw) : raw;
    return this.tokenizer.token(r.kind, strategy, raw, canonical, det?.partial);
  }
}
