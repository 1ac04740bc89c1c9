/** Tool-name globs: `*` any run of characters (dots included), `?` exactly one; nothing else is special. */

export type ToolMatcher = (tool: string) => boolean;

function escape(ch: string): string {
  return /[\\^$.|+()[\]{}*?]/.test(ch) ? `\\${ch}` : ch;
}

/** One matcher for all of a rule's patterns: exact names in a Set, the rest in one anchored regex. */
export function toolMatcher(patterns: readonly string[]): ToolMatcher {
  const exact = new Set<string>();
  const globs: string[] = [];
  for (const p of patterns) {
    if (p === '*') return () => true;
    if (!p.includes('*') && !p.includes('?')) {
      exact.add(p);
      continue;
    }
    let re = '';
    for (const ch of p) re += ch === '*' ? '.*' : ch === '?' ? '.' : escape(ch);
    globs.push(re);
  }
  // `s` flag: a tool name with a newline must not slip past `.`; `u`: `?` is one code point.
  const regex = globs.length > 0 ? new RegExp(`^(?:${globs.join('|')})$`, 'su') : undefined;
  if (regex === undefined) return (tool) => exact.has(tool);
  return (tool) => exact.has(tool) || regex.test(tool);
}
