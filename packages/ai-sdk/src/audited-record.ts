import type { AuditedFunction, ToolFunction } from '@tooltrail/core';

type RecordRefused = AuditedFunction<ToolFunction>['recordRefused'];

/**
 * The audited functions behind a tools record `auditAiSdkTools` returned, by tool key, so that
 * `recordRefusedToolCalls` can record a call the SDK refused under the right tool. Global, so a
 * record made by this package's ESM build is found by its CJS build.
 */
const AUDITED_RECORD = Symbol.for('tooltrail.ai-sdk.audited-record');

/** Each audited tool's `recordRefused`, by tool key. */
export type AuditedByName = ReadonlyMap<string, RecordRefused>;

/** What a tools record keeps: its tools' `recordRefused`, and the approvals already recorded. */
export interface AuditedRecordState {
  readonly tools: AuditedByName;
  /** Approval ids recorded, so a history passed again on the next turn is not recorded twice. */
  readonly recordedApprovals: Set<string>;
  /**
   * The step parts already recorded, so the same step passed twice (onStepFinish and then
   * result.steps) records its calls once. By identity, not by call id: some providers reuse ids
   * such as `call_0` across conversations, and a later call must not be taken for a repeat.
   */
  readonly recordedParts: WeakSet<object>;
}

export function rememberTools(record: object, audited: AuditedByName): void {
  const state: AuditedRecordState = { tools: audited, recordedApprovals: new Set(), recordedParts: new WeakSet() };
  Object.defineProperty(record, AUDITED_RECORD, { value: state });
}

export function auditedToolsOf(record: unknown): AuditedRecordState | undefined {
  const found = typeof record === 'object' && record !== null ? (record as { [AUDITED_RECORD]?: unknown })[AUDITED_RECORD] : undefined;
  return typeof found === 'object' && found !== null && (found as AuditedRecordState).tools instanceof Map ? (found as AuditedRecordState) : undefined;
}
