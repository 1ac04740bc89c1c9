import type { StopCondition, ToolSet } from 'ai';
import type { AuditDeniedError, AuditValidationError } from '@tooltrail/core';

/** A call tooltrail refused before its body ran: denied by policy, or its arguments were invalid. */
export type AuditRefusal = AuditDeniedError | AuditValidationError;

/** By `code`, not `instanceof`: the ESM and CJS builds of core have distinct classes. */
export function isAuditRefusal(error: unknown): error is AuditRefusal {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return error instanceof Error && (code === 'TOOLTRAIL_DENIED' || code === 'TOOLTRAIL_INVALID_ARGUMENTS');
}

export function isAuditDenial(error: unknown): error is AuditDeniedError {
  return isAuditRefusal(error) && error.code === 'TOOLTRAIL_DENIED';
}

/** What is read of a step: its content parts (a `tool-error` part carries the thrown error). */
interface StepLike {
  readonly content: ReadonlyArray<{ readonly type: string; readonly error?: unknown }>;
}

/**
 * The refusals among the tool errors of `steps` (`result.steps` of generateText, `await
 * result.steps` of streamText), in order. The SDK always turns an error thrown by `execute` into a
 * tool error result, so an app that must fail on a refusal checks here and throws.
 */
export function auditRefusals(steps: ReadonlyArray<StepLike>): AuditRefusal[] {
  const out: AuditRefusal[] = [];
  for (const step of steps) {
    for (const part of step.content) {
      if (part.type === 'tool-error' && isAuditRefusal(part.error)) out.push(part.error);
    }
  }
  return out;
}

/**
 * A `stopWhen` condition: ends the tool loop after a step in which policy denied a call, instead of
 * letting the model carry on. `stopWhen: [stepCountIs(10), stopOnAuditDenial()]`.
 */
export function stopOnAuditDenial<TOOLS extends ToolSet = ToolSet>(): StopCondition<TOOLS> {
  return ({ steps }) => steps[steps.length - 1]?.content.some((part) => part.type === 'tool-error' && isAuditDenial(part.error)) ?? false;
}
