import { printable, printableCut, printableLines } from '../../terminal-text.js';
import { NO_PRINCIPAL, type RefusalRow, type ReportData } from './model.js';

/** Cells longer than this are cut with `…`. */
const MAX_CELL = 40;
/** Ids (trace, run, call) are what one copies: cut only when longer than any real one (a forged id of any length would widen every row). */
const MAX_ID = 64;
/** Terminal lists stop here; --json and --html list everything. */
const MAX_ROWS = 50;

/** Every value from the trail is made printable (terminal-text.ts) and then cut: an escape counts its length. */
const cut = (s: string, n = MAX_CELL): string => printableCut(s, n);
const id = (s: string): string => printableCut(s, MAX_ID);
const clean = printable;

function grid(head: string[], body: string[][], right: Set<number> = new Set()): string {
  const all = [head, ...body].map((r) => r.map(clean));
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return all.map((r) => `  ${line(r)}`).join('\n');
}

function more(total: number, shown: number): string {
  return total > shown ? `\n  … ${total - shown} more (--json or --html lists them all)` : '';
}

export const shortTime = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
export const n = (v: number): string => v.toLocaleString('en-US');

function refusalTable(title: string, rows: RefusalRow[]): string {
  if (rows.length === 0) return '';
  const shown = rows.slice(0, MAX_ROWS);
  return `${title}\n${grid(['', 'denied', 'invalid', 'calls'], shown.map((r) => [cut(r.key), n(r.denied), n(r.invalid), n(r.calls)]), new Set([1, 2, 3]))}${more(rows.length, shown.length)}\n\n`;
}

export function periodLabel(r: ReportData): string {
  const days = (Date.parse(r.period.until) - Date.parse(r.period.since)) / 86_400_000;
  const len = days >= 1 ? `${Number(days.toFixed(1))} day${days === 1 ? '' : 's'}` : `${Number((days * 24).toFixed(1))} hours`;
  return `${shortTime(r.period.since)} to ${shortTime(r.period.until)} UTC (${len})`;
}

/** The terminal report: what a person reads first, most alarming first. */
export function formatTable(r: ReportData): string {
  const t = r.totals;
  let s = `tooltrail report: ${periodLabel(r)}\n`;
  s += `source: ${clean(r.source.description)}; ${n(r.source.records)} records read\n`;
  if (r.source.problemCount > 0) {
    s += `warning: ${n(r.source.problemCount)} problem(s) reading the source, the report may be incomplete:\n`;
    s += r.source.problems.slice(0, 10).map((p) => `  ${clean(p)}\n`).join('');
  }
  const late = r.source.outOfPeriod;
  if (late !== undefined && late.count > 0) {
    s += `warning: ${n(late.count)} call record(s) received in the period carry a start time outside it (more than 10 minutes): not counted above (a late delivery, or a start time set to hide a call)\n`;
    s += late.records.slice(0, 10).map((c) => `  ${shortTime(c.time)}  received ${shortTime(c.receivedAt)}  ${cut(c.tool, 24)}  ${cut(c.outcome)}  ${id(c.traceId)}\n`).join('');
    if (late.count > 10) s += `  … ${n(late.count - 10)} more (--json lists the first 100)\n`;
  }
  s += `\ncalls ${n(t.calls)}: ok ${n(t.ok)}, error ${n(t.error)}, denied ${n(t.denied)}, invalid ${n(t.invalid)}`;
  if (t.pendingApproval > 0) s += `, pending approval ${n(t.pendingApproval)}`;
  if (t.unfinished > 0) s += `, unfinished ${n(t.unfinished)}`;
  if (t.other > 0) s += `, other ${n(t.other)}`;
  s += `; ${n(t.retriedCalls)} retried (${n(t.retries)} retries)\n`;
  s += `${n(t.agents)} agent(s), ${n(t.principals)} principal(s), ${n(t.tools)} tool(s), ${n(t.runs)} run(s)\n\n`;
  if (t.denied + t.invalid === 0) s += 'No denied or invalid calls in the period.\n\n';
  s += refusalTable('Denied and invalid, by agent', r.refusals.byAgent);
  s += refusalTable('by principal', r.refusals.byPrincipal);
  s += refusalTable('by tool', r.refusals.byTool);
  s += refusalTable('by rule', r.refusals.byRule);

  s += `First use (called by an agent in the period, not in the ${shortTime(r.previous.since)} to ${shortTime(r.previous.until)} before it)\n`;
  if (!r.firstUseKnown) s += '  cannot tell: the trail holds no calls in the previous period\n\n';
  else if (r.firstUse.length === 0) s += '  none: every agent called only tools it called before\n\n';
  else {
    const shown = r.firstUse.slice(0, MAX_ROWS);
    const body = shown.map((f) => [cut(f.agent), cut(f.tool), shortTime(f.firstAt), n(f.calls), n(f.denied + f.invalid), n(f.errors), cut(f.principal ?? NO_PRINCIPAL), id(f.traceId)]);
    s += `${grid(['agent', 'tool', 'first at', 'calls', 'refused', 'errors', 'principal', 'trace id'], body, new Set([3, 4, 5]))}${more(r.firstUse.length, shown.length)}\n\n`;
  }

  const b = r.boundary;
  if (b !== undefined) {
    s += `The MCP boundary: ${n(b.gatewayCalls)} calls at the gateway, ${n(b.agentCalls)} in the agents' MCP adapter, ${n(b.joined)} joined by call id and principal`;
    s += b.joinedRetried > 0 ? ` (${n(b.joinedRetried)} retried: ${n(b.joinedRetryRecords)} more gateway records as their attempts)\n` : '\n';
    s += b.gatewaySide.warning !== undefined ? `  ${clean(b.gatewaySide.warning)}\n` : `  gateway side: records written by collector writer ${clean(b.gatewaySide.names.join(', '))}\n`;
    if (b.notGatewayCount > 0) {
      const shown = b.notGateway.slice(0, MAX_ROWS);
      const body = shown.map((c) => [shortTime(c.time), c.record, cut(c.tool, 24), cut(c.writer ?? '(none recorded)', 24), cut(c.service ?? '-', 24), id(c.traceId)]);
      s += `  records with the gateway's attributes NOT written by the gateway, not counted as its (${n(b.notGatewayCount)})\n${grid(['time', 'record', 'tool', 'writer', 'service', 'trace id'], body)}${more(b.notGatewayCount, shown.length)}\n`;
    }
    if (b.freshIdCount > 0) {
      const shown = b.freshIds.slice(0, MAX_ROWS);
      const lines = shown.map((c) => `  ${shortTime(c.time)}  ${cut(c.tool, 24)}  ${id(c.callId)}: recorded under a fresh id; claimed ${id(c.callIdClaimed ?? '?')} (${cut(c.callIdRejected ?? '?')})`);
      s += `  recorded by the gateway under a fresh call id (${n(b.freshIdCount)})\n${lines.join('\n')}${more(b.freshIdCount, shown.length)}\n`;
    }
    const list = (title: string, rows: { time: string; agent: string; tool: string; traceId: string; outcome: string }[], count: number): void => {
      if (count === 0) return;
      const shown = rows.slice(0, MAX_ROWS);
      s += `  ${title} (${n(count)})\n${grid(['time', 'agent', 'tool', 'outcome', 'trace id'], shown.map((c) => [shortTime(c.time), cut(c.agent, 24), cut(c.tool, 24), cut(c.outcome), id(c.traceId)]))}${more(count, shown.length)}\n`;
    };
    if (b.definitionChangeCount > 0) {
      const shown = b.definitionChanges.slice(0, MAX_ROWS);
      const body = shown.map((c) => [shortTime(c.time), cut(c.server ?? '-', 24), cut(c.tool, 24), cut(c.action), `${clean(c.hashOld.slice(0, 19))} -> ${clean(c.hashNew.slice(0, 19))}`, id(c.traceId)]);
      s += `  tool definitions changed under their pin (${n(b.definitionChangeCount)})\n${grid(['time', 'server', 'tool', 'action', 'pinned -> seen', 'trace id'], body)}${more(b.definitionChangeCount, shown.length)}\n`;
    }
    list('calls to changed tools (denied until re-pinned)', b.changedTools, b.changedTools.length);
    list('seen by the gateway only', b.gatewayOnly, b.gatewayOnlyCount);
    list('recorded by the agent only', b.agentOnly, b.agentOnlyCount);
    list('joined, the two records disagree', b.disagreeing, b.disagreeing.length);
    s += '\n';
  }

  if (r.hotSpots.length > 0) {
    const shown = r.hotSpots.slice(0, MAX_ROWS);
    const body = shown.map((h) => [cut(h.agent), cut(h.tool), n(h.calls), n(h.errors), `${(h.errorRate * 100).toFixed(1)}%`, n(h.retries), cut(h.errorTypes.map((e) => `${e.type} ${e.count}`).join(', ') || '-'), id(h.traceId)]);
    s += `Error and retry hot spots\n${grid(['agent', 'tool', 'calls', 'errors', 'rate', 'retries', 'error types', 'trace id'], body, new Set([2, 3, 4, 5]))}${more(r.hotSpots.length, shown.length)}\n\n`;
  }

  if (r.runs.length > 0) {
    const shown = r.runs.slice(0, MAX_ROWS);
    const body = shown.map((x) => [id(x.runId ?? '(no run)'), cut(x.agent, 24), cut(x.principal ?? NO_PRINCIPAL, 24), shortTime(x.start), n(x.calls), n(x.denied), n(x.invalid), n(x.errors), n(x.retries), id(x.traceId)]);
    s += `Runs holding them\n${grid(['run', 'agent', 'principal', 'start', 'calls', 'denied', 'invalid', 'errors', 'retries', 'trace id'], body, new Set([4, 5, 6, 7, 8]))}${more(r.runs.length + r.runsOmitted, shown.length)}\n\n`;
  }

  if (r.refused.length > 0) {
    const shown = r.refused.slice(0, MAX_ROWS);
    const body = shown.map((c) => [shortTime(c.time), cut(c.outcome), cut(c.agent, 24), cut(c.principal ?? NO_PRINCIPAL, 24), cut(c.tool, 24), cut(c.rule ?? '-', 30), cut(c.reason ?? '-'), id(c.traceId)]);
    s += `Denied and invalid calls\n${grid(['time', 'outcome', 'agent', 'principal', 'tool', 'rule', 'reason', 'trace id'], body)}${more(r.refused.length + r.refusedOmitted, shown.length)}\n`;
  }
  // The safety net: a value that reached `s` without `clean` still cannot drive the terminal.
  return printableLines(s);
}
