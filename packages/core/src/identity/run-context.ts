import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Span } from '@opentelemetry/api';

export interface Principal {
  /** Who the run acts for: a user, a service account, an API client. Recorded as `user.id`. */
  id: string;
  /** Free-form kind of principal, e.g. `user`, `service`. */
  type?: string;
}

export interface AgentIdentity {
  name?: string;
  id?: string;
}

export type RunAttributeValue = string | number | boolean;

/** What the caller passes to `auditor.run()`. */
export interface RunIdentityInput {
  principal: Principal;
  agent?: AgentIdentity;
  conversationId?: string;
  /** Generated (a UUID) when absent. */
  runId?: string;
  /** Extra correlation attributes, recorded as `tooltrail.run.attr.<key>`. */
  attributes?: Record<string, RunAttributeValue>;
}

/** The identity in force inside a run, as tools and policy rules see it. */
export interface RunIdentity {
  readonly runId: string;
  readonly parentRunId: string | undefined;
  readonly principal: Readonly<Principal>;
  readonly agent: Readonly<AgentIdentity> | undefined;
  readonly conversationId: string | undefined;
  readonly attributes: Readonly<Record<string, RunAttributeValue>>;
}

/** The execution in force inside a tool body. */
export interface CallInfo {
  readonly tool: string;
  readonly callId: string;
  /** 1-based, counted across framework retries that reuse the call id. */
  readonly attempt: number;
  /** W3C trace context of the attempt span, for downstream requests made by the tool. */
  readonly traceparent: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly run: RunIdentity | undefined;
}

export interface AuditStore {
  readonly run: RunIdentity | undefined;
  /** The run's own span, parent of its tool spans when the app has no active span of its own. */
  readonly runSpan: Span | undefined;
  /** Context carrying runSpan, built once per run rather than once per call. */
  readonly runContext: Context | undefined;
  readonly call: CallInfo | undefined;
}

// One store per process, even when the ESM and CJS builds are both loaded (dual-package hazard):
// a run opened through one copy must be visible to tools wrapped through the other.
const STORE_KEY = Symbol.for('tooltrail.core.async-store.v1');
type GlobalWithStore = typeof globalThis & { [STORE_KEY]?: AsyncLocalStorage<AuditStore> };
const g = globalThis as GlobalWithStore;
export const auditStorage: AsyncLocalStorage<AuditStore> = (g[STORE_KEY] ??= new AsyncLocalStorage<AuditStore>());

/** The run identity in force, or undefined outside `auditor.run()`. */
export function currentRun(): RunIdentity | undefined {
  return auditStorage.getStore()?.run;
}

/** The tool call in force, or undefined outside a wrapped tool body. */
export function currentCall(): CallInfo | undefined {
  return auditStorage.getStore()?.call;
}

export function freezeIdentity(input: RunIdentityInput, runId: string, parentRunId: string | undefined): RunIdentity {
  return Object.freeze({
    runId,
    parentRunId,
    principal: Object.freeze({ ...input.principal }),
    agent: input.agent ? Object.freeze({ ...input.agent }) : undefined,
    conversationId: input.conversationId,
    attributes: Object.freeze({ ...(input.attributes ?? {}) }),
  });
}
