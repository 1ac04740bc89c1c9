import { describe, expect, it } from 'vitest';
import type { CallView } from '../src/review/calls.js';
import { formatCheck } from '../src/review/check/format.js';
import type { CheckResult } from '../src/review/check/run-check.js';
import { formatReplay, type ReplayReport } from '../src/review/replay/format.js';
import { BoundaryJoin } from '../src/review/report/boundary.js';
import { buildReport } from '../src/review/report/build.js';
import { formatTable } from '../src/review/report/table.js';
import { printable } from '../src/terminal-text.js';
import { callSpan, writeTrail } from './report-fixture.js';
import { cleanup, tempDir } from './helpers.js';
import { afterEach } from 'vitest';

afterEach(cleanup);

// Every character a terminal or viewer acts on, one of each kind.
const HOSTILE = ['\r', '\n', '\u001b[2K', '\u0007', '\u007f', '\u0085', '\u009b', '\u061c', '\u200e', '\u200f', '\u202e', '\u2066', '\u2069', '\u2028', '\u2029'];
const EVIL = `x${HOSTILE.join('')}PASS\u001b[8m`;
const ACTING = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** No character that acts, and no line break but the formatter's own (no line starts with what a value planted). */
function assertInert(text: string): void {
  expect(text).not.toMatch(ACTING);
  for (const line of text.split('\n')) expect(line.startsWith('PASS')).toBe(false);
}

describe('printable: the one sanitiser of terminal output', () => {
  it('escapes C0, DEL, C1, bidi controls and line/paragraph separators, leaves the rest', () => {
    expect(printable(HOSTILE.join(''))).toBe(
      '\\u000d\\u000a\\u001b[2K\\u0007\\u007f\\u0085\\u009b\\u061c\\u200e\\u200f\\u202e\\u2066\\u2069\\u2028\\u2029',
    );
    expect(printable('user:ops é 名前 ✓ a\u00a0b')).toBe('user:ops é 名前 ✓ a\u00a0b');
    expect(printable(printable(EVIL))).toBe(printable(EVIL));
  });
});

describe('check: the verdict table cannot be rewritten by a recorded value', () => {
  it('summary, details, problems and the source are printed escaped', () => {
    const r = {
      ok: false, exitCode: 1, nonce: 'n1', tool: 't', auditor: `aud${EVIL}`, source: `src${EVIL}`, startedAt: '', elapsedMs: 0, waitedMs: 100, polls: 1, flushed: true,
      verdicts: [
        { id: 'attributed', question: 'attributed to its run and principal', mistake: 3, status: 'fail', summary: `recent records: principal "${EVIL}" looks like a shared credential`, details: [`agents: ${EVIL}`] },
      ],
      failing: ['attributed'], canary: [], recent: undefined, read: { records: 0, bytes: 0, related: 0, problems: [`f.jsonl: ${EVIL}`] },
    } as unknown as CheckResult;
    const text = formatCheck(r);
    assertInert(text);
    expect(text).toContain('principal "x\\u000d\\u000a\\u001b[2K');
    expect(text.trimEnd().split('\n').pop()).toBe('Result: FAIL: attributed');
  });
});

describe('report: every terminal value is escaped, long ids are cut', () => {
  it('agents, principals, tools, rules, reasons, run ids, trace ids and source problems', async () => {
    const dir = await tempDir();
    const at = Date.parse('2026-05-03T10:00:00Z');
    const longRun = `run-${'r'.repeat(5000)}`;
    await writeTrail(dir, [
      callSpan({ tool: `tool${EVIL}`, at, outcome: 'denied', agent: `agent${EVIL}`, principal: `p${EVIL}`, runId: longRun, rule: `rule${EVIL}`, reason: `why${EVIL}`, traceId: `${'a'.repeat(32)}${EVIL}${'t'.repeat(3000)}` }),
      callSpan({ tool: 'ok_tool', at: at - 8 * 86_400_000, agent: 'a', principal: 'p', runId: 'r0' }),
    ]);
    const data = await buildReport({ kind: 'dir', dir }, { since: new Date('2026-05-01T00:00:00Z'), until: new Date('2026-05-08T00:00:00Z'), now: new Date('2026-05-08T00:00:00Z') });
    data.source.problems.push(`spans.jsonl:3: ${EVIL}`);
    data.source.problemCount++;
    data.source.description = `d${EVIL}`;
    const text = formatTable(data);
    assertInert(text);
    expect(text).toContain('agentx\\u000d\\u000a');
    expect(text).not.toContain('r'.repeat(200));
    expect(text).not.toContain('t'.repeat(200));
    // No line is widened by an attacker-length id.
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThan(700);
  });

  it('the fresh-call-id rows escape the call id the gateway recorded', () => {
    const T0 = Date.parse('2026-11-20T10:00:00Z');
    const call = (side: 'gateway' | 'agent', callId: string, over: Partial<CallView> = {}): CallView => ({
      traceId: 'b'.repeat(32), spanId: `${side}0000000000`.slice(0, 16), time: T0, durationMs: 3, tool: 'read_file', callId, outcome: 'ok', attempts: 1, retries: 0,
      agentName: 'files-agent', principalId: 'user:a', side, serverName: 'files', writer: side === 'gateway' ? 'gw' : 'agent', ...over,
    });
    const j = new BoundaryJoin(100, { gatewayWriters: ['gw'] });
    j.add(call('agent', 'model-call-7'));
    j.add(call('gateway', `call_${EVIL}`, { callIdClaimed: `"${EVIL}"`, callIdRejected: 'reused' }));
    const boundary = j.finish()!;
    const text = formatTable({
      version: 1, generatedAt: new Date(T0).toISOString(), source: { description: 'd', records: 2, problems: [], problemCount: 0 },
      period: { since: new Date(T0).toISOString(), until: new Date(T0 + 86_400_000).toISOString() },
      previous: { since: new Date(T0 - 86_400_000).toISOString(), until: new Date(T0).toISOString(), calls: 0 },
      totals: { calls: 2, ok: 2, error: 0, denied: 0, invalid: 0, pendingApproval: 0, unfinished: 0, other: 0, retriedCalls: 0, retries: 0, agents: 1, principals: 1, tools: 1, runs: 0 },
      refusals: { byAgent: [], byPrincipal: [], byTool: [], byRule: [] }, firstUse: [], firstUseKnown: false, hotSpots: [], runs: [], runsOmitted: 0,
      refused: [], refusedOmitted: 0, policies: [], timeline: { bucketMs: 3_600_000, buckets: [] }, boundary,
    });
    assertInert(text);
    expect(text).toContain('call_x\\u000d\\u000a\\u001b[2K');
  });
});

describe('policy test: cells and source problems are escaped, long trace ids cut', () => {
  it('a hostile agent, principal, tool and trace id', () => {
    const call = { traceId: `${'c'.repeat(32)}${EVIL}${'t'.repeat(3000)}`, spanId: 's', time: 0, durationMs: 0, tool: `tool${EVIL}`, callId: 'c', outcome: 'ok', attempts: 1, retries: 0, agentName: `a${EVIL}`, principalId: `p${EVIL}` };
    const r: ReplayReport = {
      candidate: { id: 'cand', version: '1', path: 'p.yaml' }, source: `src${EVIL}`, range: {},
      read: { records: 1, problems: [`f.jsonl:1: ${EVIL}`], problemCount: 1 },
      summary: { calls: 1, same: 0, differs: 1, undecidable: 0, invalid: 0, changes: { 'allow→deny': 1 }, undecidableBy: {} },
      calls: [{ kind: 'differs', call, recorded: { kind: 'allow', by: 'code' }, candidate: { kind: 'deny', rule: `r${EVIL}` }, expected: 'deny', notes: [] } as never],
      complete: false, exitCode: 1,
    };
    const text = formatReplay(r, 200);
    assertInert(text);
    expect(text).not.toContain('t'.repeat(200));
    expect(text).toContain('f.jsonl:1: x\\u000d\\u000a');
  });
});
