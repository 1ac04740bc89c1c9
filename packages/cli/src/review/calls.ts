import { createHash } from 'node:crypto';
import * as sc from '@tooltrail/core/semconv';
import type { TrailAttributes, TrailSpan, TrailValue } from '../trail/record.js';
import { openSource, type VerifySource } from '../verify/sources.js';

/**
 * One recorded tool call, flattened for the review commands (`report`, `check`, `policy test`).
 * Only what the span schema (docs/span-schema.md) records; nothing is inferred. New fields are
 * added as optional fields only: three commands read this shape.
 */
export interface CallView {
  traceId: string;
  spanId: string;
  /** Start of the call, ms since the epoch. */
  time: number;
  durationMs: number;
  tool: string;
  callId: string;
  /** `ok` | `error` | `denied` | `invalid` | `pending_approval` | `unfinished`. */
  outcome: string;
  decision?: string;
  rule?: string;
  reason?: string;
  policyId?: string;
  policyVersion?: string;
  runId?: string;
  agentName?: string;
  agentId?: string;
  principalId?: string;
  principalType?: string;
  attempts: number;
  /** Attempts beyond the first (`tooltrail.attempts` - 1, never below 0). */
  retries: number;
  errorType?: string;
  approval?: { decision: string; by?: string; reason?: string };
  /** `gen_ai.tool.call.arguments` as recorded (masked). */
  argsJson?: string;
  proposedJson?: string;
  service?: string;
  streamId?: string;
  /**
   * Which side of an MCP call this record SAYS it is: `gateway` (it carries a run-token claim, as
   * every record of `tooltrail gateway` does) or `agent` (an `@tooltrail/mcp` record of a
   * tools/call). The record's own word: any writer can set these attributes, so the report
   * decides the gateway's side from `writer` (or the service) when told to (report/side.ts).
   * Undefined for other tools.
   */
  side?: 'gateway' | 'agent';
  /** `tooltrail.mcp.server.name`. */
  serverName?: string;
  /** A call the gateway denied because the tool's definition changed since it was pinned. */
  toolHash?: { old: string; new: string };
  /**
   * The collector writer the record's request authenticated as (`tooltrail collect --tokens`);
   * undefined for query APIs and collectors that take any writer. The one thing about a record
   * its sender cannot choose: the report tells the gateway's records by it (`--gateway-writer`).
   */
  writer?: string;
  /** `tooltrail.call_id.claimed`: the call id the agent claimed when the gateway recorded the call under a fresh one (JSON text). */
  callIdClaimed?: string;
  /** When the collector received the record (its line's `receivedAt`), ms since the epoch; undefined for a query API. */
  receivedAt?: number;
  /** `tooltrail.call_id.rejected`: why (`not_string`, `empty`, `too_long`, `charset`, `reused`). */
  callIdRejected?: string;
}

const { ATTR_POLICY_ID, ATTR_POLICY_VERSION } = sc;
// Written by @tooltrail/gateway and @tooltrail/mcp (docs/span-schema.md, "Attributes the gateway adds").
const ATTR_RUN_CLAIM = 'tooltrail.run.claim';
const ATTR_MCP_METHOD = 'mcp.method.name';
const ATTR_MCP_SERVER = 'tooltrail.mcp.server.name';
const ATTR_TOOL_HASH_OLD = 'tooltrail.mcp.tool.hash.old';
const ATTR_TOOL_HASH_NEW = 'tooltrail.mcp.tool.hash.new';
const ATTR_CALL_ID_CLAIMED = 'tooltrail.call_id.claimed';
const ATTR_CALL_ID_REJECTED = 'tooltrail.call_id.rejected';

function str(attrs: TrailAttributes, key: string): string | undefined {
  const v: TrailValue | undefined = attrs[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function int(attrs: TrailAttributes, key: string): number | undefined {
  const v = attrs[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Nanoseconds (decimal string) to ms; `Number` keeps ~0.25 µs at today's epoch, plenty here. */
function nanosToMs(ns: string): number {
  const n = Number(ns);
  return Number.isFinite(n) ? n / 1e6 : 0;
}

/**
 * The call a record describes: `execute_tool` records, and `tool_intent` records marked
 * `unfinished` (the body was still running at shutdown: outcome `unfinished`). Undefined for
 * everything else (runs, attempts, strict-mode intents, checkpoints, other services' spans).
 */
export function toCallView(span: TrailSpan, writer?: string): CallView | undefined {
  const a = span.attributes;
  const name = span.name;
  let outcome: string | undefined;
  if (name.startsWith(sc.SPAN_NAME_INTENT)) {
    if (str(a, sc.ATTR_RECORD) !== sc.RECORD_UNFINISHED) return undefined;
    outcome = 'unfinished';
  } else if (name.startsWith(sc.SPAN_NAME_EXECUTE_TOOL) || a[sc.ATTR_GEN_AI_OPERATION_NAME] === sc.OPERATION_EXECUTE_TOOL) {
    if (name.startsWith(sc.SPAN_NAME_ATTEMPT)) return undefined;
    outcome = str(a, sc.ATTR_OUTCOME) ?? (span.status.code === 2 ? 'error' : 'ok');
  } else {
    return undefined;
  }
  const tool = str(a, sc.ATTR_GEN_AI_TOOL_NAME) ?? name.slice(name.indexOf(' ') + 1);
  const time = nanosToMs(span.startTimeUnixNano);
  const attempts = int(a, sc.ATTR_ATTEMPTS) ?? 0;
  const view: CallView = {
    traceId: span.traceId,
    spanId: span.spanId,
    time,
    durationMs: Math.max(0, nanosToMs(span.endTimeUnixNano) - time),
    tool,
    callId: str(a, sc.ATTR_GEN_AI_TOOL_CALL_ID) ?? '',
    outcome,
    attempts,
    retries: Math.max(0, attempts - 1),
  };
  const optional: [keyof CallView, string][] = [
    ['decision', sc.ATTR_DECISION],
    ['rule', sc.ATTR_POLICY_RULE],
    ['reason', sc.ATTR_POLICY_REASON],
    ['policyId', ATTR_POLICY_ID],
    ['policyVersion', ATTR_POLICY_VERSION],
    ['runId', sc.ATTR_RUN_ID],
    ['agentName', sc.ATTR_GEN_AI_AGENT_NAME],
    ['agentId', sc.ATTR_GEN_AI_AGENT_ID],
    ['principalId', sc.ATTR_USER_ID],
    ['principalType', sc.ATTR_PRINCIPAL_TYPE],
    ['errorType', sc.ATTR_ERROR_TYPE],
    ['argsJson', sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS],
    ['proposedJson', sc.ATTR_ARGUMENTS_PROPOSED],
    ['streamId', sc.ATTR_STREAM_ID],
    ['callIdClaimed', ATTR_CALL_ID_CLAIMED],
    ['callIdRejected', ATTR_CALL_ID_REJECTED],
  ];
  const target = view as unknown as Record<string, unknown>;
  for (const [field, key] of optional) {
    const v = str(a, key);
    if (v !== undefined) target[field] = v;
  }
  const service = str(span.resource, sc.ATTR_SERVICE_NAME);
  if (service !== undefined) view.service = service;
  if (writer !== undefined) view.writer = writer;
  const received = receivedAtOf(span);
  if (received !== undefined) view.receivedAt = received;
  if (str(a, ATTR_RUN_CLAIM) !== undefined) view.side = 'gateway';
  else if (str(a, ATTR_MCP_METHOD) === 'tools/call') view.side = 'agent';
  const server = str(a, ATTR_MCP_SERVER);
  if (server !== undefined) view.serverName = server;
  const hashOld = str(a, ATTR_TOOL_HASH_OLD);
  const hashNew = str(a, ATTR_TOOL_HASH_NEW);
  if (hashOld !== undefined && hashNew !== undefined) view.toolHash = { old: hashOld, new: hashNew };
  const approvalDecision = str(a, sc.ATTR_APPROVAL_DECISION);
  if (approvalDecision !== undefined) {
    const by = str(a, sc.ATTR_APPROVAL_BY);
    const reason = str(a, sc.ATTR_APPROVAL_REASON);
    view.approval = { decision: approvalDecision, ...(by !== undefined ? { by } : {}), ...(reason !== undefined ? { reason } : {}) };
  }
  return view;
}

/** What reading a source found besides its calls: its problems (the first 100) and their count. */
export interface ReadInfo {
  problems: string[];
  problemCount: number;
  description: string;
  records: number;
}

export interface ReadCallsOptions {
  /** Called once the source has been read: its problems (torn lines, failed queries), the first 100, and their count. */
  onDone?: (info: ReadInfo) => void;
}

/**
 * Every call of a source in `[since, until)`, in storage order, each once: identical
 * duplicates (at-least-once delivery) are dropped by trace and span id; a different record
 * under the same ids is a source problem (`conflicting copies`), the first copy counted.
 * Streams the source; holds a short digest per id seen.
 */
export function readCalls(source: VerifySource, range: { since?: Date; until?: Date } = {}, options: ReadCallsOptions = {}): AsyncGenerator<CallView> {
  return readMapped(source, range, toCallView, options.onDone);
}

/** A record's content without when it arrived: two deliveries of one span differ only in `receivedAt` (and the line they are on). */
function contentDigest(span: TrailSpan): string {
  const json = JSON.stringify(span, (key, value: unknown) => (key === 'receivedAt' ? undefined : value));
  return createHash('sha256').update(json).digest('base64').slice(0, 22);
}

/** When the collector received a record (`receivedAt` on every line it writes); undefined for a query API. */
export function receivedAtOf(span: TrailSpan): number | undefined {
  const r = (span as { receivedAt?: unknown }).receivedAt;
  if (typeof r !== 'string') return undefined;
  const t = Date.parse(r);
  return Number.isFinite(t) ? t : undefined;
}

const KEPT_PROBLEMS = 100;

export interface ReadMappedOptions<T> {
  /** Each mapped record whose start time is outside the range (the range filter drops it), every copy. */
  outside?: (view: T) => void;
}

/** readCalls with another view of each record (`policy test` keeps the run attributes too). */
export async function* readMapped<T extends { time: number; traceId: string; spanId: string }>(
  source: VerifySource,
  range: { since?: Date; until?: Date },
  /** `writer`: the collector writer of the record's line, when the source records one. */
  map: (span: TrailSpan, writer: string | undefined) => T | undefined,
  onDone?: (info: ReadInfo) => void,
  options: ReadMappedOptions<T> = {},
): AsyncGenerator<T> {
  const from = range.since?.getTime() ?? -Infinity;
  const to = range.until?.getTime() ?? Infinity;
  const opened = openSource(source);
  // Id -> digest and where the first copy was read.
  const seen = new Map<string, { digest: string; where: string }>();
  const conflicts: string[] = [];
  let conflictCount = 0;
  let records = 0;
  for await (const entry of opened.entries) {
    records++;
    const view = map(entry.span, entry.writer);
    if (view === undefined) continue;
    if (view.time < from || view.time >= to) {
      options.outside?.(view);
      continue;
    }
    const key = `${view.traceId}\u0000${view.spanId}`;
    const digest = contentDigest(entry.span);
    const where = entry.where ?? `${view.traceId}/${view.spanId}`;
    const first = seen.get(key);
    if (first !== undefined) {
      // Identical: at-least-once delivery, dropped silently. Different: two records claim to be
      // one span (a forged or damaged copy); which one is true cannot be told, so say so.
      if (first.digest !== digest) {
        conflictCount++;
        if (conflicts.length < KEPT_PROBLEMS) conflicts.push(`conflicting copies: trace ${view.traceId} span ${view.spanId}: ${where} differs from the copy at ${first.where} (the first copy is counted)`);
      }
      continue;
    }
    seen.set(key, { digest, where });
    yield view;
  }
  onDone?.({
    problems: [...opened.problems, ...conflicts].slice(0, KEPT_PROBLEMS),
    problemCount: opened.problemCount() + conflictCount,
    description: opened.description,
    records,
  });
}
