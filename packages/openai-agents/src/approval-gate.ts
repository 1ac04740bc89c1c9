import { tool as sdkTool, type FunctionTool, type RunContext } from '@openai/agents';
import { asksFramework, previewOf, recordPending, resolveAuditor, type ApprovalRoute } from '@tooltrail/core/adapter';
import { firstPending } from './call-state.js';

type Ctx = RunContext<unknown>;
/** The SDK's approval policy of a function tool. */
export type NeedsApproval = (runContext: Ctx, input: unknown, callId?: string) => Promise<boolean>;

/** The SDK's own parse of a tool input, boxed so a parsed `undefined` is told from a failure. */
const PARSED = Symbol('tooltrail.openai-agents.parsed');
type Parsed = { [PARSED]: unknown };

export interface GateOptions {
  name: string;
  description: string | undefined;
  parameters: unknown;
  strict: boolean | undefined;
  /** The app's own `needsApproval`. */
  own: boolean | NeedsApproval | undefined;
  /** The audited function (its `previewDecision`). */
  audited: () => unknown;
  /** The adapter's options, for the auditor they name (else the default, looked up now). */
  options: { readonly auditor?: unknown };
  route: ApprovalRoute;
  fn: string;
}

/** Whether the SDK already holds a decision on this call (approved or rejected) in this run. */
function decided(runContext: Ctx, tool: string, callId: string): boolean {
  try {
    return runContext.isToolApproved({ toolName: tool, callId }) !== undefined;
  } catch {
    return false;
  }
}

/**
 * The tool's `needsApproval`: the app's own policy, or core's `ask`. Before the SDK decides
 * whether the run stops for a person, core previews its decision on the call (identity, the
 * policy file, the auditor's and the tool's rules; nothing runs, nothing is recorded):
 * - `ask`, routed to the SDK's flow: the run stops (an interruption), and the call is recorded
 *   as pending approval. Approved and resumed, it runs with the approval; rejected
 *   (`rejectToolCall`), it is recorded as denied and never runs.
 * - `deny`: no person is asked about a call the policy refuses anyway; the tool refuses it.
 * - otherwise: the app's own `needsApproval` decides, and a stop it asks for is recorded as
 *   pending too.
 * The app's policy gets the input as the SDK parses it for tools it makes itself (zod defaults
 * and coercions), as before the adapter.
 */
export function approvalGate(g: GateOptions): NeedsApproval {
  // Only what parsing depends on: an output schema or timeout would apply to the box.
  const parser = sdkTool({
    name: g.name,
    description: g.description ?? '',
    parameters: g.parameters,
    ...(g.strict !== undefined ? { strict: g.strict } : {}),
    execute: (parsed: unknown): Parsed => ({ [PARSED]: parsed }),
    errorFunction: null,
  } as never) as unknown as FunctionTool;
  const parse = async (runContext: Ctx, input: unknown): Promise<{ ok: boolean; value: unknown }> => {
    try {
      const out = (await parser.invoke(runContext, JSON.stringify(input))) as unknown;
      if (typeof out === 'object' && out !== null && PARSED in out) return { ok: true, value: (out as Parsed)[PARSED] };
    } catch {
      // As the SDK does: a policy gets the unparsed input when parsing fails.
    }
    return { ok: false, value: input };
  };

  return async (runContext, input, callId) => {
    const parsed = await parse(runContext, input);
    const own = typeof g.own === 'function' ? await g.own(runContext, parsed.value, callId) : g.own === true;
    // Input the SDK refuses is recorded as invalid, not approved; a decided call (the SDK
    // re-checks a changed input after approval) is no longer pending.
    if (callId === undefined || !parsed.ok || decided(runContext, g.name, callId)) return own;
    const auditor = resolveAuditor(g.options, g.fn);
    const preview = await previewOf(g.audited(), auditor, g.name, parsed.value, callId);
    if (preview?.kind === 'deny') return false;
    const policyAsks = preview?.kind === 'ask' && asksFramework(g.route, auditor);
    if (!own && !policyAsks) return false;
    if (firstPending(runContext, callId)) {
      recordPending(auditor, g.name, {
        callId,
        args: parsed.value,
        ...(policyAsks && preview?.rule !== undefined ? { rule: preview.rule } : {}),
        reason: policyAsks ? (preview?.reason ?? 'the policy asks for approval') : 'the tool needs approval (needsApproval)',
      });
    }
    return true;
  };
}
