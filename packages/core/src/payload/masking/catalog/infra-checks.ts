/**
 * Validators for the infrastructure token detectors: structural checks (base64 of an exact
 * byte length, bech32 checksums, fixed bits of NuGet keys) and a cheap entropy floor, so a
 * prefix followed by zeros, a placeholder or a word stays visible.
 */

/** Shannon entropy in bits per character: random hex is near 4, random base62 near 5.9. */
export function entropy(s: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** A validator: the part after the first `skip` characters has at least `bits` of entropy. */
export function randomAfter(skip: number, bits: number): (m: string) => boolean {
  return (m) => entropy(m.slice(skip)) >= bits;
}

/**
 * `s` is the canonical base64 (or base64url) encoding of exactly `bytes` bytes: right length,
 * right padding, and the unused low bits of the last character zero, which random text of the
 * same length almost never has.
 */
export function base64OfBytes(s: string, bytes: number): boolean {
  const url = s.includes('-') || s.includes('_');
  const buf = Buffer.from(s, url ? 'base64url' : 'base64');
  if (buf.length !== bytes) return false;
  const again = buf.toString(url ? 'base64url' : 'base64');
  return again === s || again.replace(/=+$/, '') === s;
}

/** Percent-decoding of the three characters base64 puts in a URL, nothing else. */
export function decodeBase64Escapes(s: string): string {
  return s.indexOf('%') === -1 ? s : s.replace(/%2[Bb]/g, '+').replace(/%2[Ff]/g, '/').replace(/%3[Dd]/g, '=');
}

const BECH32_ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** The BIP-173 checksum polynomial over `values` (the hrp expansion, data and checksum). */
export function bech32Polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GEN[i] as number;
  }
  return chk >>> 0;
}

export function bech32HrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >>> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

/** A bech32 string (any case, not mixed) whose checksum holds: age keys carry one. */
export function bech32Valid(s: string): boolean {
  const lower = s.toLowerCase();
  if (lower !== s && s.toUpperCase() !== s) return false;
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || lower.length - sep < 7) return false;
  const data: number[] = [];
  for (let i = sep + 1; i < lower.length; i++) {
    const v = BECH32_ALPHABET.indexOf(lower[i] as string);
    if (v === -1) return false;
    data.push(v);
  }
  return bech32Polymod([...bech32HrpExpand(lower.slice(0, sep)), ...data]) === 1;
}

export { BECH32_ALPHABET };

/**
 * A NuGet API key: `oy2` and 43 base32 characters (lowercase) encoding 32 bytes whose version
 * and padding bits fix the characters at a few positions. Checking them rejects a random
 * `oy2...` string 999 times in 1000.
 */
export function nugetKeyValid(m: string): boolean {
  if (m.length !== 46 || !m.startsWith('oy2')) return false;
  const within = (i: number, set: string) => set.includes(m[i] as string);
  return (
    within(3, 'abcdefghijklmnop') &&
    within(19, 'aq') &&
    within(31, 'eu') &&
    within(32, 'bdfhjlnprtvxz357') &&
    within(33, 'abcdefghijklmnop') &&
    within(45, 'aeimquy4')
  );
}

/** Mixed case and a digit, as in checks.ts, for bodies that must look random. */
export function mixedAlnum(s: string): boolean {
  return /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s);
}
