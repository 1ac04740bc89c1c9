/**
 * The MCP boundary: when `tooltrail gateway` records calls at the tool path and the agent records
 * them too (`@tooltrail/mcp`), each call has two records sharing its call id (and trace). This
 * joins them: calls seen on both sides, calls only the gateway saw (code that reached the server
 * without the agent's wrapper, or an agent that does not use it), calls only the agent recorded
 * (a call that went around the gateway, or to a server not behind it), and calls denied because
 * a tool's definition changed since it was pinned; and every definition change the gateway
 * recorded when it saw it (`tool_changed`), whether a call followed or not. Which records are the
 * gateway's is decided by side.ts, never by the records' own attributes alone.
 */
import type { CallView } from '../calls.js';
import { NO_AGENT, type BoundaryCall, type BoundaryReport, type JoinedCall, type NotGatewayRecord } from './model.js';
import { SideRule, type GatewaySideOptions } from './side.js';
import type { ToolChangeView } from './tool-changes.js';

export type { BoundaryCall, BoundaryReport, JoinedCall, GatewaySideOptions };

function row(c: CallView): BoundaryCall {
  const r: BoundaryCall = {
    time: new Date(c.time).toISOString(),
    tool: c.tool,
    callId: c.callId,
    traceId: c.traceId,
    agent: c.agentName ?? c.agentId ?? NO_AGENT,
    principal: c.principalId,
    server: c.serverName,
    outcome: c.outcome,
  };
  if (c.callIdClaimed !== undefined) r.callIdClaimed = c.callIdClaimed;
  if (c.callIdRejected !== undefined) r.callIdRejected = c.callIdRejected;
  return r;
}

/**
 * The join key: the call id AND the principal (`user.id` as recorded). A call id is the agent's
 * word: another principal's agent can send the same one, and its gateway record must not pass for
 * this agent's call (the gateway also records such a replay under a fresh id: docs/gateway.md).
 */
function joinKey(c: CallView): string {
  return `${c.principalId ?? ''}\u0000${c.callId}`;
}

/**
 * How many gateway records an agent record accounts for: one per attempt it sent (`@tooltrail/mcp`
 * sends the same call id on every attempt). None when its own policy or approval stopped it
 * before any attempt: that call never left the agent.
 */
function attemptsSent(c: CallView): number {
  if (c.attempts === 0 && (c.outcome === 'denied' || c.outcome === 'invalid' || c.outcome === 'pending_approval')) return 0;
  return Math.max(1, c.attempts);
}

/** An agent record and the gateway records paired with it so far. */
interface Pairing {
  agent: CallView;
  need: number;
  records: number;
  last: CallView | undefined;
  argsDiffer: boolean;
}

function push<T>(map: Map<string, T[]>, key: string, v: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [v]);
  else list.push(v);
}

export class BoundaryJoin {
  /** Records not (fully) joined yet, by join key, oldest first: none is overwritten. */
  private readonly agent = new Map<string, Pairing[]>();
  private readonly gateway = new Map<string, CallView[]>();
  private readonly rule: SideRule;
  private readonly disagreeing: JoinedCall[] = [];
  private readonly changed: BoundaryReport['changedTools'] = [];
  private readonly definitionChanges: BoundaryReport['definitionChanges'] = [];
  private readonly freshIds: BoundaryCall[] = [];
  private readonly notGateway: NotGatewayRecord[] = [];
  private definitionChangeCount = 0;
  private freshIdCount = 0;
  private notGatewayCount = 0;
  private gatewayCalls = 0;
  private agentCalls = 0;
  private joined = 0;
  private joinedRetried = 0;
  private joinedRetryRecords = 0;

  constructor(
    private readonly cap: number,
    side: GatewaySideOptions = {},
  ) {
    this.rule = new SideRule(side);
  }

  add(c: CallView): void {
    const side = this.rule.ofCall(c.side, c.writer, c.service);
    if (side === undefined) return;
    if (side === 'not_gateway') return this.addNotGateway({ time: new Date(c.time).toISOString(), tool: c.tool, callId: c.callId, traceId: c.traceId, principal: c.principalId, writer: c.writer, service: c.service, record: 'call' });
    const key = joinKey(c);
    if (side === 'agent') {
      this.agentCalls++;
      const p: Pairing = { agent: c, need: attemptsSent(c), records: 0, last: undefined, argsDiffer: false };
      const waiting = this.gateway.get(key);
      while (p.need > 0 && waiting !== undefined && waiting.length > 0) this.attach(p, waiting.shift() as CallView);
      if (waiting !== undefined && waiting.length === 0) this.gateway.delete(key);
      if (p.need > 0) push(this.agent, key, p);
      else this.settle(p);
      return;
    }
    this.gatewayCalls++;
    if (c.toolHash !== undefined && this.changed.length < this.cap) this.changed.push({ ...row(c), hashOld: c.toolHash.old, hashNew: c.toolHash.new });
    if (c.callIdRejected !== undefined) {
      this.freshIdCount++;
      if (this.freshIds.length < this.cap) this.freshIds.push(row(c));
    }
    const pairings = this.agent.get(key);
    const p = pairings?.[0];
    if (p === undefined) return push(this.gateway, key, c);
    this.attach(p, c);
    if (p.need === 0) {
      pairings!.shift();
      if (pairings!.length === 0) this.agent.delete(key);
      this.settle(p);
    }
  }

  private attach(p: Pairing, g: CallView): void {
    p.need--;
    p.records++;
    if (p.last === undefined || g.time >= p.last.time) p.last = g;
    if (p.agent.argsJson !== undefined && g.argsJson !== undefined && p.agent.argsJson !== g.argsJson) p.argsDiffer = true;
  }

  /** An agent record done pairing: joined (with its attempts), left alone (never sent), or agent-only (kept for finish). */
  private settle(p: Pairing): void {
    if (p.records === 0) return;
    this.joined++;
    if (p.records > 1) {
      this.joinedRetried++;
      this.joinedRetryRecords += p.records - 1;
    }
    const gatewayView = p.last as CallView;
    const differs = p.agent.outcome !== gatewayView.outcome || p.argsDiffer || p.need > 0;
    if (differs && this.disagreeing.length < this.cap) {
      this.disagreeing.push({ ...row(gatewayView), agentOutcome: p.agent.outcome, gatewayOutcome: gatewayView.outcome, differs, agentAttempts: p.agent.attempts, gatewayRecords: p.records });
    }
  }

  private addNotGateway(r: NotGatewayRecord): void {
    this.notGatewayCount++;
    if (this.notGateway.length < this.cap) this.notGateway.push(r);
  }

  /** A `tool_changed` record (tool-changes.ts). */
  addChange(v: ToolChangeView): void {
    if (this.rule.ofChange(v.writer, v.service) === 'not_gateway') {
      return this.addNotGateway({ time: v.change.time, tool: v.change.tool, callId: '', traceId: v.traceId, principal: v.change.principal, writer: v.writer, service: v.service, record: 'tool_changed' });
    }
    this.definitionChangeCount++;
    if (this.definitionChanges.length < this.cap) this.definitionChanges.push(v.change);
  }

  finish(): BoundaryReport | undefined {
    // With the gateway named, agent records alone are worth the section: none reached it.
    const named = this.rule.side.by !== 'attribute' && this.agentCalls > 0;
    if (this.gatewayCalls === 0 && this.definitionChangeCount === 0 && this.notGatewayCount === 0 && !named) return undefined;
    const agentOnly: CallView[] = [];
    for (const list of this.agent.values()) {
      for (const p of list) {
        if (p.records === 0) agentOnly.push(p.agent);
        else this.settle(p);
      }
    }
    const byTime = (a: { time: number }, b: { time: number }) => a.time - b.time;
    const gatewayOnly = [...this.gateway.values()].flat().sort(byTime);
    agentOnly.sort(byTime);
    return {
      gatewaySide: this.rule.side,
      gatewayCalls: this.gatewayCalls,
      agentCalls: this.agentCalls,
      joined: this.joined,
      joinedRetried: this.joinedRetried,
      joinedRetryRecords: this.joinedRetryRecords,
      disagreeing: this.disagreeing,
      gatewayOnly: gatewayOnly.slice(0, this.cap).map(row),
      gatewayOnlyCount: gatewayOnly.length,
      agentOnly: agentOnly.slice(0, this.cap).map(row),
      agentOnlyCount: agentOnly.length,
      changedTools: this.changed,
      definitionChanges: [...this.definitionChanges].sort((a, b) => a.time.localeCompare(b.time)),
      definitionChangeCount: this.definitionChangeCount,
      freshIds: this.freshIds.sort((a, b) => a.time.localeCompare(b.time)),
      freshIdCount: this.freshIdCount,
      notGateway: this.notGateway.sort((a, b) => a.time.localeCompare(b.time)),
      notGatewayCount: this.notGatewayCount,
    };
  }
}
