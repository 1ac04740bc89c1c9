/**
 * What a replayed condition read, in one vocabulary: an argument path, every argument value
 * (a whole-list fact such as `facts.emails` is computed from every string argument, and a
 * masked address yields no fact at all), or a run identity path. Two sources: the evaluator's
 * `trace.read(path)` reports, and the condition's own text (a superset, so that a fact the
 * trace does not attribute to an argument still counts as read: never guess).
 */

export type Read = { on: 'args'; path: string } | { on: 'all' } | { on: 'run'; path: string };

const LIST_FACTS = new Set(['emails', 'urls', 'paths', 'numbers']);
const FIELD_FACTS = new Set(['emails', 'urls', 'paths']);

/** A path as `trace.read` reported it: `to`, `args.to`, `facts.fields.to.emails`, `facts.emails`, `run.principal.id`. */
export function traceRead(path: string): Read {
  if (path === 'args') return { on: 'args', path: '' };
  if (path.startsWith('args.')) return { on: 'args', path: path.slice(5) };
  if (path === 'run' || path.startsWith('run.')) return { on: 'run', path };
  if (path === 'facts') return { on: 'all' };
  if (path.startsWith('facts.')) {
    const rest = path.slice(6).split('.');
    const [fact, ...sub] = rest;
    if (fact === 'fields' && sub.length > 0) {
      if (sub.length > 1 && FIELD_FACTS.has(sub[sub.length - 1] as string)) sub.pop();
      return { on: 'args', path: sub.join('.') };
    }
    if (fact === 'numbers' && sub.length > 0) return { on: 'args', path: sub.join('.') };
    if (fact !== undefined && (LIST_FACTS.has(fact) || fact === 'fields')) return { on: 'all' };
  }
  return { on: 'args', path };
}

// `args.a.b`, `args['a'][0]`, `facts.fields["to"]`, `run.principal.id`: a root word and its member chain.
const ROOT = /\b(args|facts|run)\b/g;
const MEMBER = /^\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\d+))\s*\])/;

function chainAt(text: string, from: number): { segs: string[]; call: boolean } {
  const segs: string[] = [];
  let rest = text.slice(from);
  for (;;) {
    const m = MEMBER.exec(rest);
    if (!m) break;
    const seg = (m[1] ?? m[2] ?? m[3] ?? m[4]) as string;
    const after = rest.slice(m[0].length);
    // `.exists(`, `.size(`, `.startsWith(`: a method or macro on the value so far, not a member.
    if (m[1] !== undefined && /^\s*\(/.test(after)) return { segs, call: true };
    segs.push(seg);
    rest = after;
  }
  return { segs, call: false };
}

/** Everything a condition's text can read (a superset of one evaluation's reads). */
export function conditionReads(when: string): Read[] {
  const text = stripStrings(when);
  const reads: Read[] = [];
  for (const m of text.matchAll(ROOT)) {
    const at = m.index as number;
    // A member named like a root (`x.args`) is not the variable.
    if (/\.\s*$/.test(text.slice(0, at))) continue;
    const { segs } = chainAt(when, at + (m[1] as string).length);
    const root = m[1] as string;
    if (root === 'args') reads.push({ on: 'args', path: segs.join('.') });
    else if (root === 'run') reads.push({ on: 'run', path: ['run', ...segs].join('.') });
    else reads.push(traceRead(['facts', ...segs].join('.')));
  }
  return reads;
}

/** The text with string literals blanked (same length), so `'args'` in a literal is not a read. */
function stripStrings(s: string): string {
  return s.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, (q) => q[0] + ' '.repeat(q.length - 2) + q[0]);
}
