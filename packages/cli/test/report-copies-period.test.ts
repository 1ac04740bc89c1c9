import { afterEach, describe, expect, it } from 'vitest';
import { buildReport } from '../src/review/report/build.js';
import { renderHtml } from '../src/review/report/html.js';
import { formatTable } from '../src/review/report/table.js';
import { TrailWriter } from '../src/trail/writer.js';
import { requestLines } from '../src/trail/request-lines.js';
import type { TrailSpan } from '../src/trail/record.js';
import { callSpan, WEEK } from './report-fixture.js';
import { cleanup, runCli, tempDir } from './helpers.js';

afterEach(cleanup);

/** Writes each group as one collector request received at its own time. */
async function writeReceived(dir: string, groups: { receivedAt: string; spans: TrailSpan[] }[]): Promise<void> {
  const w = new TrailWriter({ dir });
  await w.init();
  for (const g of groups) await w.append(requestLines(g.spans, g.receivedAt, undefined));
  await w.close();
}

const NOW = new Date('2026-05-08T06:00:00Z');

describe('report: copies of one span', () => {
  it('identical copies (at-least-once delivery) are one call, silently', async () => {
    const dir = await tempDir();
    const s = callSpan({ tool: 'refund', at: Date.parse('2026-05-03T10:00:00Z'), outcome: 'denied', agent: 'bot', principal: 'user:a', runId: 'r1' });
    await writeReceived(dir, [
      { receivedAt: '2026-05-03T10:00:01.000Z', spans: [s] },
      { receivedAt: '2026-05-03T10:00:09.000Z', spans: [structuredClone(s)] },
    ]);
    const r = await buildReport({ kind: 'dir', dir }, { ...WEEK, now: NOW });
    expect(r.totals.calls).toBe(1);
    expect(r.source.problemCount).toBe(0);
  });

  it('a different copy under the same trace and span id is a source problem: warned, exit 1', async () => {
    const dir = await tempDir();
    const s = callSpan({ tool: 'refund', at: Date.parse('2026-05-03T10:00:00Z'), outcome: 'denied', agent: 'bot', principal: 'user:a', runId: 'r1' });
    const forged: TrailSpan = structuredClone(s);
    forged.attributes['tooltrail.outcome'] = 'ok';
    forged.attributes['tooltrail.decision'] = 'allow';
    await writeReceived(dir, [
      { receivedAt: '2026-05-03T10:00:01.000Z', spans: [forged] },
      { receivedAt: '2026-05-03T10:00:02.000Z', spans: [s] },
    ]);
    const r = await buildReport({ kind: 'dir', dir }, { ...WEEK, now: NOW });
    expect(r.totals.calls).toBe(1);
    expect(r.source.problemCount).toBe(1);
    expect(r.source.problems).toEqual([
      expect.stringMatching(new RegExp(`^conflicting copies: trace ${s.traceId} span ${s.spanId}: spans-.*\\.jsonl:\\d+ differs from the copy at spans-.*\\.jsonl:\\d+ \\(the first copy is counted\\)$`)),
    ]);
    const cli = runCli(['report', '--trail', dir, '--since', '2026-05-01', '--until', '2026-05-08']);
    const { code } = await cli.exited;
    expect(code).toBe(1);
    expect(cli.stdout()).toMatch(/warning: 1 problem\(s\) reading the source/);
  });
});

describe('report: records received in the period with a start time outside it', () => {
  it('are counted, warned about and listed in JSON; a normal delivery delay is not', async () => {
    const dir = await tempDir();
    const backdated = callSpan({ tool: 'export_csv', at: Date.parse('2025-01-01T00:00:00Z'), outcome: 'denied', agent: 'bot', principal: 'user:a', runId: 'r9' });
    const future = callSpan({ tool: 'wire', at: Date.parse('2027-01-01T00:00:00Z'), outcome: 'ok', agent: 'bot', principal: 'user:a', runId: 'r9' });
    // Started 30 s before the period, received 10 s into it: an export's delay, not a finding.
    const late = callSpan({ tool: 'lookup', at: Date.parse('2026-04-30T23:59:30Z'), agent: 'bot', principal: 'user:a', runId: 'r8' });
    const inside = callSpan({ tool: 'lookup', at: Date.parse('2026-05-03T10:00:00Z'), agent: 'bot', principal: 'user:a', runId: 'r1' });
    await writeReceived(dir, [
      { receivedAt: '2026-05-01T00:00:10.000Z', spans: [late] },
      { receivedAt: '2026-05-03T10:00:01.000Z', spans: [inside, backdated, future] },
      // Received before the period: neither in it nor a finding of this report.
      { receivedAt: '2026-04-20T00:00:00.000Z', spans: [callSpan({ tool: 'x', at: Date.parse('2025-01-01T00:00:00Z') })] },
    ]);
    const r = await buildReport({ kind: 'dir', dir }, { ...WEEK, now: NOW });
    expect(r.totals.calls).toBe(1);
    expect(r.source.outOfPeriod).toEqual({
      count: 2,
      records: [
        { time: '2025-01-01T00:00:00.000Z', receivedAt: '2026-05-03T10:00:01.000Z', tool: 'export_csv', outcome: 'denied', agent: 'bot', principal: 'user:a', runId: 'r9', traceId: backdated.traceId, spanId: backdated.spanId },
        { time: '2027-01-01T00:00:00.000Z', receivedAt: '2026-05-03T10:00:01.000Z', tool: 'wire', outcome: 'ok', agent: 'bot', principal: 'user:a', runId: 'r9', traceId: future.traceId, spanId: future.spanId },
      ],
    });
    const text = formatTable(r);
    expect(text).toContain('warning: 2 call record(s) received in the period carry a start time outside it (more than 10 minutes): not counted above');
    expect(text).toContain(`2025-01-01 00:00:00  received 2026-05-03 10:00:01  export_csv  denied  ${backdated.traceId}`);
    const html = renderHtml(r);
    expect(html).toContain('<b>2 call record(s) received in the period carry a start time outside it</b>');
    expect(html).toContain(`<li>2025-01-01T00:00:00.000Z (received 2026-05-03T10:00:01.000Z): export_csv, denied, trace ${backdated.traceId}</li>`);
    // In no week's report unless someone looks: exit 1, for a cron job that reads only the code.
    const cli = runCli(['report', '--trail', dir, '--since', '2026-05-01', '--until', '2026-05-08']);
    expect((await cli.exited).code).toBe(1);
  });

  it('a normal delivery delay alone exits 0', async () => {
    const dir = await tempDir();
    const late = callSpan({ tool: 'lookup', at: Date.parse('2026-04-30T23:59:30Z'), agent: 'bot', principal: 'user:a', runId: 'r8' });
    const inside = callSpan({ tool: 'lookup', at: Date.parse('2026-05-03T10:00:00Z'), agent: 'bot', principal: 'user:a', runId: 'r1' });
    await writeReceived(dir, [
      { receivedAt: '2026-05-01T00:00:10.000Z', spans: [late] },
      { receivedAt: '2026-05-03T10:00:01.000Z', spans: [inside] },
    ]);
    const cli = runCli(['report', '--trail', dir, '--since', '2026-05-01', '--until', '2026-05-08']);
    expect((await cli.exited).code).toBe(0);
  });
});
