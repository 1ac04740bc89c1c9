import { readMapped, toCallView, type CallView } from '../calls.js';
import type { VerifySource } from '../../verify/sources.js';
import { ReportAggregator } from './aggregate.js';
import { BoundaryJoin, type GatewaySideOptions } from './boundary.js';
import { toToolChange, type ToolChangeView } from './tool-changes.js';
import type { OutOfPeriod, ReportData } from './model.js';

/** How far a call's start may be outside the period it was received in before the report warns: export batching and retries take seconds, not minutes. */
export const OUT_OF_PERIOD_SLACK_MS = 10 * 60_000;
const KEPT_OUT_OF_PERIOD = 100;

export interface BuildReportOptions {
  since: Date;
  until: Date;
  maxRefused?: number;
  maxRuns?: number;
  now?: Date;
  /** How the boundary join tells the gateway's records (report/side.ts). */
  gateway?: GatewaySideOptions;
}

/**
 * Reads the period and the period of equal length before it (first use needs it) in one pass
 * and aggregates. A query source (Jaeger, Tempo) is asked for both periods.
 */
export async function buildReport(source: VerifySource, o: BuildReportOptions): Promise<ReportData> {
  const previousSince = new Date(2 * o.since.getTime() - o.until.getTime());
  const read: VerifySource = source.kind === 'dir' ? source : { ...source, since: previousSince, until: o.until };
  const agg = new ReportAggregator({
    since: o.since,
    until: o.until,
    ...(o.maxRefused !== undefined ? { maxRefused: o.maxRefused } : {}),
    ...(o.maxRuns !== undefined ? { maxRuns: o.maxRuns } : {}),
  });
  let info: ReportData['source'] = { description: '', records: 0, problems: [], problemCount: 0 };
  // Calls, and the gateway's tool_changed records (which are not calls), in one pass.
  const from = o.since.getTime();
  const to = o.until.getTime();
  const outOfPeriod: OutOfPeriod = { count: 0, records: [] };
  // The period goes by start time, which the record's writer chose; the collector's receivedAt
  // is its own. A call received in the period but started far outside it is said, not dropped.
  const flagged = new Set<string>(); // each span once: a copy delivered twice is one record
  const noteOutside = (c: CallView | ToolChangeView): void => {
    if ('record' in c) return;
    const received = c.receivedAt;
    if (received === undefined || received < from || received >= to) return;
    if (c.time >= from - OUT_OF_PERIOD_SLACK_MS && c.time < to + OUT_OF_PERIOD_SLACK_MS) return;
    const key = `${c.traceId}\u0000${c.spanId}`;
    if (flagged.has(key)) return;
    flagged.add(key);
    outOfPeriod.count++;
    if (outOfPeriod.records.length >= KEPT_OUT_OF_PERIOD) return;
    const agent = c.agentName ?? c.agentId;
    outOfPeriod.records.push({
      time: Number.isFinite(c.time) && Math.abs(c.time) < 8.64e15 ? new Date(c.time).toISOString() : String(c.time),
      receivedAt: new Date(received).toISOString(),
      tool: c.tool,
      outcome: c.outcome,
      ...(agent !== undefined ? { agent } : {}),
      ...(c.principalId !== undefined ? { principal: c.principalId } : {}),
      ...(c.runId !== undefined ? { runId: c.runId } : {}),
      traceId: c.traceId,
      spanId: c.spanId,
    });
  };
  const records = readMapped<CallView | ToolChangeView>(
    read,
    { since: previousSince, until: o.until },
    (span, writer) => toCallView(span, writer) ?? toToolChange(span, writer),
    (i) => (info = { description: i.description, records: i.records, problems: i.problems, problemCount: i.problemCount }),
    { outside: noteOutside },
  );
  const boundary = new BoundaryJoin(o.maxRefused ?? 10_000, o.gateway);
  for await (const c of records) {
    // Read for the previous period (first use), but received in this one.
    if (c.time < from) noteOutside(c);
    if ('record' in c) {
      if (c.time >= from && c.time < to) boundary.addChange(c);
      continue;
    }
    agg.add(c);
    if (c.time >= from && c.time < to) boundary.add(c);
  }
  // Jaeger and Tempo answer for one service: the gateway's own (another service.name) is read
  // for the join only, in the period, its problems counted with the source's.
  for (const service of o.gateway?.gatewayServices ?? []) {
    if (source.kind === 'dir' || service === source.service) continue;
    const gw: VerifySource = { ...source, service, since: o.since, until: o.until };
    const more = readMapped<CallView | ToolChangeView>(gw, { since: o.since, until: o.until }, (span, writer) => toCallView(span, writer) ?? toToolChange(span, writer), (i) => {
      info = { description: `${info.description}; gateway: ${i.description}`, records: info.records + i.records, problems: [...info.problems, ...i.problems].slice(0, 100), problemCount: info.problemCount + i.problemCount };
    });
    for await (const c of more) {
      if ('record' in c) boundary.addChange(c);
      else boundary.add(c);
    }
  }
  const report = agg.finish(info, o.now);
  if (outOfPeriod.count > 0) report.source.outOfPeriod = outOfPeriod;
  const joined = boundary.finish();
  if (joined !== undefined) report.boundary = joined;
  return report;
}
