import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApprovalRecord, AuditedFunction, SchemaIssue } from '@tooltrail/core';

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
  /** The call stopped for approval (an interruption) and this is its resumption. */
  resumed: boolean;
  /** Set when the SDK refused the input: the adapter's schema reports these to core. */
  invalidIssues: SchemaIssue[] | undefined;
}

export function newCallState(callId: string | undefined, input: string, runContext: unknown, details: unknown): CallState {
  return { callId, input, runContext, details, entered: false, argument: undefined, approval: undefined, resumed: false, invalidIssues: undefined };
}

/** What rejectToolCall needs to record a call of an audited tool the SDK will never invoke. */
export interface ToolRecord {
  readonly name: string;
  readonly audited: AuditedFunction<AuditedBody>;
}

/**
 * The adapter's state, one per process rather than per build: a tool made by this package's
 * ESM build may be approved with the helpers of its CJS build (an app and a library it uses
 * can load different builds), and both must find the same tools, decisions and current call.
 */
interface AdapterState {
  /**
   * The SDK calls `execute` and `errorFunction` from inside the tool's `invoke`; the call's facts
   * travel there through this store, since `errorFunction` gets no details when the SDK redacts
   * tool data (its default).
   */
  readonly callStore: AsyncLocalStorage<CallState>;
  /** Audited tools by their `invoke` function, which `toolNamespace()` clones keep. */
  readonly registry: WeakMap<object, ToolRecord>;
  /**
   * Approvals made through `approveToolCall`, per run (the SDK's `RunContext`, the same object
   * the tool's `invoke` receives) and call id, so one run's approver is never attributed to
   * another run's call that happens to reuse a call id.
   */
  readonly decisions: WeakMap<object, Map<string, ApprovalRecord>>;
}
const STATE_KEY = Symbol.for('tooltrail.openai-agents.state.v1');
type GlobalWithState = typeof globalThis & { [STATE_KEY]?: AdapterState };
const shared = ((globalThis as GlobalWithState)[STATE_KEY] ??= {
  callStore: new AsyncLocalStorage<CallState>(),
  registry: new WeakMap(),
  decisions: new WeakMap(),
});

export const callStore = shared.callStore;
export const registry = shared.registry;
const decisions = shared.decisions;

/** The model's proposal as a value: its JSON parsed, else the raw text. */
export function proposalOf(input: string): unknown {
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}

const standingKey = (tool: string) => `\u0000tool:${tool}`;

export function rememberDecision(runContext: object, callId: string, tool: string, record: ApprovalRecord, standing: boolean): void {
  let byCall = decisions.get(runContext);
  if (!byCall) decisions.set(runContext, (byCall = new Map()));
  byCall.set(callId, record);
  if (standing) byCall.set(standingKey(tool), record);
}

/** Whether `approveToolCall` decided this very call (not a standing approval of the tool). */
export function hasOwnDecision(runContext: unknown, callId: string | undefined): boolean {
  if (typeof runContext !== 'object' || runContext === null || callId === undefined) return false;
  return decisions.get(runContext)?.has(callId) === true;
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

/**
 * Call ids already recorded as rejected, per run (its `RunContext`, else the approval item): a
 * `rejectToolCall` repeated for the same call (a retry of the app's handler) records it once.
 * Under its own global key, so a state made by an older build without it is left as it is.
 */
const REJECTED_KEY = Symbol.for('tooltrail.openai-agents.rejected.v1');
type GlobalWithRejected = typeof globalThis & { [REJECTED_KEY]?: WeakMap<object, Set<string>> };
const rejected = ((globalThis as GlobalWithRejected)[REJECTED_KEY] ??= new WeakMap());

/** True the first time this call of this run is rejected, false on every repeat. */
export function firstRejection(run: object, callId: string): boolean {
  let ids = rejected.get(run);
  if (!ids) rejected.set(run, (ids = new Set()));
  if (ids.has(callId)) return false;
  ids.add(callId);
  return true;
}

/**
 * Call ids already recorded as pending approval, per run (its `RunContext`): a run resumed
 * without a decision stops for the same call again, and that is one pending call, not two.
 */
const PENDING_KEY = Symbol.for('tooltrail.openai-agents.pending.v1');
type GlobalWithPending = typeof globalThis & { [PENDING_KEY]?: WeakMap<object, Set<string>> };
const pending = ((globalThis as GlobalWithPending)[PENDING_KEY] ??= new WeakMap());

/** Whether this call of this run stopped for approval (in this process). */
export function wasPending(run: unknown, callId: string | undefined): boolean {
  if (typeof run !== 'object' || run === null || callId === undefined) return false;
  return pending.get(run)?.has(callId) === true;
}

/** True the first time this call of this run stops for approval. */
export function firstPending(run: object, callId: string): boolean {
  let ids = pending.get(run);
  if (!ids) pending.set(run, (ids = new Set()));
  if (ids.has(callId)) return false;
  ids.add(callId);
  return true;
}
