/**
 * What a value detector is: its id (the kind it records), the cheap gate a string must pass
 * before its pattern runs, the pattern, and the validator that turns "looks like" into "is".
 * The catalog files beside this one hold the built-in detectors; see docs/masking.md.
 */
import { digitsOf } from './checks.js';

/** `redact`: `[REDACTED:kind]`. `hash`: `[kind:hmac12]`, equal values correlate. `partial`: `****4242`. */
export type MaskStrategy = 'redact' | 'hash' | 'partial';

/**
 * The cheap test a string must pass before a detector's pattern runs on it. Most strings a
 * tool sees fail every gate, and a gate costs one indexOf or one short regex test.
 */
export type Gate = 'at' | 'url' | 'digits' | 'dotDigit' | 'colon' | 'iban' | 'long' | 'contains' | 'literal' | 'always';

export interface DetectorDef {
  readonly id: string;
  readonly strategy: MaskStrategy;
  readonly gate: Gate;
  /**
   * For gate `literal`: prefixes (case-sensitive) one of which every match starts with. These
   * detectors find tokens, so a match is also a run of at least `minLength` characters
   * without a space, and text without such a run is not searched at all.
   */
  readonly literals?: readonly string[];
  /** For gate `contains`: substrings one of which every match contains (found with indexOf). */
  readonly needles?: readonly string[];
  /**
   * For gate `contains`: every match holds a run of at least this many characters without a
   * space (the token behind a label). Prose without such a run is not searched for the needles
   * at all: a needle regex of many alternatives costs more per character than the run check.
   */
  readonly run?: number;
  /**
   * For gate `contains`: one character every match holds (`=` of an assignment), looked for with
   * indexOf before the needles; such detectors form a group behind that test.
   */
  readonly requires?: string;
  /** The shortest match the pattern can produce: shorter strings are not searched. */
  readonly minLength: number;
  /** Global; with the `d` flag when `group` is set. */
  readonly pattern?: RegExp;
  /** Mask only this capture group (the token after `Bearer `, the userinfo of a URL). */
  readonly group?: number;
  /** A user detector that finds spans itself (an NER model, say). */
  readonly find?: (text: string) => Iterable<{ start: number; end: number }>;
  /** Confirms a match; a span confirms only that part of it (offsets within the match). */
  readonly validate?: (match: string) => boolean | { start: number; end: number };
  /** What a hash token is computed over, so `Bob@Example.com` and `bob@example.com` correlate. */
  readonly canonical?: (match: string) => string;
  readonly partial?: (match: string) => string;
  /**
   * Matches of these kinds that start inside one of this detector's matches are dropped: the
   * secret is already covered, and merging would also mask what follows (a URL's host).
   */
  readonly suppresses?: readonly string[];
  /** Built-in detectors have a fixed catalog entry; user ones do not. */
  readonly builtin: boolean;
}

export const lastFourDigits = (m: string): string => `****${digitsOf(m).slice(-4)}`;
export const lowerCase = (m: string): string => m.toLowerCase();
export const digitsOnly = (m: string): string => digitsOf(m);
export const phoneCanonical = (m: string): string => (m.startsWith('+') ? '+' : '') + digitsOf(m);
export const noSpaces = (m: string): string => m.replace(/ /g, '');

/** Generic partial form: the last four characters of a long value, nothing of a short one. */
export function partialTail(m: string): string {
  return m.length >= 12 ? `****${m.slice(-4)}` : '****';
}

export function def(d: Omit<DetectorDef, 'builtin'>): DetectorDef {
  return Object.freeze({ ...d, builtin: true });
}

