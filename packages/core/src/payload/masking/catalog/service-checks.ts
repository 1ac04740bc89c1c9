/**
 * Validators for the service token detectors: structural checks that a prefix plus a length
 * cannot make on their own (a random body, a decoded id, a decoded JSON header).
 */

/** Upper- and lowercase letters: a random base62 body has both, a word or a hex digest does not. */
export function mixedCase(s: string): boolean {
  let upper = false;
  let lower = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) upper = true;
    else if (c >= 97 && c <= 122) lower = true;
    if (upper && lower) return true;
  }
  return false;
}

/**
 * Hex digits with both a digit and a letter among the last `n` characters of `m`: a random
 * hex key almost always has both; `SK` before 32 zeros or a run of `f`s is not a key.
 */
export function hexTail(n: number): (m: string) => boolean {
  return (m) => {
    let digit = false;
    let letter = false;
    for (let i = m.length - n; i < m.length; i++) {
      const c = m.charCodeAt(i) | 0x20;
      if (c >= 48 && c <= 57) digit = true;
      else if (c >= 97 && c <= 102) letter = true;
      else return false;
    }
    return digit && letter;
  };
}

/** `mixedCase` on what follows the first `skip` characters (the prefix). */
export function randomAfter(skip: number): (m: string) => boolean {
  return (m) => mixedCase(m.slice(skip));
}

/** Mixed case and a digit after the prefix: for bodies long enough that a key has all three. */
export function randomWithDigitAfter(skip: number): (m: string) => boolean {
  return (m) => {
    const body = m.slice(skip);
    return mixedCase(body) && /[0-9]/.test(body);
  };
}

/**
 * A Discord bot token: its first segment is the bot's user id (a snowflake of 17-20 digits)
 * in base64, so a dotted base64 triple that merely starts with `MT` or `OD` is not one.
 */
export function discordTokenValid(m: string): boolean {
  const dot = m.indexOf('.');
  if (dot < 0) return false;
  const id = Buffer.from(m.slice(0, dot), 'base64').toString('latin1');
  return /^[1-9][0-9]{16,19}$/.test(id);
}

/**
 * A token whose body (after `skip` characters, up to the first `.` or `_` at or after `stop`)
 * is base64 of a JSON object: Grafana Cloud tokens (`glc_`), Grafana's legacy keys, Sentry
 * organisation tokens. Decoding proves the structure a random-looking run may only imitate.
 */
export function base64JsonAfter(skip: number, stop?: string): (m: string) => boolean {
  return (m) => {
    let body = m.slice(skip);
    if (stop !== undefined) {
      const at = body.lastIndexOf(stop);
      if (at > 0) body = body.slice(0, at);
    }
    const text = Buffer.from(body, 'base64').toString('latin1');
    return text.startsWith('{"') && /^[\x20-\x7e]+$/.test(text.slice(0, Math.min(text.length, 24)));
  };
}
