import { describe, expect, it } from 'vitest';
import type { CallView } from '../src/review/calls.js';
import { BoundaryJoin } from '../src/review/report/boundary.js';
import { renderHtml } from '../src/review/report/html.js';
import { formatTable } from '../src/review/report/table.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
let span = 0;
function call(side: 'gateway' | 'agent' | undefined, callId: string, over: Partial<CallView> = {}): CallView {
  return {
    traceId: 'a'.repeat(31) + String(callId.length % 10),
    spanId: (++span).toString(16).padStart(16, '0'),
    time: T0 + span * 1000,
    durationMs: 3,
    tool: 'read_file',
    callId,
    outcome: 'ok',
    attempts: 1,
    retries: 0,
    agentName: 'files-agent',
    principalId: 'svc:files-agent',
    ...(side !== undefined ? { side } : {}),
    serverName: 'files',
    argsJson: '{"path":"/srv/a"}',
    ...over,
  };
}

describe('the MCP boundary in tooltrail report', () => {
  it('joins both views by call id and flags one-sided calls, disagreements and changed tools', () => {
    const j = new BoundaryJoin(100);
    for (const c of [
      call('agent', 'c1'), call('gateway', 'c1'), // joined, alike
      call('gateway', 'c2'), call('agent', 'c2', { argsJson: '{"path":"/etc/passwd"}' }), // joined, arguments differ
      call('gateway', 'c3'), // the gateway only: reached the server without the agent's wrapper
      call('agent', 'c4'), // the agent only: went around the gateway
      call('gateway', 'c5', { outcome: 'denied', toolHash: { old: 'sha256:aaa', new: 'sha256:bbb' } }), // a rug pull
      call(undefined, 'c6'), // not an MCP call: ignored
    ]) j.add(c);
    const b = j.finish()!;
    expect(b).toMatchObject({ gatewayCalls: 4, agentCalls: 3, joined: 2, gatewayOnlyCount: 2, agentOnlyCount: 1 });
    expect(b.gatewayOnly.map((c) => c.callId)).toEqual(['c3', 'c5']);
    expect(b.agentOnly.map((c) => c.callId)).toEqual(['c4']);
    expect(b.disagreeing.map((c) => [c.callId, c.agentOutcome, c.gatewayOutcome])).toEqual([['c2', 'ok', 'ok']]);
    expect(b.changedTools.map((c) => [c.callId, c.hashOld, c.hashNew])).toEqual([['c5', 'sha256:aaa', 'sha256:bbb']]);
  });

  it('is absent when the period holds no gateway records (no boundary to join)', () => {
    const j = new BoundaryJoin(100);
    j.add(call('agent', 'x1'));
    expect(j.finish()).toBeUndefined();
  });

  it('is in the table and the HTML, escaped', () => {
    const j = new BoundaryJoin(100);
    j.add(call('gateway', 'g1', { tool: '<script>x</script>' }));
    const boundary = j.finish()!;
    const report = {
      version: 1, generatedAt: new Date(T0).toISOString(), source: { description: 'd', records: 1, problems: [], problemCount: 0 },
      period: { since: new Date(T0).toISOString(), until: new Date(T0 + 86_400_000).toISOString() },
      previous: { since: new Date(T0 - 86_400_000).toISOString(), until: new Date(T0).toISOString(), calls: 0 },
      totals: { calls: 1, ok: 1, error: 0, denied: 0, invalid: 0, pendingApproval: 0, unfinished: 0, other: 0, retriedCalls: 0, retries: 0, agents: 1, principals: 1, tools: 1, runs: 0 },
      refusals: { byAgent: [], byPrincipal: [], byTool: [], byRule: [] }, firstUse: [], firstUseKnown: false, hotSpots: [], runs: [], runsOmitted: 0,
      refused: [], refusedOmitted: 0, policies: [], timeline: { bucketMs: 3_600_000, buckets: [] }, boundary,
    } as const;
    const html = renderHtml(report as never);
    expect(html).toContain('The MCP boundary');
    expect(html).toContain('Seen by the gateway only (1)');
    expect(html).not.toContain('<script>x');
    expect(formatTable(report as never)).toContain('seen by the gateway only (1)');
  });
});
