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
const GATE_IBAN = /[A-Z]{2}\d\d|(?<![A-Za-z])[A-Z]{2} \d\d(?: \d\d|\d{5})/;
const GATE_IPV6 = /::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:/;
/** Length of the run a `long` detector needs (AWS secret keys: 40 characters). */
const LONG_RUN = 40;

export interface Group {
  readonly gate: DetectorDef['gate'];
  /** The shortest string any member can match. */
  readonly min: number;
  /** Gate `contains`: every member's needles in one regex, tested once per string. */
  readonly needles: RegExp | undefined;
  /** Gate `contains` with `run`: the shortest spaceless run every member's match holds. */
  readonly run: number | undefined;
  readonly members: readonly { readonly d: DetectorDef; readonly order: number }[];
}

/** What earlier gates learnt about one string: once there is no spaceless run of n, none is longer. */
export interface GateState {
  noRun: number;
}

/**
 * True when some window of `run` characters holds no space. Looks backwards from the end of
 * each window for a space and jumps past it, so prose is read a word or two per window, not
 * character by character (a regex like /[^ ]{15}/ tries every position and is 20x slower).
 */
export function hasSpacelessRun(s: string, run: number): boolean {
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

/** hasSpacelessRun, remembering a miss in `state` for the gates tested after it. */
function spacelessRun(s: string, run: number, state: GateState): boolean {
  if (run >= state.noRun) return false;
  if (hasSpacelessRun(s, run)) return true;
  state.noRun = run;
  return false;
}

/** Whether a group's gate lets `s` through. */
export function gateOpen(g: Group, s: string, state: GateState): boolean {
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
      if (g.run !== undefined && !spacelessRun(s, g.run, state)) return false;
      return g.needles !== undefined && g.needles.test(s);
    case 'long':
    case 'literal': {
      // Tokens have no spaces: text without a run as long as the shortest match is skipped.
      return spacelessRun(s, g.gate === 'long' ? LONG_RUN : g.min, state);
    }
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
 * Detectors grouped by gate, so each gate is tested once per string. `contains` detectors that
 * declare a `run` form a group of their own, behind the run check.
 */
export function groupByGate(detectors: readonly DetectorDef[]): Group[] {
  const byGate = new Map<string, { d: DetectorDef; order: number }[]>();
  detectors.forEach((d, order) => {
    const key = d.gate === 'contains' && d.run !== undefined ? 'contains+run' : d.gate;
    const members = byGate.get(key) ?? [];
    if (members.length === 0) byGate.set(key, members);
    members.push({ d, order });
  });
  const groups: Group[] = [];
  for (const [key, members] of byGate) {
    const needles = members.flatMap((m) => m.d.needles ?? []);
    groups.push({
      gate: (members[0] as { d: DetectorDef }).d.gate,
      min: Math.min(...members.map((m) => m.d.minLength)),
      needles: needles.length > 0 ? new RegExp(needles.map(escapeRegExp).join('|')) : undefined,
      run: key === 'contains+run' ? Math.min(...members.map((m) => m.d.run as number)) : undefined,
      members,
    });
  }
  return groups;
}
