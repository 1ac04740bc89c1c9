// The encoded forms a secret is planted in for the normalisation tests (property and e2e), and
// the reader's check that no form of a needle survives: the output as a person or a script
// would decode it (percent-decoding, NFKC, invisibles removed, base64 runs decoded).
import type { Planted } from './fixtures/secrets-corpus.js';

export type Form = 'plain' | 'url' | 'url_all' | 'fullwidth' | 'zerowidth' | 'base64' | 'base64url';
export const FORMS: readonly Form[] = ['plain', 'url', 'url_all', 'fullwidth', 'zerowidth', 'base64', 'base64url'];
/** The forms a key name can take (base64 turns a name into data, not a name). */
export const KEY_FORMS: readonly Form[] = ['plain', 'url_all', 'fullwidth', 'zerowidth'];

/** Shortest base64 run the scanner decodes (base64-text.ts): 15 characters before the padding. */
const BASE64_MIN_RUN = 15;
const INVISIBLES = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\u180E', '\u202E'];

/**
 * Entries that cannot take a form, each with its reason; looked up by `kind:form`. Everything
 * else in DETECTED is planted in every form (new families join automatically).
 */
export const FORM_EXCLUSIONS: ReadonlyMap<string, string> = new Map<string, string>([]);

/** The value as it must be planted: inside its context (a label) when it has one. */
export function filled(p: Planted): string {
  return p.context === undefined ? p.value : p.context.replace('{}', p.value);
}

/** Why `p` is not planted in `form`, or undefined when it is. */
export function excluded(p: Planted, form: Form): string | undefined {
  const listed = FORM_EXCLUSIONS.get(`${p.kind}:${form}`);
  if (listed !== undefined) return listed;
  if ((form === 'base64' || form === 'base64url') && formOf(form, filled(p)).replace(/=+$/, '').length < BASE64_MIN_RUN) {
    return `under ${BASE64_MIN_RUN} base64 characters before the padding (10 bytes or less): too short a run to decode`;
  }
  return undefined;
}

/** `text` in `form`. Every form is lossless for a reader: percent, NFKC and invisibles undo it. */
export function formOf(form: Form, text: string, seed = 0): string {
  switch (form) {
    case 'url':
      return encodeURIComponent(text);
    case 'url_all':
      return [...Buffer.from(text)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    case 'fullwidth':
      return [...text].map((c) => (c === ' ' ? '\u3000' : c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
    case 'zerowidth':
      return [...text].map((c, i) => (i === 0 ? c : `${INVISIBLES[(i + seed) % INVISIBLES.length]}${c}`)).join('');
    case 'base64':
      return Buffer.from(text).toString('base64');
    case 'base64url':
      return Buffer.from(text).toString('base64url');
    default:
      return text;
  }
}

/** A key name in a form (plain keys, and those a rule must still match). */
export function keyFormOf(form: Form, key: string, seed = 0): string {
  return formOf(form, key, seed);
}

/** Every string in a JSON text, keys included. */
function stringsOf(json: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        walk(x);
      }
    }
  };
  try {
    walk(JSON.parse(json));
  } catch {
    out.push(json);
  }
  return out;
}

function percentDecoded(s: string): string {
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (seq) => {
    try {
      return decodeURIComponent(seq);
    } catch {
      return seq;
    }
  });
}

/** What a reader gets back from `s` by undoing every form. */
export function readerViews(s: string): string[] {
  const decoded = percentDecoded(s).normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '');
  const views = [s, decoded];
  for (const m of decoded.matchAll(/[A-Za-z0-9+/_-]{8,}={0,2}/g)) views.push(Buffer.from(m[0], 'base64').toString('utf8'));
  return views;
}

/** The needles (and their formed spellings) that survive in `json`, a masked JSON text or plain text. */
export function leaks(json: string, needles: readonly string[], planted: readonly string[] = []): string[] {
  const texts = json.startsWith('{') || json.startsWith('[') ? stringsOf(json) : [json];
  const found: string[] = [];
  for (const t of texts) {
    for (const p of planted) if (p.length >= 8 && t.includes(p)) found.push(p);
    for (const v of readerViews(t)) for (const n of needles) if (v.includes(n)) found.push(n);
  }
  return [...new Set(found)];
}
