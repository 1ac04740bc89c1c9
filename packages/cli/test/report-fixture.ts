import { randomBytes } from 'node:crypto';
import type { TrailAttributes, TrailSpan } from '../src/trail/record.js';
import { requestLines } from '../src/trail/request-lines.js';
import { TrailWriter } from '../src/trail/writer.js';

/** What a test says about one call; the rest is filled in as the auditor would record it. */
export interface FakeCall {
  tool: string;
  at: Date | number;
  outcome?: 'ok' | 'error' | 'denied' | 'invalid' | 'pending_approval';
  durationMs?: number;
  agent?: string;
  principal?: string;
  runId?: string;
  traceId?: string;
  rule?: string;
  reason?: string;
  attempts?: number;
  errorType?: string;
  args?: string;
  policyId?: string;
  policyVersion?: string;
  service?: string;
  extra?: TrailAttributes;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export function callSpan(c: FakeCall): TrailSpan {
  const outcome = c.outcome ?? 'ok';
  const startMs = typeof c.at === 'number' ? c.at : c.at.getTime();
  const start = BigInt(Math.round(startMs)) * 1_000_000n;
  const end = start + BigInt(Math.round((c.durationMs ?? 12) * 1e6));
  const a: TrailAttributes = {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': c.tool,
    'gen_ai.tool.call.id': `call_${hex(12)}`,
    'gen_ai.tool.type': 'function',
    'gen_ai.tool.call.arguments': c.args ?? '{}',
    'tooltrail.outcome': outcome,
    'tooltrail.attempts': c.attempts ?? (outcome === 'ok' || outcome === 'error' ? 1 : 0),
  };
  if (outcome === 'denied') {
    a['tooltrail.decision'] = 'deny';
    a['error.type'] = 'tooltrail.denied';
  } else if (outcome === 'invalid') {
    a['error.type'] = 'tooltrail.invalid_arguments';
  } else if (outcome !== 'pending_approval') {
    a['tooltrail.decision'] = 'allow';
  }
  if (outcome === 'error') a['error.type'] = c.errorType ?? 'Error';
  if (c.rule !== undefined) a['tooltrail.policy.rule'] = c.rule;
  if (c.reason !== undefined) a['tooltrail.policy.reason'] = c.reason;
  if (c.policyId !== undefined) a['tooltrail.policy.id'] = c.policyId;
  if (c.policyVersion !== undefined) a['tooltrail.policy.version'] = c.policyVersion;
  if (c.runId !== undefined) a['tooltrail.run.id'] = c.runId;
  if (c.principal !== undefined) {
    a['user.id'] = c.principal;
    a['tooltrail.principal.type'] = 'user';
  }
  if (c.agent !== undefined) a['gen_ai.agent.name'] = c.agent;
  Object.assign(a, c.extra);
  return {
    resource: { 'service.name': c.service ?? 'support-agent' },
    scope: { name: '@tooltrail/core', version: '0.1.0' },
    traceId: c.traceId ?? hex(16),
    spanId: hex(8),
    name: `execute_tool ${c.tool}`,
    kind: 1,
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: end.toString(),
    attributes: a,
    events: [],
    links: [],
    status: outcome === 'ok' ? { code: 1 } : { code: 2, message: outcome },
  };
}

/** Writes spans as `tooltrail collect` would (the cli's TrailWriter), `batch` spans per request. */
export async function writeTrail(dir: string, spans: Iterable<TrailSpan>, batch = 500): Promise<void> {
  const writer = new TrailWriter({ dir });
  await writer.init();
  let pending: TrailSpan[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    await writer.append(requestLines(pending, new Date().toISOString(), undefined));
    pending = [];
  };
  for (const s of spans) {
    pending.push(s);
    if (pending.length >= batch) await flush();
  }
  await flush();
  await writer.close();
}

/** The crafted trail's period: one week, and the week before it for first use. */
export const WEEK = { since: new Date('2026-05-01T00:00:00Z'), until: new Date('2026-05-08T00:00:00Z') };

const at = (iso: string): number => Date.parse(iso);
const trace = (c: string): string => c.repeat(32);

/** The denied and invalid calls of the crafted trail: what every output must show. */
export const CRAFTED_REFUSED = [
  { time: '2026-05-02T09:15:00.000Z', outcome: 'denied', agent: 'support-bot', principal: 'user:bob', tool: 'send_email', rule: 'mail-inside-company', reason: 'mail leaves example.com', traceId: trace('a') },
  { time: '2026-05-02T09:16:30.000Z', outcome: 'denied', agent: 'support-bot', principal: 'user:bob', tool: 'send_email', rule: 'mail-inside-company', reason: 'mail leaves example.com', traceId: trace('a') },
  { time: '2026-05-04T14:02:10.000Z', outcome: 'denied', agent: 'support-bot', principal: 'user:bob', tool: 'delete_ticket', rule: 'no-deletes', reason: 'tickets are never deleted by an agent', traceId: trace('b') },
  { time: '2026-05-05T22:40:00.000Z', outcome: 'invalid', agent: 'billing-bot', principal: 'user:carol', tool: 'refund', rule: undefined, reason: undefined, traceId: trace('c') },
  { time: '2026-05-06T03:05:45.000Z', outcome: 'denied', agent: undefined, principal: undefined, tool: 'export_csv', rule: 'tooltrail.require-identity', reason: 'calls outside a run are refused', traceId: trace('d') },
] as const;

/** A small trail with known answers (counts in report.test.ts). */
export function craftedTrail(): TrailSpan[] {
  const s: TrailSpan[] = [];
  // Before the previous period and after the period: never counted.
  s.push(callSpan({ tool: 'ancient_tool', at: at('2026-04-01T10:00:00Z'), agent: 'support-bot', principal: 'user:alice', runId: 'r0' }));
  s.push(callSpan({ tool: 'future_tool', at: at('2026-05-08T00:00:00Z'), agent: 'support-bot', principal: 'user:alice', runId: 'r9' }));
  // The previous period: what the agents usually call.
  for (let i = 0; i < 3; i++) s.push(callSpan({ tool: 'search_kb', at: at(`2026-04-2${5 + i}T10:00:00Z`), agent: 'support-bot', principal: 'user:alice', runId: 'p1' }));
  for (let i = 0; i < 2; i++) s.push(callSpan({ tool: 'send_email', at: at(`2026-04-2${5 + i}T11:00:00Z`), agent: 'support-bot', principal: 'user:alice', runId: 'p1' }));
  for (let i = 0; i < 2; i++) s.push(callSpan({ tool: 'get_invoice', at: at(`2026-04-2${6 + i}T12:00:00Z`), agent: 'billing-bot', principal: 'user:carol', runId: 'p2' }));
  // The period.
  for (let i = 0; i < 5; i++) s.push(callSpan({ tool: 'search_kb', at: at(`2026-05-0${1 + i}T08:00:00Z`), agent: 'support-bot', principal: 'user:alice', runId: 'r1' }));
  s.push(callSpan({ tool: 'send_email', at: at('2026-05-02T09:10:00Z'), agent: 'support-bot', principal: 'user:bob', runId: 'r2', traceId: trace('a') }));
  for (const r of CRAFTED_REFUSED) {
    s.push(
      callSpan({
        tool: r.tool,
        at: at(r.time),
        outcome: r.outcome,
        traceId: r.traceId,
        ...(r.agent !== undefined ? { agent: r.agent } : {}),
        ...(r.principal !== undefined ? { principal: r.principal } : {}),
        ...(r.rule !== undefined ? { rule: r.rule, policyId: 'support-agent', policyVersion: 'sha256:0f1e2d' } : {}),
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        ...(r.agent === 'support-bot' ? { runId: r.tool === 'send_email' ? 'r2' : 'r3' } : r.agent === 'billing-bot' ? { runId: 'r7' } : {}),
      }),
    );
  }
  s.push(callSpan({ tool: 'send_email', at: at('2026-05-06T10:00:00Z'), outcome: 'pending_approval', agent: 'support-bot', principal: 'user:bob', runId: 'r4' }));
  s.push(callSpan({ tool: 'get_invoice', at: at('2026-05-03T12:00:00Z'), outcome: 'error', attempts: 3, errorType: 'TimeoutError', agent: 'billing-bot', principal: 'user:carol', runId: 'r6', traceId: trace('e') }));
  s.push(callSpan({ tool: 'get_invoice', at: at('2026-05-03T12:05:00Z'), outcome: 'error', attempts: 1, errorType: 'TimeoutError', agent: 'billing-bot', principal: 'user:carol', runId: 'r6', traceId: trace('e') }));
  s.push(callSpan({ tool: 'get_invoice', at: at('2026-05-03T12:10:00Z'), attempts: 2, agent: 'billing-bot', principal: 'user:carol', runId: 'r6', traceId: trace('e') }));
  for (let i = 0; i < 2; i++) s.push(callSpan({ tool: 'get_invoice', at: at(`2026-05-0${4 + i}T12:00:00Z`), agent: 'billing-bot', principal: 'user:carol', runId: 'r8' }));
  s.push(callSpan({ tool: 'refund', at: at('2026-05-05T22:45:00Z'), agent: 'billing-bot', principal: 'user:carol', runId: 'r7', traceId: trace('c') }));
  // A run span and an attempt record: not calls.
  s.push({ ...callSpan({ tool: 'x', at: at('2026-05-02T09:00:00Z') }), name: 'invoke_agent support-bot', attributes: { 'gen_ai.operation.name': 'invoke_agent', 'tooltrail.run.id': 'r2' } });
  s.push({ ...callSpan({ tool: 'get_invoice', at: at('2026-05-03T12:00:00Z') }), name: 'tool_attempt get_invoice', attributes: { 'gen_ai.tool.name': 'get_invoice', 'tooltrail.attempt': 1 } });
  return s;
}
