import type { AuditLogger } from '../contract/logger.js';
import { loadFilePolicy, type FilePolicy, type FilePolicyStatus } from '../policy/file/file-policy.js';
import type { ApprovalHandler } from '../call/approval-handler.js';
import type { HeldCall, HeldPending } from '../call/engine.js';
import { DEFAULT_APPROVAL_TIMEOUT_MS, type AuditorOptions } from './config.js';

/** How many held call ids an auditor remembers; the oldest are forgotten first. */
const MAX_PENDING = 10_000;

/**
 * The auditor's side of the security team's policy and of approvals: the policy file (loaded
 * once, watched until shutdown), the approval handler and its deadline, and the call ids held
 * `pending_approval`, so the resumed call can be linked and a resume past the deadline denied.
 */
export class PolicyWiring {
  readonly file: FilePolicy | undefined;
  readonly handler: ApprovalHandler | undefined;
  readonly timeoutMs: number;
  private readonly held = new Map<string, HeldPending>();

  constructor(options: AuditorOptions, logger: AuditLogger) {
    this.handler = options.approval?.handler;
    this.timeoutMs = options.approval?.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    // Synchronous: a file that does not parse or verify is an AuditConfigError from createAuditor().
    this.file = options.policyFile === undefined ? undefined : loadFilePolicy(options.policyFile, { logger });
  }

  hold(call: HeldCall): void {
    this.held.delete(call.callId);
    this.held.set(call.callId, { at: Date.now(), argsHash: call.argsHash });
    if (this.held.size > MAX_PENDING) {
      const oldest = this.held.keys().next();
      if (oldest.done !== true) this.held.delete(oldest.value);
    }
  }

  take(callId: string): HeldPending | undefined {
    if (this.held.size === 0) return undefined;
    const held = this.held.get(callId);
    if (held !== undefined) this.held.delete(callId);
    return held;
  }

  status(): FilePolicyStatus | undefined {
    return this.file?.status();
  }

  get reloadFailures(): number {
    if (this.file === undefined) return 0;
    try {
      return this.file.status().reloadFailures;
    } catch {
      return 0;
    }
  }

  /** Stops watching the file; its last policy stays usable for anything still deciding. */
  close(): void {
    this.file?.close();
  }
}
