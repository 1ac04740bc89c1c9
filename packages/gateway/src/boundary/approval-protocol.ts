/**
 * What the gateway's approvers are sent and must answer. The request never holds the real
 * arguments: only the masked form the trail records (`argsMasked`), parsed back to JSON.
 *
 * Request: `{ tool, callId, arguments, rule, reason, principal, agent, runId, policy }`.
 * Answer: `{ decision: 'approved' | 'rejected', by, reason? }`; anything else is malformed.
 */
import type { ApprovalAnswer, ApprovalRequest } from '@tooltrail/core';

export interface ApprovalWireRequest {
  tool: string;
  callId: string;
  /** The masked arguments as JSON (the masked text when it is not JSON, e.g. truncated). */
  arguments: unknown;
  rule: string | null;
  reason: string | null;
  principal: { id: string; type?: string } | null;
  agent: { name?: string; id?: string } | null;
  runId: string | null;
  policy: { id: string; version: string } | null;
}

export function wireRequest(request: ApprovalRequest): ApprovalWireRequest {
  let args: unknown;
  try {
    args = JSON.parse(request.argsMasked);
  } catch {
    args = request.argsMasked;
  }
  const run = request.run;
  const principal = run === undefined ? null : { id: run.principal.id, ...(run.principal.type !== undefined ? { type: run.principal.type } : {}) };
  const agent =
    run?.agent === undefined
      ? null
      : { ...(run.agent.name !== undefined ? { name: run.agent.name } : {}), ...(run.agent.id !== undefined ? { id: run.agent.id } : {}) };
  return {
    tool: request.tool,
    callId: request.callId,
    arguments: args,
    rule: request.rule ?? null,
    reason: request.reason ?? null,
    principal,
    agent,
    runId: run?.runId ?? null,
    policy: request.policy === undefined ? null : { id: request.policy.id, version: request.policy.version },
  };
}

/** The largest answer read; an approver answers a few hundred bytes. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** Parses an approver's answer; throws (so the call is denied and the failure recorded) when malformed. */
export function parseAnswer(text: string, from: string): ApprovalAnswer {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${from} answered something that is not JSON (${text.length} bytes)`);
  }
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.push('the answer must be an object { decision, by, reason? }');
  else {
    const a = value as Record<string, unknown>;
    for (const key of Object.keys(a)) if (key !== 'decision' && key !== 'by' && key !== 'reason') problems.push(`unknown key "${key}"`);
    if (a.decision !== 'approved' && a.decision !== 'rejected') problems.push("decision must be 'approved' or 'rejected'");
    if (typeof a.by !== 'string' || a.by.trim() === '') problems.push('by must be a non-empty string (who decided)');
    if (a.reason !== undefined && typeof a.reason !== 'string') problems.push('reason must be a string');
  }
  if (problems.length > 0) throw new Error(`${from} answered a malformed approval: ${problems.join('; ')}`);
  const a = value as { decision: 'approved' | 'rejected'; by: string; reason?: string };
  return a.reason === undefined ? { decision: a.decision, by: a.by } : { decision: a.decision, by: a.by, reason: a.reason };
}
