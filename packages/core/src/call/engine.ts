import type { Attributes } from '@opentelemetry/api';
import type { AuditTracer } from '../tracing/audit-tracer.js';
import type { AuditUnavailableError } from '../contract/errors.js';
import type { RunIdentity } from '../identity/run-context.js';
import type { PendingDecision } from '../policy/deadline.js';
import type { PolicyRule } from '../policy/decisions.js';
import type { PayloadEncoder } from '../payload/payload-encoder.js';
import type * as sc from '../contract/semconv.js';
import type { CallAttempts } from './call-attempts.js';
import type { FileStep } from '../policy/evaluate.js';
import type { ApprovalHandler } from './approval-handler.js';
import type { ArgumentsKey } from './args-binding.js';

/** The policy file as calls use it: a decision step, and the id and version to record. */
export interface EnginePolicyFile extends FileStep {
  readonly id: string;
  readonly version: string;
}

/** What one auditor lends every call it records. */
export interface InvokeEngine {
  readonly tracer: AuditTracer;
  readonly encoder: PayloadEncoder;
  readonly policy: readonly PolicyRule[];
  readonly requireIdentity: boolean;
  readonly attempts: CallAttempts;
  /** Identity attributes of a run, computed (and masked) once per run. */
  runAttributes(run: RunIdentity): Attributes;
  countOutcome(outcome: sc.Outcome): void;
  readonly durability: 'buffered' | 'strict';
  /** The key argument hashes (an approval's binding to its arguments) are made with: args-binding.ts. */
  readonly argsKey: ArgumentsKey;
  readonly failMode: 'open' | 'closed';
  /** Under failMode 'closed': the error to refuse a call with, when records cannot be kept. */
  refusal(): AuditUnavailableError | undefined;
  /** Under strict durability: makes every record so far durable; false when it cannot. */
  commit(): boolean;
  /** The auditor's deadline for schema and policy decisions (a tool may set its own). */
  readonly policyTimeoutMs: number;
  /** The policy file, checked first after identity; undefined without one (the default). */
  readonly policyFile: EnginePolicyFile | undefined;
  /** Who answers `ask`; undefined: an `ask` without an approval on the call is denied. */
  readonly approvalHandler: ApprovalHandler | undefined;
  /** How long a call waits for an approval (the handler's answer, or a resume after a pending record). */
  readonly approvalTimeoutMs: number;
  /** A call id held `pending_approval` by this auditor: when it was held (ms) and its arguments' hash, then forgotten. */
  takePending(callId: string): HeldPending | undefined;
  /** Decisions still pending, so shutdown can decide them at once. */
  readonly pendingDecisions: Set<PendingDecision>;
  /** Book-keeping of calls between their start and their record (shutdown waits for them). */
  callStarted(call: InFlightCall): void;
  callSettled(call: InFlightCall): void;
  /** Undefined while tool bodies may start; once shutdown has finished waiting, the refusal. */
  bodyGate(): AuditUnavailableError | undefined;
  /** A retry back-off; resolves false when shutdown cut it short (no further attempt then). */
  backoff(ms: number): Promise<boolean>;
  /** A record could not be written (the record path threw): counted and warned about. */
  recordFailed(err: unknown): void;
}

/** What the auditor can do with a call still in flight when it shuts down or the process exits. */
export interface InFlightCall {
  /** True once a body attempt started (and the call has no final record yet). */
  readonly bodyStarted: boolean;
  /** Writes a `tool_intent` record with `tooltrail.record = unfinished`: the body ran, its end is unknown. */
  writeUnfinished(): void;
}

/** A call recordPendingApproval held: its id and the hash of its arguments (null: none to hash). */
export interface HeldCall {
  readonly callId: string;
  readonly argsHash: string | null;
}

/** What the auditor remembers of a held call until it resumes: when, and its arguments' hash. */
export interface HeldPending {
  readonly at: number;
  readonly argsHash: string | null;
}
