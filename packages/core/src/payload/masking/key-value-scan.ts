/**
 * The `key=value` rule in text: assignments, headers and query parameters whose key a key-name
 * rule matches (`password=...`, `Authorization: Basic ...`, `?token=...`) have their value masked.
 */
import { extendBareValue, KEY_VALUE_PATTERN } from './catalog/builtin.js';
import { LINE_VALUE_RULES, type KeyMatcher } from './key-names.js';
import type { Region } from './render.js';

/** Whether `s` can hold an assignment or a header at all. */
export function mayHoldKeyValue(s: string): boolean {
  return s.indexOf('=') !== -1 || s.indexOf(':') !== -1;
}

/** The values in `s` whose keys `matcher` names, added to `found`; `order` ranks them after every detector. */
export function findKeyValues(s: string, matcher: KeyMatcher, order: number, found: Region[] | undefined): Region[] | undefined {
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
    if (end > start) (found ??= []).push({ start, end, kind, det: undefined, order });
    if (re.lastIndex < end) re.lastIndex = end;
  }
  return found;
}
