/**
 * The built-in detector catalog, in naming order: where matches of two detectors overlap, the
 * region is masked as a whole under the kind of the one that starts first (or comes first here
 * on a tie). Credentials come before personal data.
 */
import { CREDENTIAL_DETECTORS, GENERIC_SECRET_DETECTORS } from './credentials.js';
import type { DetectorDef } from './detector-def.js';
import { GOV_ID_DETECTORS } from './gov-ids.js';
import { PERSONAL_DETECTORS } from './personal.js';
import { INFRA_TOKEN_DETECTORS } from './tokens-infra.js';
import { SERVICE_TOKEN_DETECTORS } from './tokens-services.js';

export const BUILTIN_DETECTORS: readonly DetectorDef[] = Object.freeze([
  ...CREDENTIAL_DETECTORS,
  ...INFRA_TOKEN_DETECTORS,
  ...SERVICE_TOKEN_DETECTORS,
  ...GOV_ID_DETECTORS,
  ...PERSONAL_DETECTORS,
  ...GENERIC_SECRET_DETECTORS,
]);

export const BUILTIN_DETECTOR_IDS: ReadonlySet<string> = new Set(BUILTIN_DETECTORS.map((d) => d.id));

/**
 * Secrets written as `key=value` or `"key": "value"` in free text (an error message quoting a
 * connection string, a log line, JSON that does not parse). The key must match a key-name
 * rule; its value is masked under that rule's kind. Not a catalog entry: its kind varies.
 */
export const KEY_VALUE_DETECTOR_ID = 'key_value';

// Key, optionally quoted (also as \" inside JSON held in a string), then : or =, then the
// value: double-quoted, escaped-quoted, single-quoted, or bare up to a delimiter. Every value
// form is bounded: an unbounded bare value made `a=a=a=...` quadratic (each key that is not a
// rule is searched again from its value's start). A bare value longer than the bound is
// extended to its real end once its key matched a rule (extendBareValue); a quoted value over
// the bound or never closed (group 7: `password="abc…[truncated]`) runs to its closing quote or
// the end of the line.
//
// Also (issue 12 hostile review): a CLI flag's key (`--password=x`, `-token=x`: a `-` counts as
// part of a longer key only after a word character), a bracketed form field (`user[password]=x`),
// quotes escaped more than once (`\\\"password\\\": \\\"x\\\"`, JSON logged inside JSON), `=>` and
// `:=` as the assignment; `==`/`===` compare and assign nothing (`token == null` stays).
export const KEY_VALUE_PATTERN =
  /(?<![\w.\\]|[\w.[\\]-)(\\{0,7}["']?)([A-Za-z][A-Za-z0-9_.-]{0,63})\1\]?[ \t]*(?:=>|:=|[:=](?!=))[ \t]*(?:"((?:[^"\\\r\n]|\\.){0,1024})"|\\+"((?:[^"\\]|\\+[^"\\]){0,1024})\\+"|'([^'\r\n]{0,1024})'|([^\s,;&"'<>)\]}]{1,256})|"([^"\r\n]+))/dg;

const BARE_VALUE_STOP = /[\s,;&"'<>)\]}]/g;

/** The end of a bare `key=value` value that starts at `start` and was cut at the pattern's bound. */
export function extendBareValue(s: string, end: number): number {
  BARE_VALUE_STOP.lastIndex = end;
  const m = BARE_VALUE_STOP.exec(s);
  return m === null ? s.length : m.index;
}
