/**
 * Underscores at the edge of a word (`_dana@example.org_` in Markdown, `__ghp_…__`, `_536-22-1234`)
 * are word characters to a pattern, so a detector bounded by `\b` or by "no word character
 * before" does not see the value they wrap. The scanner also reads a copy with those underscores
 * blanked: same length, so its regions are the original's.
 */

/** Letters, digits and the punctuation tokens are made of (`-_` inside a base64url body is no edge). */
const inToken = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 43 || c === 47 || c === 61 || c === 126;

/** Whether `i` (a `_`) starts or ends a run of underscores that touches a non-token character or an end. */
function edgeAt(s: string, i: number): [number, number] | undefined {
  let j = i;
  while (j < s.length && s.charCodeAt(j) === 95) j++;
  const before = i === 0 ? -1 : s.charCodeAt(i - 1);
  const after = j === s.length ? -1 : s.charCodeAt(j);
  return inToken(before) && inToken(after) ? undefined : [i, j];
}

/** `s` with its edge underscores replaced by spaces, or undefined when it has none. */
export function blankWordEdges(s: string): string | undefined {
  let out: string | undefined;
  let pos = 0;
  for (let i = s.indexOf('_'); i !== -1; ) {
    const run = edgeAt(s, i);
    let j = i + 1;
    while (j < s.length && s.charCodeAt(j) === 95) j++;
    if (run !== undefined) {
      out = (out ?? '') + s.slice(pos, i) + ' '.repeat(j - i);
      pos = j;
    }
    i = s.indexOf('_', j);
  }
  return out === undefined ? undefined : out + s.slice(pos);
}
