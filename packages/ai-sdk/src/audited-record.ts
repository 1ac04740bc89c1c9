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

export function rememberTools(record: object, audited: AuditedByName): void {
  Object.defineProperty(record, AUDITED_RECORD, { value: audited });
}

export function auditedToolsOf(record: unknown): AuditedByName | undefined {
  const found = typeof record === 'object' && record !== null ? (record as { [AUDITED_RECORD]?: unknown })[AUDITED_RECORD] : undefined;
  return found instanceof Map ? (found as AuditedByName) : undefined;
}
