import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReportAggregator } from '../src/review/report/aggregate.js';
import { buildReport } from '../src/review/report/build.js';
import { renderHtml } from '../src/review/report/html.js';
import type { ReportData } from '../src/review/report/model.js';
import { formatTable } from '../src/review/report/table.js';
import { toCallView } from '../src/review/calls.js';
import { CRAFTED_REFUSED, WEEK, callSpan, craftedTrail, writeTrail } from './report-fixture.js';
import { cleanup, runCli, tempDir } from './helpers.js';

afterEach(cleanup);

let dir: string;
let report: ReportData;
beforeAll(async () => {
  // Not a tempDir(): afterEach's cleanup would remove it before the later tests read it.
  dir = await mkdtemp(path.join(tmpdir(), 'tooltrail-report-'));
  await writeTrail(dir, craftedTrail(), 7);
  report = await buildReport({ kind: 'dir', dir }, { ...WEEK, now: new Date('2026-05-08T06:00:00Z') });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('report aggregation (crafted trail)', () => {
  it('counts every outcome exactly, ignoring what is outside the period', () => {
    expect(report.totals).toEqual({ calls: 18, ok: 10, error: 2, denied: 4, invalid: 1, pendingApproval: 1, unfinished: 0, other: 0, retriedCalls: 2, retries: 3, agents: 3, principals: 4, tools: 6, runs: 8 });
    expect(report.previous).toEqual({ since: '2026-04-24T00:00:00.000Z', until: '2026-05-01T00:00:00.000Z', calls: 7 });
    expect(report.source.records).toBe(craftedTrail().length);
    expect(report.source.problemCount).toBe(0);
  });

  it('breaks refusals down by agent, principal, tool and rule', () => {
    expect(report.refusals.byAgent).toEqual([
      { key: 'support-bot', denied: 3, invalid: 0, calls: 10 },
      { key: '(no agent)', denied: 1, invalid: 0, calls: 1 },
      { key: 'billing-bot', denied: 0, invalid: 1, calls: 7 },
    ]);
    expect(report.refusals.byPrincipal).toEqual([
      { key: 'user:bob', denied: 3, invalid: 0, calls: 5 },
      { key: '(no principal)', denied: 1, invalid: 0, calls: 1 },
      { key: 'user:carol', denied: 0, invalid: 1, calls: 7 },
    ]);
    expect(report.refusals.byTool.map((r) => [r.key, r.denied, r.invalid, r.calls])).toEqual([
      ['send_email', 2, 0, 4],
      ['delete_ticket', 1, 0, 1],
      ['export_csv', 1, 0, 1],
      ['refund', 0, 1, 2],
    ]);
    expect(report.refusals.byRule.map((r) => [r.key, r.denied, r.invalid])).toEqual([
      ['mail-inside-company', 2, 0],
      ['no-deletes', 1, 0],
      ['tooltrail.require-identity', 1, 0],
      ['(invalid arguments)', 0, 1],
    ]);
  });

  it('lists every denied and invalid call, oldest first, with what a reader needs', () => {
    expect(report.refusedOmitted).toBe(0);
    expect(report.refused.map((c) => ({ time: c.time, outcome: c.outcome, agent: c.agent, principal: c.principal, tool: c.tool, rule: c.rule, reason: c.reason, traceId: c.traceId }))).toEqual(
      CRAFTED_REFUSED.map((c) => ({ ...c, agent: c.agent ?? '(no agent)' })),
    );
    expect(report.refused[0]).toMatchObject({ runId: 'r2', policyId: 'support-agent', policyVersion: 'sha256:0f1e2d' });
    expect(report.policies).toEqual([{ id: 'support-agent', version: 'sha256:0f1e2d', calls: 4, denied: 4 }]);
  });

  it('finds first use against the previous period', () => {
    expect(report.firstUseKnown).toBe(true);
    expect(report.firstUse.map((f) => [f.agent, f.tool, f.firstAt, f.calls, f.denied, f.invalid])).toEqual([
      ['support-bot', 'delete_ticket', '2026-05-04T14:02:10.000Z', 1, 1, 0],
      ['billing-bot', 'refund', '2026-05-05T22:40:00.000Z', 2, 0, 1],
      ['(no agent)', 'export_csv', '2026-05-06T03:05:45.000Z', 1, 1, 0],
    ]);
    expect(report.firstUse[0]).toMatchObject({ principal: 'user:bob', runId: 'r3', traceId: 'b'.repeat(32) });
  });

  it('first use is per agent and per period: a tool another agent used, or one used only long ago, is new', () => {
    const agg = new ReportAggregator(WEEK);
    const add = (tool: string, agent: string, iso: string): void => agg.add(toCallView(callSpan({ tool, agent, at: Date.parse(iso) }))!);
    add('search_kb', 'a', '2026-04-30T23:59:59Z'); // previous period, last second
    add('old_tool', 'a', '2026-04-23T23:59:59Z'); // before the previous period
    add('search_kb', 'a', '2026-05-01T00:00:00Z');
    add('search_kb', 'b', '2026-05-02T00:00:00Z');
    add('old_tool', 'a', '2026-05-03T00:00:00Z');
    const r = agg.finish({ description: 't', records: 5, problems: [], problemCount: 0 });
    expect(r.firstUse.map((f) => `${f.agent}/${f.tool}`)).toEqual(['b/search_kb', 'a/old_tool']);
    expect(r.previous.calls).toBe(1);
  });

  it('says when first use cannot be told (no calls in the previous period)', () => {
    const agg = new ReportAggregator(WEEK);
    agg.add(toCallView(callSpan({ tool: 't', agent: 'a', at: Date.parse('2026-05-02T00:00:00Z') }))!);
    const r = agg.finish({ description: 't', records: 1, problems: [], problemCount: 0 });
    expect(r.firstUseKnown).toBe(false);
    expect(r.firstUse).toEqual([]);
    expect(formatTable(r)).toContain('cannot tell: the trail holds no calls in the previous period');
  });

  it('finds error and retry hot spots and the runs holding them', () => {
    expect(report.hotSpots).toEqual([{ agent: 'billing-bot', tool: 'get_invoice', calls: 5, errors: 2, errorRate: 0.4, retriedCalls: 2, retries: 3, errorTypes: [{ type: 'TimeoutError', count: 2 }], traceId: 'e'.repeat(32) }]);
    expect(report.runs.map((r) => [r.runId ?? `trace:${r.traceId[0]}`, r.denied, r.invalid, r.errors, r.retries, r.pendingApproval])).toEqual([
      ['r2', 2, 0, 0, 0, 0],
      ['r3', 1, 0, 0, 0, 0],
      ['r7', 0, 1, 0, 0, 0],
      ['trace:d', 1, 0, 0, 0, 0],
      ['r6', 0, 0, 2, 3, 0],
      ['r4', 0, 0, 0, 0, 1],
    ]);
    expect(report.runs[0]).toMatchObject({ traceId: 'a'.repeat(32), agent: 'support-bot', principal: 'user:bob', calls: 3, start: '2026-05-02T09:10:00.000Z' });
  });

  it('has an hourly timeline of the week that adds up', () => {
    expect(report.timeline.bucketMs).toBe(3_600_000);
    expect(report.timeline.buckets).toHaveLength(168);
    const sum = report.timeline.buckets.reduce((a, b) => a + b.ok + b.error + b.denied + b.invalid + b.other, 0);
    expect(sum).toBe(18);
    expect(report.timeline.buckets.find((b) => b.start === '2026-05-02T09:00:00.000Z')).toMatchObject({ ok: 1, denied: 2 });
  });

  it('caps the list, never the counts', async () => {
    const capped = await buildReport({ kind: 'dir', dir }, { ...WEEK, maxRefused: 2 });
    expect(capped.refused).toHaveLength(2);
    expect(capped.refusedOmitted).toBe(3);
    expect(capped.totals.denied).toBe(4);
  });
});

describe('report outputs', () => {
  it('the terminal table names every refused call with its trace id', () => {
    const text = formatTable(report);
    expect(text).toContain('tooltrail report: 2026-05-01 00:00:00 to 2026-05-08 00:00:00 UTC (7 days)');
    for (const c of CRAFTED_REFUSED) for (const v of [c.time.slice(11, 19), c.tool, c.traceId]) expect(text).toContain(v);
    expect(text).toContain('First use');
    expect(text).toContain('Error and retry hot spots');
  });

  it('the HTML is self-contained: no script, nothing loaded, trail values escaped', () => {
    const hostile = { ...report, refused: [{ ...report.refused[0]!, reason: '<script>alert(1)</script><img src="http://evil.example/x">', tool: '"><svg onload=x>' }] };
    const html = renderHtml(hostile);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(img|link|iframe|object|embed|video|audio|source)\b/i);
    expect(html).not.toMatch(/\b(src|href|xlink:href|action|srcset)\s*=\s*["']?\s*(https?:|\/\/)/i);
    expect(html).not.toMatch(/url\(|@import/i);
    // No event handler attribute in any tag (escaped text holds no tags).
    expect(html).not.toMatch(/<[a-z][^>]*\son\w+\s*=/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const plain = renderHtml(report);
    expect(plain).not.toMatch(/https?:/i);
    expect(plain.startsWith('<!doctype html>')).toBe(true);
  });

  it('tooltrail report --json, --html and the table through the bin', async () => {
    const out = path.join(await tempDir(), 'week.html');
    const json = runCli(['report', '--trail', dir, '--since', WEEK.since.toISOString(), '--until', WEEK.until.toISOString(), '--json', '--html', out]);
    const { code } = await json.exited;
    expect(json.stderr()).toBe('');
    expect(code).toBe(0);
    const data = JSON.parse(json.stdout()) as ReportData;
    expect(Object.keys(data)).toEqual(['version', 'generatedAt', 'source', 'period', 'previous', 'totals', 'refusals', 'firstUse', 'firstUseKnown', 'hotSpots', 'runs', 'runsOmitted', 'refused', 'refusedOmitted', 'policies', 'timeline']);
    expect(data.version).toBe(1);
    expect(Object.keys(data.refused[0]!).sort()).toEqual(['agent', 'approval', 'callId', 'outcome', 'policyId', 'policyVersion', 'principal', 'reason', 'rule', 'runId', 'spanId', 'time', 'tool', 'traceId'].filter((k) => k !== 'approval').sort());
    expect({ ...data, generatedAt: report.generatedAt, source: { ...data.source, description: report.source.description } }).toEqual(JSON.parse(JSON.stringify(report)));
    expect(await readFile(out, 'utf8')).toContain(CRAFTED_REFUSED[0].traceId);
    const table = runCli(['report', '--trail', dir, '--since', '2026-05-01', '--until', '2026-05-08']);
    expect((await table.exited).code).toBe(0);
    expect(table.stdout()).toContain('calls 18: ok 10, error 2, denied 4, invalid 1, pending approval 1; 2 retried (3 retries)');
  });

  it('bad command lines exit 2, a missing folder exits 1', async () => {
    for (const args of [['--since', 'yesterday'], ['--trail', dir, '--jaeger', 'http://127.0.0.1:1'], ['--jaeger', 'http://127.0.0.1:1'], ['--since', '1d', '--until', '2d'], ['--max-list', '-1'], ['extra']]) {
      const r = runCli(['report', ...args]);
      expect((await r.exited).code, args.join(' ')).toBe(2);
    }
    const missing = runCli(['report', '--trail', path.join(dir, 'nope')]);
    expect((await missing.exited).code).toBe(1);
    expect(missing.stderr()).toContain('no such folder');
  });
});
