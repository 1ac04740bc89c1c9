// Policy file cost: one CEL check, the facts of a send_email call, and a whole file decision,
// against the same rule written as a TypeScript predicate. Synchronous work, timed in a sync
// loop (an await per call would cost more than the check), variants interleaved per round.
import { compilePolicy, evaluatePolicyDocument, parsePolicyDocument, policyFacts } from '@tooltrail/core/policy';
import { fmt, median } from './lib.mjs';

const POLICY = `
id: bench
default: allow
rules:
  - id: strip-bcc
    tools: [send_email]
    decide: rewrite
    remove: [bcc]
  - id: mail-inside-company
    tools: ["send_email", "mail.*"]
    when: "facts.emails.exists(e, !inDomain(e.domain, 'example.com'))"
    decide: deny
    reason: mail leaves example.com
  - id: large-transfer
    tools: [transfer]
    when: "args.amount > 1000.0"
    decide: ask
`;

function args(i) {
  return {
    to: `customer.${i % 50}@example.com, Account Manager <am.${i % 7}@example.com>`,
    cc: [`support@example.com`],
    subject: `Your refund for order #${48_000 + (i % 1000)} has been processed`,
    body: 'Hello Dana,\n\nwe processed the refund of EUR 129.90 for your order on 2026-11-21. Reply to this message if anything looks wrong.\n\nKind regards,\nThe support team',
    priority: 3,
    metadata: { ticketId: `T-${1000 + (i % 500)}`, locale: 'en-GB', url: 'https://support.example.com/t/1' },
  };
}

/** The rule as a developer writes it in code: every address in to and cc, domain compared. */
function predicate(a) {
  const list = [a.to, ...(a.cc ?? [])].join(',');
  for (const part of list.split(/[,;\s<>]+/)) {
    const at = part.lastIndexOf('@');
    if (at < 0) continue;
    const d = part.slice(at + 1).toLowerCase().replace(/\.$/, '');
    if (d !== 'example.com' && !d.endsWith('.example.com')) return 'deny';
  }
  return 'allow';
}

function time(fn, iterations) {
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < iterations; i++) if (fn(i) !== undefined) sink++;
  const us = Number(process.hrtime.bigint() - t0) / 1_000 / iterations;
  if (sink < 0) console.log(sink);
  return us;
}

export async function benchPolicy({ rounds = 25, iterations = 20_000, warmup = 3 } = {}) {
  const policy = compilePolicy(parsePolicyDocument(POLICY, 'yaml'));
  const mail = policy.rules.find((r) => r.id === 'mail-inside-company');
  const inputs = Array.from({ length: 64 }, (_, i) => args(i));
  const contexts = inputs.map((a) => ({ tool: 'send_email', args: a, facts: policyFacts(a) }));
  const run = { principal: { id: 'u', type: 'user' }, agent: { name: 'support' }, runId: 'r' };
  const variants = {
    'TypeScript predicate (to + cc domains)': (i) => predicate(inputs[i & 63]),
    'CEL check alone (facts precomputed)': (i) => mail.condition(contexts[i & 63]),
    'facts of the call (emails, URLs, paths, numbers, fields)': (i) => policyFacts(inputs[i & 63]),
    'whole file decision, send_email (rewrite + facts + CEL)': (i) => evaluatePolicyDocument(policy, { tool: 'send_email', args: inputs[i & 63], run }).kind,
    'whole file decision, transfer (CEL on args, no facts)': (i) => evaluatePolicyDocument(policy, { tool: 'transfer', args: { amount: 10 + (i & 63) }, run }).kind,
    'whole file decision, tool no rule matches': (i) => evaluatePolicyDocument(policy, { tool: 'search', args: inputs[i & 63], run }).kind,
  };
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < rounds + warmup; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      if (global.gc) global.gc();
      const us = time(fn, iterations);
      if (r >= warmup) samples[name].push(us);
    }
  }
  const base = median(samples['TypeScript predicate (to + cc domains)']);
  const rows = [['variant', 'µs per call', 'vs TypeScript predicate']];
  for (const [name, xs] of Object.entries(samples)) {
    const m = median(xs);
    rows.push([name, fmt(m), `${(m / base).toFixed(1)}x`]);
  }
  return {
    title: 'Policy file: CEL and whole decisions vs a TypeScript predicate',
    rows,
    notes: [`median of ${rounds} interleaved rounds of ${iterations} calls; a ~300-byte send_email argument object, 64 distinct inputs.`],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { table } = await import('./lib.mjs');
  const r = await benchPolicy();
  console.log(`## ${r.title}\n\n${table(r.rows)}\n\n${r.notes.join('\n')}`);
}
