/**
 * How an adapter routes a policy `ask`: to the auditor's approval handler, or into its
 * framework's own approval flow (OpenAI Agents interruptions, AI SDK tool approval). Core's side
 * is read by shape, so an auditor of core's other build, or an older core, still works.
 */
import type { Auditor } from '../auditor/types.js';
import { loggerOf } from './resolve-auditor.js';

/**
 * Who answers a call the policy says to `ask` about:
 * - `'auto'` (default): the auditor's approval handler (`createAuditor({ approval: { handler } })`)
 *   when one is configured, else the framework's approval flow.
 * - `'framework'`: always the framework's flow (the run stops, or the step ends with an
 *   approval request, and the app answers later), even when a handler is configured.
 * - `'handler'`: never the framework's flow: core asks its handler in-process (and denies, fail
 *   closed, when there is none).
 */
export type ApprovalRoute = 'auto' | 'framework' | 'handler';

/** What `AuditedFunction.previewDecision` answers: core's decision, nothing run or recorded. */
export interface PreviewedDecision {
  kind: 'allow' | 'deny' | 'ask' | 'rewrite';
  rule?: string;
  reason?: string;
}

interface Previewable {
  previewDecision?(args: unknown, meta?: { callId?: string }): Promise<PreviewedDecision>;
}

interface PendingInput {
  callId: string;
  args: unknown;
  rule?: string;
  reason?: string;
}

/** Core's side, read by shape: an auditor of core's other build, or an older core, still works. */
interface ApprovalAware {
  recordPendingApproval?(tool: string, input: PendingInput): unknown;
  /** The handler given as `createAuditor({ approval: { handler } })` (core's AuditorImpl). */
  readonly approvalHandler?: unknown;
}

/** Whether this auditor answers `ask` in-process. */
export function hasApprovalHandler(auditor: Auditor | undefined): boolean {
  return typeof (auditor as ApprovalAware | undefined)?.approvalHandler === 'function';
}

/** True when an `ask` goes to the framework's approval flow rather than to the auditor's handler. */
export function asksFramework(route: ApprovalRoute, auditor: Auditor | undefined): boolean {
  if (route === 'framework') return true;
  if (route === 'handler') return false;
  return !hasApprovalHandler(auditor);
}

/**
 * Core's decision on a call before the framework decides whether to stop for approval. undefined when
 * core has no preview (older core) or the preview failed: the call then goes ahead to the tool,
 * where core decides for real and fails closed (an `ask` nobody can answer is denied there).
 */
export async function previewOf(
  audited: unknown,
  auditor: Auditor | undefined,
  tool: string,
  args: unknown,
  callId: string | undefined,
): Promise<PreviewedDecision | undefined> {
  const preview = (audited as Previewable).previewDecision;
  if (typeof preview !== 'function') return undefined;
  try {
    return await preview.call(audited, args, callId !== undefined ? { callId } : {});
  } catch (err) {
    loggerOf(auditor).warn(`tooltrail: could not preview the policy decision on a call of "${tool}" (${err instanceof Error ? err.message : String(err)}); core decides when the tool runs`);
    return undefined;
  }
}

/**
 * Records that the framework stopped for approval of this call (`tooltrail.outcome =
 * pending_approval`): it may resume much later, or never. A failure to record is warned about,
 * never thrown: the framework's stop itself stands.
 */
export function recordPending(auditor: Auditor | undefined, tool: string, input: PendingInput): void {
  const record = (auditor as ApprovalAware | undefined)?.recordPendingApproval;
  if (typeof record !== 'function') return;
  try {
    record.call(auditor, tool, input);
  } catch (err) {
    loggerOf(auditor).warn(`tooltrail: could not record the pending approval of "${tool}" (${err instanceof Error ? err.message : String(err)})`);
  }
}
