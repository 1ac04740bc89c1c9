/**
 * `tooltrail report --json`: a contract (docs/review.md). Times are ISO 8601 UTC; counts are
 * exact; lists that are capped say how many they left out. Fields are only ever added.
 */
export interface ReportData {
  /** Shape version of this JSON. */
  version: 1;
  generatedAt: string;
  source: { description: string; records: number; problems: string[]; problemCount: number; outOfPeriod?: OutOfPeriod };
  period: { since: string; until: string };
  /** The period of equal length before it, read only to tell a tool's first use. */
  previous: { since: string; until: string; calls: number };
  totals: Totals;
  /** Denied and invalid calls counted by who and what. Rows sorted by denied + invalid, most first. */
  refusals: { byAgent: RefusalRow[]; byPrincipal: RefusalRow[]; byTool: RefusalRow[]; byRule: RefusalRow[] };
  /** A tool an agent called in the period and not once in the previous period. */
  firstUse: FirstUse[];
  /** False when the previous period holds no calls at all: then every tool looks new, and first use cannot be told. */
  firstUseKnown: boolean;
  /** Agent and tool pairs with errors or retries, most first. */
  hotSpots: HotSpot[];
  /** Runs holding denied, invalid, failed, retried or pending calls, most refusals first. */
  runs: RunRow[];
  runsOmitted: number;
  /** Every denied and invalid call, oldest first (up to the list cap). */
  refused: RefusedCall[];
  refusedOmitted: number;
  /** Which policy files decided, by id and version. */
  policies: { id: string; version: string; calls: number; denied: number }[];
  timeline: { bucketMs: number; buckets: TimelineBucket[] };
  /** Present when the period holds records of `tooltrail gateway`: both views of each MCP call joined (boundary.ts). */
  boundary?: BoundaryReport;
}

/**
 * Call records the collector received in the period whose start time is outside it (more than
 * OUT_OF_PERIOD_SLACK_MS before or after): not counted in the period, which goes by start time.
 * A late delivery (a spool sent after an outage) or a forged start time hiding a call from the
 * week's review. Only for a folder (`receivedAt` is the collector's); absent when there are none.
 */
export interface OutOfPeriod {
  count: number;
  /** The first 100, in storage order. */
  records: { time: string; receivedAt: string; tool: string; outcome: string; agent?: string; principal?: string; runId?: string; traceId: string; spanId: string }[];
}

export interface Totals {
  calls: number;
  ok: number;
  error: number;
  denied: number;
  invalid: number;
  pendingApproval: number;
  unfinished: number;
  /** Outcomes the schema does not name (a newer writer): counted, not guessed at. */
  other: number;
  /** Calls that took more than one attempt, and the extra attempts they took. */
  retriedCalls: number;
  retries: number;
  agents: number;
  principals: number;
  tools: number;
  runs: number;
}

export interface RefusalRow {
  key: string;
  denied: number;
  invalid: number;
  /** All calls with this key in the period, for scale. */
  calls: number;
}

export interface FirstUse {
  agent: string;
  tool: string;
  firstAt: string;
  calls: number;
  denied: number;
  invalid: number;
  errors: number;
  principal: string | undefined;
  runId: string | undefined;
  traceId: string;
}

export interface HotSpot {
  agent: string;
  tool: string;
  calls: number;
  errors: number;
  /** errors / calls, 0..1. */
  errorRate: number;
  retriedCalls: number;
  retries: number;
  /** The commonest error types, most first (at most three). */
  errorTypes: { type: string; count: number }[];
  /** A trace holding one of its failures (else one of its retries), to open first. */
  traceId: string;
}

export interface RunRow {
  /** `tooltrail.run.id`; calls outside a run are grouped by trace instead (runId undefined). */
  runId: string | undefined;
  traceId: string;
  agent: string;
  principal: string | undefined;
  start: string;
  end: string;
  calls: number;
  denied: number;
  invalid: number;
  errors: number;
  retries: number;
  pendingApproval: number;
}

export interface RefusedCall {
  time: string;
  outcome: 'denied' | 'invalid';
  agent: string;
  principal: string | undefined;
  tool: string;
  rule: string | undefined;
  reason: string | undefined;
  traceId: string;
  spanId: string;
  runId: string | undefined;
  callId: string;
  policyId: string | undefined;
  policyVersion: string | undefined;
  /** When a person (or a framework's approval step) decided. */
  approval: { decision: string; by?: string; reason?: string } | undefined;
}

export interface TimelineBucket {
  start: string;
  ok: number;
  error: number;
  denied: number;
  invalid: number;
  /** pending_approval, unfinished and unknown outcomes. */
  other: number;
}

/** What an agent is called in the report when its calls name none. */
export const NO_AGENT = '(no agent)';
export const NO_PRINCIPAL = '(no principal)';
export const NO_RULE = '(no rule)';

/** The MCP boundary (boundary.ts): both views of each call, joined by call id. */
export interface BoundaryCall {
  time: string;
  tool: string;
  callId: string;
  traceId: string;
  agent: string;
  principal: string | undefined;
  server: string | undefined;
  outcome: string;
  /** A gateway record the gateway filed under a fresh call id: the id the agent claimed (JSON text, as recorded) and why it was refused. */
  callIdClaimed?: string;
  callIdRejected?: string;
}

export interface JoinedCall extends BoundaryCall {
  /** The agent's record: what it proposed and what it was told. */
  agentOutcome: string;
  /** The gateway's record: what executed at the boundary. */
  gatewayOutcome: string;
  /** The two records disagree on the outcome, on the arguments (proposed vs executed), or on how many attempts reached the gateway. */
  differs: boolean;
  /** Attempts the agent's record made (`tooltrail.attempts`). */
  agentAttempts: number;
  /** Gateway records paired with it: one per attempt that reached the gateway (a retry sends the same call id again). */
  gatewayRecords: number;
}

/**
 * How the report told the gateway's records from the agents' (report/side.ts). Only `writer`
 * authenticates: the collector records which token sent each line, which no sender can choose.
 * A service name or the gateway's attributes are the sender's own word.
 */
export interface GatewaySide {
  authenticated: boolean;
  by: 'writer' | 'service' | 'attribute';
  /** The `--gateway-writer` names (by `writer`), or the `--gateway-service` names. */
  names: string[];
  /** Set when not authenticated: `gateway side not authenticated: ...`, said as such in every output. */
  warning?: string;
}

/** A record that carries the gateway's attributes (a run-token claim, or a tool_changed record) but was not written by the gateway. */
export interface NotGatewayRecord {
  time: string;
  tool: string;
  callId: string;
  traceId: string;
  principal: string | undefined;
  /** The collector writer that sent it; undefined when the line records none. */
  writer: string | undefined;
  service: string | undefined;
  /** `call` or `tool_changed`. */
  record: string;
}

export interface BoundaryReport {
  /** How the gateway's records were told; when not authenticated the join is not verified. */
  gatewaySide: GatewaySide;
  gatewayCalls: number;
  agentCalls: number;
  /** Agent records joined with at least one gateway record. */
  joined: number;
  /** Joined calls with more than one gateway record (retries), and those extra gateway records. */
  joinedRetried: number;
  joinedRetryRecords: number;
  /** Joined calls whose two records disagree (outcome or arguments), up to the cap. */
  disagreeing: JoinedCall[];
  gatewayOnly: BoundaryCall[];
  gatewayOnlyCount: number;
  /** Only meaningful when the period has gateway records: then each is flagged. */
  agentOnly: BoundaryCall[];
  agentOnlyCount: number;
  changedTools: (BoundaryCall & { hashOld: string; hashNew: string })[];
  /** Every tool definition the gateway saw changed under its pin (its `tool_changed` records), called afterwards or not, up to the cap. */
  definitionChanges: DefinitionChange[];
  definitionChangeCount: number;
  /** Gateway records filed under a fresh call id (the claimed one was invalid or another run's): never paired by the claim. */
  freshIds: BoundaryCall[];
  freshIdCount: number;
  /** Records with the gateway's attributes from a writer (or service) that is not the gateway's: not counted as the gateway's. */
  notGateway: NotGatewayRecord[];
  notGatewayCount: number;
}

/** A `tool_changed` record: a server changed a tool's definition under its pin. */
export interface DefinitionChange {
  time: string;
  tool: string;
  server: string | undefined;
  hashOld: string;
  hashNew: string;
  /** What the gateway did with the tool until re-pinned: `deny` or `hide`. */
  action: string;
  principal: string | undefined;
  runId: string | undefined;
  traceId: string;
}
