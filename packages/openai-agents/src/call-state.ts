import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditedFunction, SchemaIssue } from '@tooltrail/core';

/** A person's decision on a call that needed approval. */
export interface ApprovalRecord {
  readonly decision: 'approved' | 'rejected';
  readonly approver?: string | undefined;
  readonly reason?: string | undefined;
}

/** The audited body: the tool's execute, called with the call's facts as `this`. */
export type AuditedBody = (this: CallState, args: unknown) => Promise<unknown>;

/** One tool call as the adapter follows it through the SDK. */
export interface CallState {
  /** The SDK's tool call id (`toolCall.callId`). */
  readonly callId: string | undefined;
  /** The model's arguments, the raw JSON text. */
  readonly input: string;
  runContext: unknown;
  details: unknown;
  /** The SDK parsed the input and called `execute`. */
  entered: boolean;
  /** The value handed to the audited function; a different value in validation is a policy rewrite. */
  argument: unknown;
  approval: ApprovalRecord | undefined;
  /** Set when the SDK refused the input: the adapter's schema reports these to core. */
  invalidIssues: SchemaIssue[] | undefined;
}

export function newCallState(callId: string | undefined, input: string, runContext: unknown, details: unknown): CallState {
  return { callId, input, runContext, details, entered: false, argument: undefined, approval: undefined, invalidIssues: undefined };
}

/**
 * The SDK calls `execute` and `errorFunction` from inside the tool's `invoke`; the call's facts
 * travel there through this store, since `errorFunction` gets no details when the SDK redacts
 * tool data (its default).
 */
export const callStore = new AsyncLocalStorage<CallState>();

/** The model's proposal as a value: its JSON parsed, else the raw text. */
export function proposalOf(input: string): unknown {
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}

/** What `rejectToolCall` needs to record a call of an audited tool the SDK will never invoke. */
export interface ToolRecord {
  readonly name: string;
  readonly audited: AuditedFunction<AuditedBody>;
}

/** Audited tools by their `invoke` function, which `toolNamespace()` clones keep. */
export const registry = new WeakMap<object, ToolRecord>();

/**
 * Approval decisions made through `approveToolCall`, per run (the SDK's `RunContext`, the same
 * object the tool's `invoke` receives) and call id, so one run's approver is never attributed to
 * another run's call that happens to reuse a call id.
 */
const decisions = new WeakMap<object, Map<string, ApprovalRecord>>();
const standingKey = (tool: string) => `\u0000tool:${tool}`;

export function rememberDecision(runContext: object, callId: string, tool: string, record: ApprovalRecord, standing: boolean): void {
  let byCall = decisions.get(runContext);
  if (!byCall) decisions.set(runContext, (byCall = new Map()));
  byCall.set(callId, record);
  if (standing) byCall.set(standingKey(tool), record);
}

/** The decision on this call (consumed), else a standing approval of the tool in this run. */
export function takeDecision(runContext: unknown, callId: string | undefined, tool: string): ApprovalRecord | undefined {
  if (typeof runContext !== 'object' || runContext === null) return undefined;
  const byCall = decisions.get(runContext);
  if (!byCall) return undefined;
  if (callId !== undefined) {
    const own = byCall.get(callId);
    if (own) {
      byCall.delete(callId);
      return own;
    }
  }
  return byCall.get(standingKey(tool));
}
