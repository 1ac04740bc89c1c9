import type { TrailSpan } from '../trail/record.js';

/**
 * Jaeger rewrites what it returns in two ways the agent's hash covers: its query API v3 adds a
 * `@jaeger@warnings` attribute (to every span whose parent is missing, e.g. the calls of a run
 * whose run span a crashed agent never wrote), and its storage moves the end of a zero-length
 * span 1 ns later, saying so in a warning. tooltrail never writes that attribute, so it is
 * removed before the span is checked, and an end Jaeger moved is put back from the warning.
 * Nothing else is undone: any other difference is still a finding.
 */
export const JAEGER_WARNINGS_ATTRIBUTE = '@jaeger@warnings';

const END_ADJUSTED = /Original end timestamp: (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,9}))? \+0000 UTC, adjusted to/;

export function undoJaegerAdjustments(span: TrailSpan): void {
  const warnings = span.attributes[JAEGER_WARNINGS_ATTRIBUTE];
  if (warnings === undefined) return;
  delete span.attributes[JAEGER_WARNINGS_ATTRIBUTE];
  const list = Array.isArray(warnings) ? warnings : [warnings];
  for (const w of list) {
    const m = typeof w === 'string' ? END_ADJUSTED.exec(w) : null;
    if (!m) continue;
    let start: bigint;
    let end: bigint;
    try {
      start = BigInt(span.startTimeUnixNano);
      end = BigInt(span.endTimeUnixNano);
    } catch {
      return;
    }
    // Only Jaeger's own adjustment is undone: a zero-length span it moved by exactly 1 ns.
    if (end !== start + 1n) continue;
    const seconds = Date.parse(`${m[1]}T${m[2]}Z`);
    if (!Number.isFinite(seconds)) continue;
    const original = BigInt(seconds / 1000) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
    if (original === start) span.endTimeUnixNano = String(original);
  }
}
