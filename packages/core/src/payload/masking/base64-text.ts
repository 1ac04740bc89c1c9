/**
 * Base64 and base64url runs that decode to text. A secret base64-encoded into a config blob, a
 * header or a URL segment is text again once decoded; random bytes (keys, hashes, images) are
 * not, and almost always fail within the first few bytes, so the attempt is cheap.
 */

/**
 * Shortest run worth decoding: 15 characters, 11 bytes of text (an SSN with its dashes). The
 * literal gate's spaceless-run test is for runs this long too, so prose pays nothing here.
 */
export const BASE64_MIN_RUN = 15;

const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUES['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
VALUES[45] = 62; // '-' (base64url)
VALUES[95] = 63; // '_' (base64url)

/** Whether `c` is in either alphabet (`+/` or `-_`). */
function inAlphabet(c: number): boolean {
  return c < 128 && (VALUES[c] as number) >= 0;
}

/**
 * Start of the first run of at least `min` alphabet characters at or after `from`, or -1.
 * Looks backwards from the end of each window and jumps past the first character outside the
 * alphabet, so prose costs a few reads per word (a regex would try every position).
 */
export function findRun(s: string, from: number, min = BASE64_MIN_RUN): number {
  let p = from;
  const n = s.length;
  while (p + min <= n) {
    let i = p + min - 1;
    while (i >= p && inAlphabet(s.charCodeAt(i))) i--;
    if (i < p) return p;
    p = i + 1;
  }
  return -1;
}

const DECODER = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks decoded bytes as they come: well-formed UTF-8 (no overlongs, surrogates or C1
 * controls) and no C0 control other than tab, newline and carriage return.
 */
class TextCheck {
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;

  ok(b: number): boolean {
    if (this.need > 0) {
      if (b < this.lo || b > this.hi) return false;
      this.lo = 0x80;
      this.hi = 0xbf;
      this.need--;
      return true;
    }
    if (b < 0x80) return b >= 0x20 ? b !== 0x7f : b === 9 || b === 10 || b === 13;
    if (b >= 0xc2 && b <= 0xdf) {
      this.need = 1;
      if (b === 0xc2) this.lo = 0xa0; // U+0080-U+009F are C1 controls
    } else if (b >= 0xe0 && b <= 0xef) {
      this.need = 2;
      if (b === 0xe0) this.lo = 0xa0;
      else if (b === 0xed) this.hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      this.need = 3;
      if (b === 0xf0) this.lo = 0x90;
      else if (b === 0xf4) this.hi = 0x8f;
    } else return false;
    return true;
  }

  get complete(): boolean {
    return this.need === 0;
  }
}

/** The text `run` (one alphabet, optional padding) encodes, or undefined when it is not text. */
export function decodeBase64Text(run: string): string | undefined {
  let end = run.length;
  while (end > 0 && run.charCodeAt(end - 1) === 61) end--;
  const rem = end % 4;
  if (rem === 1 || end < BASE64_MIN_RUN) return undefined;
  let std = false;
  let url = false;
  const bytes = new Uint8Array(Math.floor((end * 3) / 4));
  const check = new TextCheck();
  let acc = 0;
  let bits = 0;
  let k = 0;
  for (let i = 0; i < end; i++) {
    const c = run.charCodeAt(i);
    const v = c < 128 ? VALUES[c] as number : -1;
    if (v < 0) return undefined;
    if (c === 43 || c === 47) std = true;
    else if (c === 45 || c === 95) url = true;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      const b = (acc >> bits) & 0xff;
      if (!check.ok(b)) return undefined;
      bytes[k++] = b;
    }
  }
  // Mixed alphabets are no encoding; leftover bits must be zero in canonical base64.
  if ((std && url) || (acc & ((1 << bits) - 1)) !== 0 || !check.complete) return undefined;
  try {
    return DECODER.decode(bytes.subarray(0, k));
  } catch {
    return undefined;
  }
}

/**
 * The runs of `s` that decode to text, as [start, end, text]. A run that fails whole is tried
 * per `/`-separated segment: a URL path ending in a base64url segment is one run with it.
 */
export function base64TextRuns(s: string): [number, number, string][] | undefined {
  let out: [number, number, string][] | undefined;
  const n = s.length;
  let start = findRun(s, 0);
  while (start !== -1) {
    let end = start + BASE64_MIN_RUN;
    while (end < n && inAlphabet(s.charCodeAt(end))) end++;
    if (end < n && s.charCodeAt(end) === 61) end += end + 1 < n && s.charCodeAt(end + 1) === 61 ? 2 : 1;
    const run = s.slice(start, end);
    const text = decodeBase64Text(run);
    if (text !== undefined) (out ??= []).push([start, end, text]);
    else if (run.indexOf('/') !== -1) {
      let from = 0;
      while (from < run.length) {
        let to = run.indexOf('/', from);
        if (to === -1) to = run.length;
        if (to - from >= BASE64_MIN_RUN) {
          const seg = decodeBase64Text(run.slice(from, to));
          if (seg !== undefined) (out ??= []).push([start + from, start + to, seg]);
        }
        from = to + 1;
      }
    }
    start = findRun(s, end);
  }
  return out;
}
