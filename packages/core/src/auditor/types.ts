import type { AuditLogger } from '../contract/logger.js';
import type { SinkStats } from '../contract/record-sink.js';
import type { RefusedCall } from '../contract/refusal.js';
import type { RunIdentityInput } from '../identity/run-context.js';
import type { CallMeta, ToolArgs, ToolFunction, ToolOptions } from '../call/tool-definition.js';
import type { RefusedCallInput } from '../call/refused.js';
import type { ApprovalHandler, PendingApprovalInput, PreviewDecision } from '../call/approval-handler.js';
import type { FilePolicyStatus } from '../policy/file/file-policy.js';
import type { AuditEventInput } from '../call/event-record.js';

// The auditor's public types, apart from its implementation so that helpers (the brand, the
// default auditor) can name them without importing the class.

/** A wrapped tool: same parameters and `this`, always returns a promise. */
export type AuditedFunction<F extends ToolFunction> = ((
  this: ThisParameterType<F>,
  ...args: Parameters<F>
) => Promise<Awaited<ReturnType<F>>>) & {
  /** The tool name recorded as `gen_ai.tool.name`. */
  readonly toolName: string;
  /** The function that was wrapped. */
  readonly original: F;
  /** Calls the tool with facts a framework knows: its call id, the model's proposed arguments, `this`. */
  invokeWith(meta: CallMeta & { thisArg?: ThisParameterType<F> }, ...args: Parameters<F>): Promise<Awaited<ReturnType<F>>>;
  /**
   * Records a call the framework refused before any body ran (bad JSON from the model, a
   * guardrail, a rejected approval it handled itself). Never runs the body; returns the
   * AuditDeniedError / AuditValidationError describing the refusal, without throwing it.
   */
  recordRefused(input: RefusedCallInput): RefusedCall;
  /**
   * The decision a call with these arguments would get (identity, policy file, auditor and
   * tool rules, in that order), without running the body, asking anyone or recording anything.
   * Adapters use it to route an `ask` into their framework's approval flow.
   */
  previewDecision(args: ToolArgs<F>, meta?: { callId?: string }): Promise<PreviewDecision>;
};

/** A registry with every function property audited; other properties are kept as they are. */
export type AuditedTools<T> = { [K in keyof T]: T[K] extends ToolFunction ? AuditedFunction<T[K]> : T[K] };

export interface AuditToolsOptions extends Omit<ToolOptions, 'name' | 'description' | 'callId'> {
  /** Options for single tools, by registry key (name defaults to the key). */
  tools?: Record<string, ToolOptions>;
}

export interface AuditStats extends SinkStats {
  /** Calls recorded, by outcome. */
  calls: { ok: number; error: number; denied: number; invalid: number };
  /** Payloads recorded as `[MASKING_FAILED]` because masking them threw (fail closed). */
  maskingFailures: number;
  /** Records lost because the record path threw (each also warned about). */
  recordErrors: number;
  /** Calls whose body was still running at shutdown or exit, recorded as `unfinished`. */
  unfinishedCalls: number;
  /**
   * Records that finished after their stream had ended (an unfinished call's own record): not
   * kept, since a record after the stream end is what an appended forgery looks like; each is
   * warned about.
   */
  lateRecords: number;
  /** Calls recorded `pending_approval` (recordPendingApproval). */
  pendingApprovals: number;
  /** Reloads of the policy file that failed (the last good policy stayed in force). */
  policyReloadFailures: number;
}

export interface Auditor {
  readonly serviceName: string;
  /** Where spans are sent, or `custom exporter`. */
  readonly destination: string;
  withAudit<F extends ToolFunction>(fn: F, options?: ToolOptions<F>): AuditedFunction<F>;
  auditTools<T extends object>(tools: T, options?: AuditToolsOptions): AuditedTools<T>;
  /** Runs `fn` as an audited run: every wrapped call inside is attributed to `identity`. */
  run<R>(identity: RunIdentityInput, fn: () => R): Promise<Awaited<R>>;
  /** Waits until everything recorded so far is delivered, or the deadline. True when all was. */
  flush(timeoutMs?: number): Promise<boolean>;
  /**
   * Refuses new calls at once (AuditUnavailableError, code `TOOLTRAIL_SHUT_DOWN`), waits for the
   * calls in flight (at most half the deadline), records those still running as unfinished,
   * ends the integrity stream and delivers within the deadline. True only when every record
   * was delivered and no call was left unfinished. Calling it again returns the same promise.
   */
  shutdown(timeoutMs?: number): Promise<boolean>;
  stats(): AuditStats;
  readonly isShutdown: boolean;
  /** This auditor's integrity stream (`tooltrail.stream.id`), or undefined with integrity off. */
  readonly streamId: string | undefined;
  /** Where this auditor's warnings go (`options.logger`, else the console); adapters warn through it. */
  readonly logger: AuditLogger;
  /**
   * Records a call a framework holds for approval and resumes later (its run may end first):
   * an `execute_tool` record with outcome `pending_approval`; the body never ran. The resumed
   * call (`invokeWith({ callId, approval })`, same call id) carries `tooltrail.approval.resumed`.
   */
  recordPendingApproval(tool: string, input: PendingApprovalInput): void;
  /**
   * Records something that is not a call (a tool's definition seen changed under its pin): one
   * zero-length `tooltrail.<kind>` span with `tooltrail.record = <kind>`, under the active run,
   * masked and chained like a call's record. True when written (strict: made durable). Throws
   * AuditUnavailableError after shutdown, AuditConfigError on a bad kind.
   */
  recordEvent(input: AuditEventInput): boolean;
  /** The policy file's state (id, version, reloads, last error), or undefined without one. */
  policyStatus(): FilePolicyStatus | undefined;
  /** `approval.handler`, when one was given: adapters answer an `ask` with it rather than interrupt their framework. */
  readonly approvalHandler: ApprovalHandler | undefined;
}

