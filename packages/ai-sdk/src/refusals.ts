import type { StopCondition, ToolSet } from 'ai';
import { isDenial, isRefusal, warnDeprecated, type RefusedCall } from '@tooltrail/core/adapter';

/** @deprecated Use `RefusedCall` (the same type, from every adapter and core). */
export type AuditRefusal = RefusedCall;

/** @deprecated Use `isRefusal` (brand-based, so an error from core's other build is recognised too). */
export function isAuditRefusal(error: unknown): error is RefusedCall {
  warnDeprecated('@tooltrail/ai-sdk isAuditRefusal()', 'isRefusal()');
  return isRefusal(error);
}

/** @deprecated Use `isRefusal(error) && isDenial(error)`. */
export function isAuditDenial(error: unknown): error is RefusedCall {
  warnDeprecated('@tooltrail/ai-sdk isAuditDenial()', 'isRefusal(error) && isDenial(error)');
  return isRefusal(error) && isDenial(error);
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
export function auditRefusals(steps: ReadonlyArray<StepLike>): RefusedCall[] {
  const out: RefusedCall[] = [];
  for (const step of steps) {
    for (const part of step.content) {
      if (part.type === 'tool-error' && isRefusal(part.error)) out.push(part.error);
    }
  }
  return out;
}

/**
 * A `stopWhen` condition: ends the tool loop after a step in which policy denied a call, instead of
 * letting the model carry on. `stopWhen: [stepCountIs(10), stopOnAuditDenial()]`.
 */
export function stopOnAuditDenial<TOOLS extends ToolSet = ToolSet>(): StopCondition<TOOLS> {
  return ({ steps }) => steps[steps.length - 1]?.content.some((part) => part.type === 'tool-error' && isRefusal(part.error) && isDenial(part.error)) ?? false;
}
