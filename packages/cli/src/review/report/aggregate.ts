import type { CallView } from '../calls.js';
import { NO_AGENT, NO_PRINCIPAL, NO_RULE, type FirstUse, type HotSpot, type RefusalRow, type RefusedCall, type ReportData, type RunRow, type Totals } from './model.js';
import { Timeline } from './timeline.js';

export interface AggregateOptions {
  since: Date;
  until: Date;
  /** The most denied/invalid calls listed one by one (counts stay exact). Default 10000. */
  maxRefused?: number;
  /** The most runs listed. Default 200. */
  maxRuns?: number;
}

interface Count {
  denied: number;
  invalid: number;
  calls: number;
}

interface PairAcc {
  calls: number;
  errors: number;
  retriedCalls: number;
  retries: number;
  errorTypes: Map<string, number>;
  errorTrace: string | undefined;
  retryTrace: string | undefined;
}

type RunAcc = Omit<RunRow, 'start' | 'end'> & { startMs: number; endMs: number };
type FirstAcc = Omit<FirstUse, 'firstAt'> & { firstMs: number };

const agentOf = (c: CallView): string => c.agentName ?? c.agentId ?? NO_AGENT;
const iso = (ms: number): string => new Date(ms).toISOString();

function bump(map: Map<string, Count>, key: string, c: CallView): void {
  let row = map.get(key);
  if (!row) map.set(key, (row = { denied: 0, invalid: 0, calls: 0 }));
  row.calls++;
  if (c.outcome === 'denied') row.denied++;
  else if (c.outcome === 'invalid') row.invalid++;
}

function rows(map: Map<string, Count>): RefusalRow[] {
  const out: RefusalRow[] = [];
  for (const [key, v] of map) if (v.denied + v.invalid > 0) out.push({ key, ...v });
  return out.sort((a, b) => b.denied + b.invalid - (a.denied + a.invalid) || b.denied - a.denied || a.key.localeCompare(b.key));
}

/**
 * Folds the calls of a period (and the period before it, for first use) into the report. Holds
 * one small counter per agent, principal, tool, rule, agent-tool pair and run, and the listed
 * refusals up to their cap: memory grows with how many distinct things there are, not calls.
 */
export class ReportAggregator {
  private readonly from: number;
  private readonly to: number;
  private readonly maxRefused: number;
  private readonly maxRuns: number;
  private readonly totals: Totals = { calls: 0, ok: 0, error: 0, denied: 0, invalid: 0, pendingApproval: 0, unfinished: 0, other: 0, retriedCalls: 0, retries: 0, agents: 0, principals: 0, tools: 0, runs: 0 };
  private readonly byAgent = new Map<string, Count>();
  private readonly byPrincipal = new Map<string, Count>();
  private readonly byTool = new Map<string, Count>();
  private readonly byRule = new Map<string, Count>();
  private readonly pairs = new Map<string, PairAcc>();
  private readonly previousPairs = new Set<string>();
  private previousCalls = 0;
  private readonly firsts = new Map<string, FirstAcc>();
  private readonly runs = new Map<string, RunAcc>();
  private readonly refused: RefusedCall[] = [];
  private refusedOmitted = 0;
  private readonly policies = new Map<string, { id: string; version: string; calls: number; denied: number }>();
  private readonly timeline: Timeline;

  constructor(o: AggregateOptions) {
    this.from = o.since.getTime();
    this.to = o.until.getTime();
    this.maxRefused = o.maxRefused ?? 10_000;
    this.maxRuns = o.maxRuns ?? 200;
    this.timeline = new Timeline(this.from, this.to);
  }

  /** The period before `since` (same length) and the period itself; anything else is ignored. */
  add(c: CallView): void {
    if (c.time >= this.from && c.time < this.to) this.addCurrent(c);
    else if (c.time < this.from && c.time >= 2 * this.from - this.to) {
      this.previousCalls++;
      this.previousPairs.add(`${agentOf(c)}\0${c.tool}`);
    }
  }

  private addCurrent(c: CallView): void {
    const t = this.totals;
    t.calls++;
    const o = c.outcome;
    if (o === 'ok') t.ok++;
    else if (o === 'error') t.error++;
    else if (o === 'denied') t.denied++;
    else if (o === 'invalid') t.invalid++;
    else if (o === 'pending_approval') t.pendingApproval++;
    else if (o === 'unfinished') t.unfinished++;
    else t.other++;
    if (c.retries > 0) {
      t.retriedCalls++;
      t.retries += c.retries;
    }
    const agent = agentOf(c);
    bump(this.byAgent, agent, c);
    bump(this.byPrincipal, c.principalId ?? NO_PRINCIPAL, c);
    bump(this.byTool, c.tool, c);
    if (o === 'denied' || o === 'invalid') bump(this.byRule, c.rule ?? (o === 'invalid' ? '(invalid arguments)' : NO_RULE), c);
    this.timeline.add(c.time, o);
    this.pair(agent, c);
    this.first(agent, c);
    this.run(agent, c);
    if (c.policyId !== undefined) {
      const k = `${c.policyId}\0${c.policyVersion ?? ''}`;
      let p = this.policies.get(k);
      if (!p) this.policies.set(k, (p = { id: c.policyId, version: c.policyVersion ?? '', calls: 0, denied: 0 }));
      p.calls++;
      if (o === 'denied') p.denied++;
    }
    if (o === 'denied' || o === 'invalid') {
      if (this.refused.length >= this.maxRefused) this.refusedOmitted++;
      else
        this.refused.push({
          time: iso(c.time),
          outcome: o,
          agent,
          principal: c.principalId,
          tool: c.tool,
          rule: c.rule,
          reason: c.reason,
          traceId: c.traceId,
          spanId: c.spanId,
          runId: c.runId,
          callId: c.callId,
          policyId: c.policyId,
          policyVersion: c.policyVersion,
          approval: c.approval,
        });
    }
  }

  private pair(agent: string, c: CallView): void {
    const k = `${agent}\0${c.tool}`;
    let p = this.pairs.get(k);
    if (!p) this.pairs.set(k, (p = { calls: 0, errors: 0, retriedCalls: 0, retries: 0, errorTypes: new Map(), errorTrace: undefined, retryTrace: undefined }));
    p.calls++;
    if (c.outcome === 'error') {
      p.errors++;
      const type = c.errorType ?? 'error';
      p.errorTypes.set(type, (p.errorTypes.get(type) ?? 0) + 1);
      p.errorTrace ??= c.traceId;
    }
    if (c.retries > 0) {
      p.retriedCalls++;
      p.retries += c.retries;
      p.retryTrace ??= c.traceId;
    }
  }

  private first(agent: string, c: CallView): void {
    const k = `${agent}\0${c.tool}`;
    let f = this.firsts.get(k);
    if (!f) {
      f = { agent, tool: c.tool, firstMs: c.time, calls: 0, denied: 0, invalid: 0, errors: 0, principal: c.principalId, runId: c.runId, traceId: c.traceId };
      this.firsts.set(k, f);
    } else if (c.time < f.firstMs) {
      Object.assign(f, { firstMs: c.time, principal: c.principalId, runId: c.runId, traceId: c.traceId });
    }
    f.calls++;
    if (c.outcome === 'denied') f.denied++;
    else if (c.outcome === 'invalid') f.invalid++;
    else if (c.outcome === 'error') f.errors++;
  }

  private run(agent: string, c: CallView): void {
    const k = c.runId !== undefined ? `r\0${c.runId}` : `t\0${c.traceId}`;
    let r = this.runs.get(k);
    if (!r) {
      r = { runId: c.runId, traceId: c.traceId, agent, principal: c.principalId, startMs: c.time, endMs: c.time + c.durationMs, calls: 0, denied: 0, invalid: 0, errors: 0, retries: 0, pendingApproval: 0 };
      this.runs.set(k, r);
    }
    if (c.time < r.startMs) {
      r.startMs = c.time;
      r.traceId = c.traceId;
    }
    r.endMs = Math.max(r.endMs, c.time + c.durationMs);
    r.calls++;
    if (c.outcome === 'denied') r.denied++;
    else if (c.outcome === 'invalid') r.invalid++;
    else if (c.outcome === 'error') r.errors++;
    else if (c.outcome === 'pending_approval') r.pendingApproval++;
    r.retries += c.retries;
  }

  finish(source: ReportData['source'], now: Date = new Date()): ReportData {
    const t = this.totals;
    t.agents = this.byAgent.size;
    t.principals = this.byPrincipal.size;
    t.tools = this.byTool.size;
    t.runs = this.runs.size;
    const firstUse: FirstUse[] = [];
    for (const [k, f] of this.firsts) {
      if (this.previousPairs.has(k)) continue;
      const { firstMs, ...rest } = f;
      firstUse.push({ ...rest, firstAt: iso(firstMs) });
    }
    firstUse.sort((a, b) => a.firstAt.localeCompare(b.firstAt) || a.agent.localeCompare(b.agent) || a.tool.localeCompare(b.tool));
    const hotSpots: HotSpot[] = [];
    for (const [k, p] of this.pairs) {
      if (p.errors === 0 && p.retries === 0) continue;
      const [agent, tool] = k.split('\0') as [string, string];
      const errorTypes = [...p.errorTypes].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)).slice(0, 3);
      hotSpots.push({ agent, tool, calls: p.calls, errors: p.errors, errorRate: p.errors / p.calls, retriedCalls: p.retriedCalls, retries: p.retries, errorTypes, traceId: (p.errorTrace ?? p.retryTrace) as string });
    }
    hotSpots.sort((a, b) => b.errors - a.errors || b.retries - a.retries || a.agent.localeCompare(b.agent) || a.tool.localeCompare(b.tool));
    const notable = [...this.runs.values()].filter((r) => r.denied + r.invalid + r.errors + r.retries + r.pendingApproval > 0);
    notable.sort((a, b) => b.denied + b.invalid - (a.denied + a.invalid) || b.errors - a.errors || b.retries - a.retries || a.startMs - b.startMs);
    const runs: RunRow[] = notable.slice(0, this.maxRuns).map(({ startMs, endMs, ...r }) => ({ ...r, start: iso(startMs), end: iso(endMs) }));
    this.refused.sort((a, b) => a.time.localeCompare(b.time) || a.traceId.localeCompare(b.traceId));
    return {
      version: 1,
      generatedAt: now.toISOString(),
      source,
      period: { since: iso(this.from), until: iso(this.to) },
      previous: { since: iso(2 * this.from - this.to), until: iso(this.from), calls: this.previousCalls },
      totals: t,
      refusals: { byAgent: rows(this.byAgent), byPrincipal: rows(this.byPrincipal), byTool: rows(this.byTool), byRule: rows(this.byRule) },
      firstUse: this.previousCalls > 0 ? firstUse : [],
      firstUseKnown: this.previousCalls > 0,
      hotSpots,
      runs,
      runsOmitted: notable.length - runs.length,
      refused: this.refused,
      refusedOmitted: this.refusedOmitted,
      policies: [...this.policies.values()].sort((a, b) => b.calls - a.calls || a.id.localeCompare(b.id)),
      timeline: this.timeline.finish(),
    };
  }
}
