/**
 * The `key=value` rule in text: assignments, headers and query parameters whose key a key-name
 * rule matches (`password=...`, `Authorization: Basic ...`, `?token=...`) have their value masked.
 */
import { extendBareValue, KEY_VALUE_PATTERN } from './catalog/builtin.js';
import { CLIENT_PASSWORD_FLAGS } from './catalog/client-flags.js';
import { LINE_VALUE_RULES, PROSE_WORD_RULES, type KeyMatcher } from './key-names.js';
import type { Region } from './render.js';

/** Whether `s` can hold an assignment, a header, an XML element, a command-line flag or a .netrc entry at all. */
export function mayHoldKeyValue(s: string): boolean {
  // A .netrc entry has `password` in it, after `machine <host>` or `default`.
  if (s.indexOf('=') !== -1 || s.indexOf(':') !== -1 || s.indexOf('password') !== -1) return true;
  // One-character searches first: a two-character needle starting with a space is tested at
  // every word of prose (it cost a fifth of masking a paragraph).
  const lt = s.indexOf('<');
  if (lt !== -1 && s.indexOf('</', lt) !== -1) return true;
  // A flag (`--password`, `-storepass`), by the flag pattern's own start: after a quote or a
  // bracket too, not only after a space.
  return mayHoldFlag(s);
}

const isLetter = (lower: number): boolean => lower >= 97 && lower <= 122;
const isWordOrDash = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;

/**
 * Whether FLAG_VALUE can match at all: a `-` with no word character or `-` before it, then a
 * letter, or a second `-` and a letter (its `(?<![\w-])--?[A-Za-z]`), checked without the regex.
 */
export function mayHoldFlag(s: string): boolean {
  for (let i = s.indexOf('-'); i !== -1; i = s.indexOf('-', i + 1)) {
    if (i > 0 && isWordOrDash(s.charCodeAt(i - 1))) continue;
    const next = s.charCodeAt(i + 1);
    if (isLetter(next | 0x20) || (next === 45 && isLetter(s.charCodeAt(i + 2) | 0x20))) return true;
  }
  return false;
}

// `<password>value</password>` (the element's name is the key), also as CDATA; bounded, linear.
const XML_ELEMENT = /<([A-Za-z][\w.-]{0,63})(?:\s[^<>]{0,256})?>(?:<!\[CDATA\[([\s\S]{1,1024}?)\]\]>|([^<]{1,1024}))<\/\1\s*>/dg;
// `--password value`, `--password 'value'`, `-storepass value` (keytool, openssl, java): a
// flag, a space, its value.
export const FLAG_VALUE = /(?<![\w-])--?([A-Za-z][\w.-]{0,63})[ \t]+(?:'([^'\r\n]{0,1024})'|"([^"\r\n]{0,1024})"|([^\s'"-][^\s]{0,255}))/dg;

/**
 * A bare value cut at a space, with only more words after it on its line (`password: Hunter
 * Horse 77`), runs to the end of the line. Anything that could start another field stops it:
 * punctuation of assignments and lists, brackets, quotes, a command-line flag.
 */
function restOfLine(s: string, end: number): number {
  const c = s.charCodeAt(end);
  if (c !== 32 && c !== 9) return end;
  const cr = s.indexOf('\r', end);
  const lf = s.indexOf('\n', end);
  const stop = Math.min(cr === -1 ? s.length : cr, lf === -1 ? s.length : lf);
  const rest = s.slice(end, stop);
  if (/[=:,;&()[\]{}<>"'|]|\s-/.test(rest)) return end;
  let last = stop;
  while (last > end && (s.charCodeAt(last - 1) === 32 || s.charCodeAt(last - 1) === 9)) last--;
  return last;
}

// `<add key="DbPassword" value="..."/>` (.NET config, settings files), `<property
// name="password" value="..."/>` (Spring, Hibernate): the key or name attribute names it.
const KEY_ATTRIBUTE = /\b(?:key|name)[ \t]*=[ \t]*(["'])([^"'\r\n]{1,128})\1[ \t]+value[ \t]*=[ \t]*(["'])([^"'\r\n]{0,1024})\3/dg;
// `<entry key="password">...</entry>` (Java properties XML), `<param name="token">...</param>`.
const NAMED_ELEMENT = /<([A-Za-z][\w.-]{0,63})\s[^<>]{0,256}?\b(?:key|name)[ \t]*=[ \t]*(["'])([^"'<>\r\n]{1,128})\2[^<>]{0,256}>([^<]{1,1024})<\/\1\s*>/dg;

// A .netrc entry, on one line or several: `machine api.example login app password …`, or the
// `default` entry, which starts a line (inside a sentence, `default password` is prose).
const NETRC = /(?:\bmachine\s+\S{1,253}|(?<![^\r\n])[ \t]*default)(?:\s+(?:login|account|port)\s+\S{1,256}){0,3}\s+password\s+(\S{1,1024})/dg;
// A YAML list item naming its value (Kubernetes `env`): `- name: API_KEY` then `value: …`.
const NAME_THEN_VALUE = /\bname:[ \t]*(["']?)([A-Za-z][\w.-]{0,127})\1[ \t]*\r?\n[ \t]*value:[ \t]*(?:"([^"\r\n]{0,1024})"|'([^'\r\n]{0,1024})'|([^\s"'][^\r\n]{0,1023}))/dg;
// curl's `-u user:password` / `--user=user:password`: the password after the user's `:`.
const CURL_USER = /(?<![\w-])(?:-u|--user)(?:[ \t]+|=|(?=['"]))(['"]?)[^\s:'"]{1,256}:([^\s'"]{1,1024})\1/dg;
// The password flags of the clients agents run (catalog/client-flags.ts), one alternative per
// client and way: `mysql -p<pw>` glued, `redis-cli -a <pw>`, `smbclient -U user%<pw>`, with any
// other words between the client and the flag. A value: quoted, or up to the next space.
const V = `(?:'([^'\\r\\n]{1,1024})'|"([^"\\r\\n]{1,1024})"|([^\\s'"-][^\\s]{0,255}))`;
const REST = `[^\\r\\n|;&]{0,256}?[ \\t]`;
const clientForms: string[] = [];
let clientGroups = 0;
for (const c of CLIENT_PASSWORD_FLAGS) {
  const head = `(?:${c.names.join('|')})\\b${REST}`;
  if (c.glued !== undefined) clientForms.push(`${head}${c.glued}${V}`);
  if (c.next !== undefined) clientForms.push(`${head}${c.next}[ \\t]+${V}`);
  if (c.userPercent !== undefined) clientForms.push(`${head}${c.userPercent}[ \\t]*[^\\s%]{1,128}%([^\\s'"]{1,1024})`);
  clientGroups += (c.glued !== undefined ? 3 : 0) + (c.next !== undefined ? 3 : 0) + (c.userPercent !== undefined ? 1 : 0);
}
const CLIENT_PASSWORD = new RegExp(`\\b(?:${clientForms.join('|')})`, 'dg');
const CLIENT_GROUPS = Array.from({ length: clientGroups }, (_, i) => i + 1);
const CLIENT_NAME = new RegExp(CLIENT_PASSWORD_FLAGS.flatMap((c) => c.names).join('|'));

/**
 * Forms whose key is not in front of an `=`: the regex, its name group (or the rule its value
 * always falls under), its value groups, and a string it cannot match without.
 */
const NAMED_FORMS: readonly { re: RegExp; name: number | string; values: readonly number[]; needle: string; may?: (s: string) => boolean }[] = [
  { re: XML_ELEMENT, name: 1, values: [2, 3], needle: '</' },
  { re: NAMED_ELEMENT, name: 3, values: [4], needle: '</' },
  // Any `-` would let through every date, UUID and hyphenated word: test the flag's own start first.
  { re: FLAG_VALUE, name: 1, values: [2, 3, 4], needle: '-', may: mayHoldFlag },
  { re: KEY_ATTRIBUTE, name: 2, values: [4], needle: 'value' },
  { re: NETRC, name: 'password', values: [1], needle: 'password' },
  { re: NAME_THEN_VALUE, name: 2, values: [3, 4, 5], needle: 'value:' },
  { re: CURL_USER, name: 'password', values: [2], needle: '-u' },
  { re: CLIENT_PASSWORD, name: 'password', values: CLIENT_GROUPS, needle: ' -', may: (s) => CLIENT_NAME.test(s) },
];

/** Values of XML elements, `key=... value=...` pairs and command-line flags whose name a key-name rule matches. */
function findNamedValues(s: string, matcher: KeyMatcher, order: number, found: Region[] | undefined): Region[] | undefined {
  for (const { re, name, values, needle, may } of NAMED_FORMS) {
    if (s.indexOf(needle) === -1 || (may !== undefined && !may(s))) continue;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      const indices = m.indices as RegExpIndicesArray;
      const kind = matcher.match(typeof name === 'string' ? name : (m[name] as string));
      if (kind === undefined) {
        if (typeof name === 'number') re.lastIndex = (indices[name] as [number, number])[1];
        continue;
      }
      for (const g of values) {
        const span = indices[g];
        if (span !== undefined && span[1] > span[0]) (found ??= []).push({ start: span[0], end: span[1], kind, det: undefined, order });
      }
    }
  }
  return found;
}

// A YAML block scalar's key line: `password: |`, `  key: >-` (the indented lines below are the value).
const BLOCK_SCALAR = /^([ ]*)(?:- )?([A-Za-z][\w.-]{0,63}):[ \t]*[|>][+-]?[1-9]?[+-]?[ \t]*\r?$/dgm;

/** Values of YAML block scalars whose key a key-name rule matches. */
function findBlockScalars(s: string, matcher: KeyMatcher, order: number, found: Region[] | undefined): Region[] | undefined {
  BLOCK_SCALAR.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = BLOCK_SCALAR.exec(s)) !== null) {
    const kind = matcher.match(m[2] as string);
    if (kind === undefined) continue;
    const lineEnd = m.index + m[0].length;
    const end = blockEnd(s, (m[1] as string).length, lineEnd);
    if (end > lineEnd) (found ??= []).push({ start: lineEnd + 1, end, kind, det: undefined, order });
  }
  return found;
}

/** Where the lines after `lineEnd` (a newline) that are indented more than `indent` end. */
function blockEnd(s: string, indent: number, lineEnd: number): number {
  let last = lineEnd;
  for (let line = lineEnd + 1; line < s.length; ) {
    let nl = s.indexOf('\n', line);
    if (nl === -1) nl = s.length;
    let k = 0;
    while (s.charCodeAt(line + k) === 32) k++;
    const blank = line + k >= nl || (s.charCodeAt(line + k) === 13 && line + k + 1 >= nl);
    if (!blank && k <= indent) break;
    if (!blank) last = s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    line = nl + 1;
  }
  return last;
}

/** Whether `s` may hold a block scalar's key line at all. */
function mayHoldBlockScalar(s: string): boolean {
  const bar = s.indexOf('|');
  const gt = s.indexOf('>');
  return (bar !== -1 || gt !== -1) && s.indexOf('\n') !== -1;
}

/** `boarding pass: B42`: a bare, unquoted word before a `:` (no `=`), as prose writes it. */
function proseWord(s: string, m: RegExpExecArray, indices: RegExpIndicesArray): boolean {
  const key = m[2] as string;
  if ((m[1] as string).length > 0 || !/^[A-Z]?[a-z]+$/.test(key) || !PROSE_WORD_RULES.has(key.toLowerCase())) return false;
  const [, keyEnd] = indices[2] as [number, number];
  let valueStart = m.index + m[0].length;
  for (let g = 3; g <= 7; g++) if (indices[g] !== undefined) valueStart = (indices[g] as [number, number])[0];
  return s.slice(keyEnd, valueStart).indexOf('=') === -1;
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
      // Not a secret key: look again from the end of its name, so its value is searched too
      // (`url=https://x?token=...`), quote included: in `error: "password": "x"` the quoted
      // value of `error` is the next key.
      re.lastIndex = (indices[2] as [number, number])[1];
      continue;
    }
    if (PROSE_WORD_RULES.has(kind) && proseWord(s, m, indices)) {
      re.lastIndex = value[0] > m.index ? value[0] : m.index + 1;
      continue;
    }
    let [start, end] = value;
    if (indices[6] !== undefined) {
      if (end - start === 256) end = extendBareValue(s, end);
      // `password: Hunter Horse 77` (YAML, prose): a bare value with nothing key-like after it
      // on the line is taken to the line's end rather than cut at its first space.
      end = restOfLine(s, end);
    }
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
  found = findNamedValues(s, matcher, order, found);
  return mayHoldBlockScalar(s) ? findBlockScalars(s, matcher, order, found) : found;
}
