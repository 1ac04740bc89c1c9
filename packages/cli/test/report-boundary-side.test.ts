import { describe, expect, it } from 'vitest';
import type { CallView } from '../src/review/calls.js';
import { BoundaryJoin } from '../src/review/report/boundary.js';
import { renderHtml } from '../src/review/report/html.js';
import type { ReportData } from '../src/review/report/model.js';
import { formatTable } from '../src/review/report/table.js';
import type { ToolChangeView } from '../src/review/report/tool-changes.js';

// Records as report/calls.ts reads them: the gateway's carry tooltrail.run.claim (side
// 'gateway' as claimed), the agent's mcp.method.name; `writer` is the collector's per-line writer.
const T0 = Date.parse('2026-11-20T10:00:00Z');
let span = 0;
function call(side: 'gateway' | 'agent', callId: string, over: Partial<CallView> = {}): CallView {
  span++;
  return {
    traceId: 'b'.repeat(32), spanId: span.toString(16).padStart(16, '0'), time: T0 + span * 1000, durationMs: 3,
    tool: 'read_file', callId, outcome: 'ok', attempts: 1, retries: 0, agentName: 'files-agent', principalId: 'svc:files-agent',
    side, serverName: 'files', argsJson: '{"path":"/srv/a"}',
    writer: side === 'gateway' ? 'gw' : 'agent', service: side === 'gateway' ? 'tooltrail-gateway' : 'files-agent',
    ...over,
  };
}
function change(writer: string | undefined): ToolChangeView {
  const time = T0 + ++span * 1000;
  return { record: 'tool_changed', traceId: 'c'.repeat(32), spanId: span.toString(16).padStart(16, '0'), time, writer, service: 'tooltrail-gateway',
    change: { time: new Date(time).toISOString(), tool: 'read_file', server: 'files', hashOld: 'sha256:aaa', hashNew: 'sha256:bbb', action: 'deny', principal: 'svc:files-agent', runId: undefined, traceId: 'c'.repeat(32) } };
}
function reportOf(boundary: ReturnType<BoundaryJoin['finish']>): ReportData {
  return {
    version: 1, generatedAt: new Date(T0).toISOString(), source: { description: 'd', records: 1, problems: [], problemCount: 0 },
    period: { since: new Date(T0).toISOString(), until: new Date(T0 + 86_400_000).toISOString() },
    previous: { since: new Date(T0 - 86_400_000).toISOString(), until: new Date(T0).toISOString(), calls: 0 },
    totals: { calls: 1, ok: 1, error: 0, denied: 0, invalid: 0, pendingApproval: 0, unfinished: 0, other: 0, retriedCalls: 0, retries: 0, agents: 1, principals: 1, tools: 1, runs: 0 },
    refusals: { byAgent: [], byPrincipal: [], byTool: [], byRule: [] }, firstUse: [], firstUseKnown: false, hotSpots: [], runs: [], runsOmitted: 0,
    refused: [], refusedOmitted: 0, policies: [], timeline: { bucketMs: 3_600_000, buckets: [] }, ...(boundary ? { boundary } : {}),
  };
}

describe('the boundary join: which records are the gateway\'s', () => {
  it('by the collector writer: an agent record with the gateway\'s attributes is not the gateway\'s, and is listed', () => {
    const j = new BoundaryJoin(100, { gatewayWriters: ['gw'] });
    j.add(call('agent', 'c1'));
    j.add(call('gateway', 'c1'));
    j.add(call('gateway', 'forged-1', { writer: 'agent', service: 'tooltrail-gateway' })); // the agent's own token
    j.add(call('gateway', 'forged-2', { writer: undefined })); // a line with no writer
    j.addChange(change('agent'));
    j.addChange(change('gw'));
    const b = j.finish()!;
    expect(b.gatewaySide).toEqual({ authenticated: true, by: 'writer', names: ['gw'] });
    expect(b).toMatchObject({ gatewayCalls: 1, agentCalls: 1, joined: 1, gatewayOnlyCount: 0, agentOnlyCount: 0, notGatewayCount: 3, definitionChangeCount: 1 });
    expect(b.notGateway.map((r) => [r.record, r.callId, r.writer])).toEqual([['call', 'forged-1', 'agent'], ['call', 'forged-2', undefined], ['tool_changed', '', 'agent']]);
    const text = formatTable(reportOf(b));
    expect(text).toContain('  gateway side: records written by collector writer gw\n');
    expect(text).toContain("records with the gateway's attributes NOT written by the gateway, not counted as its (3)");
    expect(text).toContain('(none recorded)');
    expect(text).not.toContain('not authenticated');
    const html = renderHtml(reportOf(b));
    expect(html).toContain("Records with the gateway's attributes not written by the gateway (3)");
    expect(html).not.toContain('not authenticated');
  });

  it('without --gateway-writer: the attribute decides, and every output says the side is not authenticated', () => {
    const j = new BoundaryJoin(100);
    j.add(call('agent', 'c1'));
    j.add(call('gateway', 'c1'));
    j.add(call('gateway', 'forged-1', { writer: 'agent' }));
    const b = j.finish()!;
    expect(b.gatewaySide.authenticated).toBe(false);
    expect(b.gatewaySide.by).toBe('attribute');
    expect(b.gatewaySide.warning).toBe("gateway side not authenticated: no --gateway-writer given, so the gateway's records are told by their tooltrail.run.claim attribute, which any process writing to this trail can set; the join below is not verified");
    expect(b).toMatchObject({ gatewayCalls: 2, joined: 1, gatewayOnlyCount: 1, notGatewayCount: 0 });
    expect(formatTable(reportOf(b))).toContain(`  ${b.gatewaySide.warning}\n`);
    expect(renderHtml(reportOf(b))).toContain('<p class="warn"><strong>gateway side not authenticated: no --gateway-writer given');
  });

  it('by service.name (Jaeger, Tempo): not authenticated either, said so', () => {
    const j = new BoundaryJoin(100, { gatewayServices: ['tooltrail-gateway'] });
    j.add(call('agent', 'c1', { writer: undefined }));
    j.add(call('gateway', 'c1', { writer: undefined }));
    j.add(call('gateway', 'x', { writer: undefined, service: 'files-agent' }));
    const b = j.finish()!;
    expect(b.gatewaySide).toMatchObject({ authenticated: false, by: 'service', names: ['tooltrail-gateway'] });
    expect(b.gatewaySide.warning).toMatch(/^gateway side not authenticated: the gateway's records are told by service\.name \(tooltrail-gateway\)/);
    expect(b).toMatchObject({ gatewayCalls: 1, joined: 1, notGatewayCount: 1 });
  });

  it('with the gateway named, agent records alone make the section (none reached the gateway)', () => {
    const j = new BoundaryJoin(100, { gatewayWriters: ['gw'] });
    j.add(call('agent', 'c1'));
    expect(j.finish()).toMatchObject({ gatewayCalls: 0, agentCalls: 1, agentOnlyCount: 1 });
  });
});

describe('the boundary join: retries and fresh ids', () => {
  it('pairs the gateway records of a retried call (same call id and principal) with the agent record as its attempts', () => {
    const j = new BoundaryJoin(100, { gatewayWriters: ['gw'] });
    // Gateway records first (each attempt ends before the agent's call does), then the agent's.
    j.add(call('gateway', 'r1', { outcome: 'error' }));
    j.add(call('gateway', 'r1', { outcome: 'error' }));
    j.add(call('gateway', 'r1', { outcome: 'ok' }));
    j.add(call('agent', 'r1', { attempts: 3, retries: 2 }));
    // The agent's record first, then its two attempts at the gateway.
    j.add(call('agent', 'r2', { attempts: 2, retries: 1 }));
    j.add(call('gateway', 'r2', { outcome: 'error' }));
    j.add(call('gateway', 'r2'));
    const b = j.finish()!;
    expect(b).toMatchObject({ gatewayCalls: 5, agentCalls: 2, joined: 2, joinedRetried: 2, joinedRetryRecords: 3, gatewayOnlyCount: 0, agentOnlyCount: 0, disagreeing: [] });
    expect(formatTable(reportOf(b))).toContain('2 joined by call id and principal (2 retried: 3 more gateway records as their attempts)');
  });

  it('flags a gateway record beyond the agent\'s attempts, and an attempt the gateway never saw', () => {
    const j = new BoundaryJoin(100, { gatewayWriters: ['gw'] });
    j.add(call('agent', 'once'));
    j.add(call('gateway', 'once'));
    j.add(call('gateway', 'once')); // the same id once more: not an attempt the agent's wrapper made
    j.add(call('agent', 'three', { attempts: 3, retries: 2, outcome: 'error' }));
    j.add(call('gateway', 'three', { outcome: 'error' }));
    j.add(call('gateway', 'three', { outcome: 'error' }));
    const b = j.finish()!;
    expect(b).toMatchObject({ joined: 2, gatewayOnlyCount: 1, agentOnlyCount: 0 });
    expect(b.gatewayOnly.map((c) => c.callId)).toEqual(['once']);
    expect(b.disagreeing.map((c) => [c.callId, c.agentAttempts, c.gatewayRecords, c.differs])).toEqual([['three', 3, 2, true]]);
  });

  it('an agent call its own policy refused never left the agent: not flagged as agent-only', () => {
    const j = new BoundaryJoin(100, { gatewayWriters: ['gw'] });
    j.add(call('agent', 'd1', { outcome: 'denied', attempts: 0 }));
    j.add(call('agent', 'sent'));
    expect(j.finish()).toMatchObject({ agentCalls: 2, joined: 0, agentOnlyCount: 1, agentOnly: [{ callId: 'sent' }] });
  });

  it('a gateway record under a fresh id is listed with its claim and never paired by it', () => {
    const j = new BoundaryJoin(100, { gatewayWriters: ['gw'] });
    j.add(call('agent', 'model-call-7'));
    j.add(call('gateway', 'call_0123456789abcdef01234567', { callIdClaimed: '"model-call-7"', callIdRejected: 'reused' }));
    const b = j.finish()!;
    expect(b).toMatchObject({ joined: 0, gatewayOnlyCount: 1, agentOnlyCount: 1, freshIdCount: 1 });
    expect(b.freshIds).toEqual([expect.objectContaining({ callId: 'call_0123456789abcdef01234567', callIdClaimed: '"model-call-7"', callIdRejected: 'reused' })]);
    expect(b.gatewayOnly[0]).toMatchObject({ callIdClaimed: '"model-call-7"', callIdRejected: 'reused' });
    const text = formatTable(reportOf(b));
    expect(text).toContain('recorded by the gateway under a fresh call id (1)');
    expect(text).toContain('call_0123456789abcdef01234567: recorded under a fresh id; claimed "model-call-7" (reused)');
    expect(renderHtml(reportOf(b))).toContain('recorded under a fresh id; claimed <span class="id">&quot;model-call-7&quot;</span> (reused)');
  });
});
