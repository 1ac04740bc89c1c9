import { asksFramework, previewOf, recordPending, resolveAuditor, type ApprovalRoute } from '@tooltrail/core/adapter';
import type { Parsed } from './schema.js';

type Callback = (this: unknown, ...args: unknown[]) => unknown;

/** What the SDK hands a tool's `needsApproval` besides the input. */
interface NeedsApprovalOptions {
  readonly toolCallId?: string;
  readonly messages?: ReadonlyArray<{ readonly content: unknown }>;
}

interface PartLike {
  readonly type: string;
  readonly toolCallId?: string;
  readonly approvalId?: string;
}

export interface GateOptions {
  name: string;
  /** The app's tool (`this` of its own `needsApproval`). */
  tool: object;
  /** The app's own `needsApproval`. */
  own: unknown;
  /** The input as it would execute (tooltrail's validation), or not ok when it is invalid. */
  parse: (raw: unknown) => Promise<Parsed>;
  /** The audited function (its `previewDecision`). */
  audited: unknown;
  /** The adapter's options, for the auditor they name (else the default, looked up now). */
  options: { readonly auditor?: unknown };
  route: ApprovalRoute;
  fn: string;
}

/**
 * Whether the messages already hold an approval request for this call and its answer: on
 * resume, the SDK asks `needsApproval` again about a call the app answered. Nothing is pending
 * then, and the answer stands.
 */
function answered(messages: NeedsApprovalOptions['messages'], callId: string): boolean {
  if (!Array.isArray(messages)) return false;
  const requests = new Set<string>();
  for (const message of messages) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content as PartLike[]) {
      if (part.type === 'tool-approval-request' && part.toolCallId === callId && part.approvalId !== undefined) requests.add(part.approvalId);
      else if (part.type === 'tool-approval-response' && part.approvalId !== undefined && requests.has(part.approvalId)) return true;
    }
  }
  return false;
}

/**
 * The tool's `needsApproval`: the app's own, or core's `ask`. Before the SDK decides whether a
 * call needs a person, core previews its decision (identity, the policy file, the auditor's
 * and the tool's rules; nothing runs, nothing is recorded):
 * - `ask`, routed to the SDK's flow: the step ends with a `tool-approval-request`, and the call
 *   is recorded as pending approval; approved (`tool-approval-response`, `approved: true`), it
 *   runs with the approval; denied, `recordDeniedApprovals` records it as denied.
 * - `deny`: no person is asked about a call the policy refuses anyway; the tool refuses it.
 * - otherwise: the app's own `needsApproval` decides, and a request it asks for is recorded
 *   as pending too.
 * The app's function gets the input parsed, as without the adapter; input the schema rejects
 * never executes (tooltrail records it as invalid), so there is nothing to approve.
 */
export function approvalGate(g: GateOptions): (input: unknown, options?: NeedsApprovalOptions) => Promise<boolean> {
  return async (input, options) => {
    const parsed = await g.parse(input);
    const callId = options?.toolCallId;
    if (callId !== undefined && answered(options?.messages, callId)) return true;
    let own: boolean;
    if (typeof g.own === 'function') own = parsed.ok ? Boolean(await (g.own as Callback).call(g.tool, parsed.value, options)) : false;
    else own = g.own === true;
    if (callId === undefined || !parsed.ok) return own;
    const auditor = resolveAuditor(g.options, g.fn);
    const preview = await previewOf(g.audited, auditor, g.name, parsed.value, callId);
    if (preview?.kind === 'deny') return false;
    const policyAsks = preview?.kind === 'ask' && asksFramework(g.route, auditor);
    if (!own && !policyAsks) return false;
    recordPending(auditor, g.name, {
      callId,
      args: parsed.value,
      ...(policyAsks && preview?.rule !== undefined ? { rule: preview.rule } : {}),
      reason: policyAsks ? (preview?.reason ?? 'the policy asks for approval') : 'the tool needs approval (needsApproval)',
    });
    return true;
  };
}
