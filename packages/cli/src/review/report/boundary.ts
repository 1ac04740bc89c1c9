/**
 * The MCP boundary: when `tooltrail gateway` records calls at the tool path and the agent records
 * them too (`@tooltrail/mcp`), each call has two records sharing its call id (and trace). This
 * joins them: calls seen on both sides, calls only the gateway saw (code that reached the server
 * without the agent's wrapper, or an agent that does not use it), calls only the agent recorded
 * (a call that went around the gateway, or to a server not behind it), and calls denied because
 * a tool's definition changed since it was pinned; and every definition change the gateway
 * recorded when it saw it (`tool_changed`), whether a call followed or not.
 */
import type { CallView } from '../calls.js';
import { NO_AGENT, type BoundaryCall, type BoundaryReport, type DefinitionChange, type JoinedCall } from './model.js';

export type { BoundaryCall, BoundaryReport, JoinedCall };

function row(c: CallView): BoundaryCall {
  return {
    time: new Date(c.time).toISOString(),
    tool: c.tool,
    callId: c.callId,
    traceId: c.traceId,
    agent: c.agentName ?? c.agentId ?? NO_AGENT,
    principal: c.principalId,
    server: c.serverName,
    outcome: c.outcome,
  };
}

/**
 * The join key: the call id AND the principal (`user.id` as recorded). A call id is the agent's
 * word: another principal's agent can send the same one, and its gateway record must not pass for
 * this agent's call (the gateway also records such a replay under a fresh id: docs/gateway.md).
 */
function joinKey(c: CallView): string {
  return `${c.principalId ?? ''}\u0000${c.callId}`;
}

export class BoundaryJoin {
  /** Records not joined yet, by join key, oldest first: a key may repeat (a retried call), none is overwritten. */
  private readonly agent = new Map<string, CallView[]>();
  private readonly gateway = new Map<string, CallView[]>();
  private readonly disagreeing: JoinedCall[] = [];
  private readonly changed: BoundaryReport['changedTools'] = [];
  private readonly definitionChanges: DefinitionChange[] = [];
  private definitionChangeCount = 0;
  private gatewayCalls = 0;
  private agentCalls = 0;
  private joined = 0;

  constructor(private readonly cap: number) {}

  add(c: CallView): void {
    if (c.side === undefined) return;
    if (c.side === 'gateway') {
      this.gatewayCalls++;
      if (c.toolHash !== undefined && this.changed.length < this.cap) this.changed.push({ ...row(c), hashOld: c.toolHash.old, hashNew: c.toolHash.new });
    } else this.agentCalls++;
    const other = c.side === 'gateway' ? this.agent : this.gateway;
    const mine = c.side === 'gateway' ? this.gateway : this.agent;
    const key = joinKey(c);
    const waiting = other.get(key);
    const match = waiting?.shift();
    if (waiting !== undefined && waiting.length === 0) other.delete(key);
    if (match === undefined) {
      const list = mine.get(key);
      if (list === undefined) mine.set(key, [c]);
      else list.push(c);
      return;
    }
    this.joined++;
    const [agentView, gatewayView] = c.side === 'agent' ? [c, match] : [match, c];
    const differs = agentView.outcome !== gatewayView.outcome || (agentView.argsJson !== undefined && gatewayView.argsJson !== undefined && agentView.argsJson !== gatewayView.argsJson);
    if (differs && this.disagreeing.length < this.cap) {
      this.disagreeing.push({ ...row(gatewayView), agentOutcome: agentView.outcome, gatewayOutcome: gatewayView.outcome, differs });
    }
  }

  /** A `tool_changed` record (tool-changes.ts). */
  addChange(change: DefinitionChange): void {
    this.definitionChangeCount++;
    if (this.definitionChanges.length < this.cap) this.definitionChanges.push(change);
  }

  finish(): BoundaryReport | undefined {
    if (this.gatewayCalls === 0 && this.definitionChangeCount === 0) return undefined;
    const byTime = (a: CallView, b: CallView) => a.time - b.time;
    const gatewayOnly = [...this.gateway.values()].flat().sort(byTime);
    const agentOnly = [...this.agent.values()].flat().sort(byTime);
    return {
      gatewayCalls: this.gatewayCalls,
      agentCalls: this.agentCalls,
      joined: this.joined,
      disagreeing: this.disagreeing,
      gatewayOnly: gatewayOnly.slice(0, this.cap).map(row),
      gatewayOnlyCount: gatewayOnly.length,
      agentOnly: agentOnly.slice(0, this.cap).map(row),
      agentOnlyCount: agentOnly.length,
      changedTools: this.changed,
      definitionChanges: [...this.definitionChanges].sort((a, b) => a.time.localeCompare(b.time)),
      definitionChangeCount: this.definitionChangeCount,
    };
  }
}
