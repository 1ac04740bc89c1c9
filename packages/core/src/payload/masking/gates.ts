/**
 * Gates: the cheap tests a string must pass before a group of detectors' patterns run on it.
 * Each is far cheaper than the patterns behind it, and ordinary text fails them.
 */
import type { DetectorDef } from './catalog/detector-def.js';

/**
 * Nine digits with at most two separators between them: every card, SSN and phone number
 * long enough to be one has such a run; an ISO date (eight digits) does not. Written out
 * rather than as `(?:...){8}`: V8 runs the unrolled form about three times faster.
 */
const GATE_DIGITS = new RegExp(`\\d${'[ .()-]{0,2}\\d'.repeat(8)}`);
/** Three dots between digits. */
const GATE_DOTTED_QUAD = /\d\.\d{1,3}\.\d{1,3}\.\d/;
/**
 * Two capitals then two digits; or, as spaced NI and VAT numbers are written (`PW 48 12 36 C`,
 * `DE 273918461`), two capitals that start a word, a space and more digit groups: `EUR 129.90`
 * in prose does not open it.
 */
/**
 * Two capitals and two digits, or the spaced forms (`PW 48 12 36 C`, `DE 273918461`) whose
 * capitals start a word, so `EUR 129.90` stays shut. One alternation: as cheap as the old gate.
 */
const GATE_IBAN = /[A-Z]{2}\d\d|\b[A-Z]{2} \d\d[ \d]/;
const GATE_IPV6 = /::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:/;
/** Go's MySQL DSN, `user:pw@tcp(host)/db`: credentials without a scheme. */
const GO_DSN = /@(?:tcp|udp|unix)\(/;
/** Length of the run a `long` detector needs (AWS secret keys: 40 characters). */
const LONG_RUN = 40;
/**
 * Needles this short get a regex of their own: one three-letter alternative (`wd=`) in the
 * group's regex stops V8 from skipping ahead and made it 2-3x slower on prose; two regexes cost
 * the same as one on short strings (indexOf per needle cost more there).
 */
const SHORT_NEEDLE = 3;

export interface Group {
  readonly gate: DetectorDef['gate'];
  /** The shortest string any member can match. */
  readonly min: number;
  /** Gate `contains`: the members' longer needles in one regex, tested once per string. */
  readonly needles: RegExp | undefined;
  /** Gate `contains`: the members' short needles, in a regex of their own. */
  readonly shortNeedles: RegExp | undefined;
  /** Gate `contains` with `run`: the shortest spaceless run every member's match holds. */
  readonly run: number | undefined;
  /** Gate `contains` with `requires`: the character every member's match holds. */
  readonly requires: string | undefined;
  /** Gates that test for a spaceless run: its length (0 for the others). */
  readonly spaceless: number;
  readonly members: readonly { readonly d: DetectorDef; readonly order: number }[];
}

/**
 * What earlier gates learnt about one string's spaceless runs: none of `noRun` characters
 * (so none longer), and one of `hasRun` whose first window starts at `runAt` (so a longer run
 * cannot start before it). Reused across strings: reset() before each.
 */
export class GateState {
  noRun = Infinity;
  hasRun = 0;
  runAt = 0;

  reset(): this {
    this.noRun = Infinity;
    this.hasRun = 0;
    this.runAt = 0;
    return this;
  }
}

/**
 * Start of the first window of `run` characters holding no space, at or after `from`, or -1.
 * Looks backwards from the end of each window for a space and jumps past it, so prose is read
 * a word or two per window, not character by character (a regex like /[^ ]{15}/ tries every
 * position and is 20x slower).
 */
export function spacelessRunAt(s: string, run: number, from = 0): number {
  let p = from;
  const n = s.length;
  while (p + run <= n) {
    let i = p + run - 1;
    while (i >= p && s.charCodeAt(i) !== 32) i--;
    if (i < p) return p;
    p = i + 1;
  }
  return -1;
}

export function hasSpacelessRun(s: string, run: number): boolean {
  return spacelessRunAt(s, run) !== -1;
}

/** Whether `s` has a spaceless run of `run`, answered from `state` when earlier gates settled it. */
export function spacelessRun(s: string, run: number, state: GateState): boolean {
  if (run <= state.hasRun) return true;
  if (run >= state.noRun) return false;
  const at = spacelessRunAt(s, run, state.runAt);
  if (at === -1) {
    state.noRun = run;
    return false;
  }
  state.hasRun = run;
  state.runAt = at;
  return true;
}

/** Whether a group's gate lets `s` through. */
export function gateOpen(g: Group, s: string, state: GateState): boolean {
  switch (g.gate) {
    case 'at':
      return s.indexOf('@') !== -1;
    case 'url':
      return s.indexOf('@') !== -1 && (s.indexOf('://') !== -1 || GO_DSN.test(s));
    case 'digits':
      return GATE_DIGITS.test(s);
    case 'dotDigit':
      return GATE_DOTTED_QUAD.test(s);
    case 'colon':
      return s.indexOf(':') !== -1 && GATE_IPV6.test(s);
    case 'iban':
      return GATE_IBAN.test(s);
    case 'contains':
      if (g.requires !== undefined && s.indexOf(g.requires) === -1) return false;
      if (g.run !== undefined && !spacelessRun(s, g.run, state)) return false;
      return (g.needles !== undefined && g.needles.test(s)) || (g.shortNeedles !== undefined && g.shortNeedles.test(s));
    case 'long':
    case 'literal':
      // Tokens have no spaces: text without a run as long as the shortest match is skipped.
      return spacelessRun(s, g.spaceless, state);
    default:
      return true;
  }
}

export function containsAny(s: string, needles: readonly string[] | undefined): boolean {
  if (needles === undefined) return true;
  for (const n of needles) if (s.indexOf(n) !== -1) return true;
  return false;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Cheapest first, so what a cheap gate learns settles dearer ones: indexOf tests, then the
 * spaceless-run gates shortest run first (a miss answers every longer one for free), then
 * the short regexes, the needle regexes last. Output does not depend on this order: regions
 * are sorted by position and catalog order before they are rendered.
 */
const RANK: Record<DetectorDef['gate'], number> = { at: 0, url: 0, colon: 1, long: 2, literal: 2, digits: 3, dotDigit: 3, iban: 4, contains: 5, always: 6 };

function rank(g: Group): number {
  return g.spaceless > 0 ? RANK.literal : RANK[g.gate];
}

/**
 * Detectors grouped by gate, so each gate is tested once per string. `contains` detectors that
 * declare a `run` form a group of their own, behind the run check.
 */
export function groupByGate(detectors: readonly DetectorDef[]): Group[] {
  const byGate = new Map<string, { d: DetectorDef; order: number }[]>();
  detectors.forEach((d, order) => {
    const key = d.gate !== 'contains' ? d.gate : d.run !== undefined ? 'contains+run' : d.requires !== undefined ? `contains+${d.requires}` : d.gate;
    const members = byGate.get(key) ?? [];
    if (members.length === 0) byGate.set(key, members);
    members.push({ d, order });
  });
  const groups: Group[] = [];
  for (const [key, members] of byGate) {
    const gate = (members[0] as { d: DetectorDef }).d.gate;
    const min = Math.min(...members.map((m) => m.d.minLength));
    const all = [...new Set(members.flatMap((m) => m.d.needles ?? []))];
    const long = all.filter((n) => n.length > SHORT_NEEDLE);
    const short = all.filter((n) => n.length <= SHORT_NEEDLE);
    const run = key === 'contains+run' ? Math.min(...members.map((m) => m.d.run as number)) : undefined;
    groups.push({
      gate,
      min,
      needles: long.length > 0 ? new RegExp(long.map(escapeRegExp).join('|')) : undefined,
      shortNeedles: short.length > 0 ? new RegExp(short.map(escapeRegExp).join('|')) : undefined,
      run,
      requires: key.startsWith('contains+') && key !== 'contains+run' ? (members[0] as { d: DetectorDef }).d.requires : undefined,
      spaceless: gate === 'long' ? LONG_RUN : gate === 'literal' ? min : (run ?? 0),
      members,
    });
  }
  // Stable: equal ranks keep catalog order.
  return groups.sort((a, b) => rank(a) - rank(b) || a.spaceless - b.spaceless);
}
