import { readMapped, toCallView, type CallView } from '../calls.js';
import type { VerifySource } from '../../verify/sources.js';
import { ReportAggregator } from './aggregate.js';
import { BoundaryJoin, type GatewaySideOptions } from './boundary.js';
import { toToolChange, type ToolChangeView } from './tool-changes.js';
import type { ReportData } from './model.js';

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
  const records = readMapped<CallView | ToolChangeView>(
    read,
    { since: previousSince, until: o.until },
    (span, writer) => toCallView(span, writer) ?? toToolChange(span, writer),
    (i) => (info = { description: i.description, records: i.records, problems: i.problems, problemCount: i.problemCount }),
  );
  const boundary = new BoundaryJoin(o.maxRefused ?? 10_000, o.gateway);
  const from = o.since.getTime();
  const to = o.until.getTime();
  for await (const c of records) {
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
  const joined = boundary.finish();
  if (joined !== undefined) report.boundary = joined;
  return report;
}
