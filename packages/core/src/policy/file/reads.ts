/**
 * Which argument values a condition reads, found in its syntax tree at load. `policy test`
 * replays recorded (masked) calls; it needs to know when a value a rule depends on was masked,
 * so it can say "cannot decide" instead of guessing. A static answer over-approximates what one
 * evaluation touches, which is the safe direction for that question.
 */

/** What a condition reads. Paths are dotted argument paths; '' is the whole arguments. */
export interface ConditionReads {
  readonly argPaths: readonly string[];
  /** Reads a fact derived from every string argument (facts.emails, .paths). */
  readonly allStrings: boolean;
  /** Reads a fact derived from every string and number argument (all of facts, facts.numbers, facts.urls). */
  readonly allLeaves: boolean;
  /** References `facts` at all: facts are computed only for rules that need them. */
  readonly facts: boolean;
}

interface Node {
  op: string;
  args: unknown;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as { op?: unknown }).op === 'string' && 'args' in v;
}

function childNodes(args: unknown, out: Node[]): void {
  if (isNode(args)) out.push(args);
  else if (Array.isArray(args)) for (const a of args) childNodes(a, out);
}

const ACCESS = new Set(['.', '.?', '[]', '[?]']);

/** The access chain ending at `node`: root variable and literal segments; dynamic indexes are walked apart. */
function chain(node: Node, dynamic: Node[]): { root: string; segs: string[] } | undefined {
  if (node.op === 'id') return typeof node.args === 'string' ? { root: node.args, segs: [] } : undefined;
  if (!ACCESS.has(node.op) || !Array.isArray(node.args)) return undefined;
  const [obj, key] = node.args as [unknown, unknown];
  if (!isNode(obj)) return undefined;
  const inner = chain(obj, dynamic);
  if (!inner) {
    dynamic.push(obj);
    return undefined;
  }
  if (node.op === '.' || node.op === '.?') {
    if (typeof key === 'string') inner.segs.push(key);
    return inner;
  }
  if (isNode(key) && key.op === 'value' && (typeof key.args === 'string' || typeof key.args === 'bigint')) {
    inner.segs.push(String(key.args));
    return inner;
  }
  // args[someExpression]: the whole of what is indexed may be read.
  if (isNode(key)) dynamic.push(key);
  return inner;
}

export function conditionReads(ast: unknown): ConditionReads {
  const argPaths = new Set<string>();
  let allStrings = false;
  let allLeaves = false;
  let facts = false;
  const record = (root: string, segs: string[]): void => {
    if (root === 'args') argPaths.add(segs.join('.'));
    else if (root === 'facts') {
      facts = true;
      const [kind, key] = segs;
      // URLs come from numbers too (`{host: 2130706433}`), so they read every leaf.
      if (kind === 'emails' || kind === 'paths') allStrings = true;
      else if ((kind === 'numbers' || kind === 'fields') && key !== undefined) argPaths.add(key);
      else allLeaves = true;
    }
  };
  const stack: Node[] = isNode(ast) ? [ast] : [];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.op === 'id' || ACCESS.has(node.op)) {
      const dynamic: Node[] = [];
      const c = chain(node, dynamic);
      if (c) record(c.root, c.segs);
      stack.push(...dynamic);
      if (c || dynamic.length > 0) continue;
    }
    childNodes(node.args, stack);
  }
  return { argPaths: [...argPaths], allStrings, allLeaves, facts };
}
