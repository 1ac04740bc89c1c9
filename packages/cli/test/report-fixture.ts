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
