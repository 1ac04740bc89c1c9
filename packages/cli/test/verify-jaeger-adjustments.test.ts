import { describe, expect, it } from 'vitest';
import type { TrailSpan } from '../src/trail/record.js';
import { undoJaegerAdjustments } from '../src/verify/jaeger-adjustments.js';

const span = (start: string, end: string, attributes: TrailSpan['attributes']): TrailSpan => ({
  resource: { 'service.name': 's' },
  scope: { name: 'x' },
  traceId: '0'.repeat(31) + '1',
  spanId: '0'.repeat(15) + '1',
  name: 'tool_intent t',
  kind: 1,
  startTimeUnixNano: start,
  endTimeUnixNano: end,
  attributes,
  events: [],
  links: [],
  status: { code: 0 },
});

describe("undoing Jaeger's rewrites before the hash is checked", () => {
  it('removes the warnings attribute tooltrail never writes, and nothing else', () => {
    const s = span('1764576000000000000', '1764576000000000500', { a: 1, '@jaeger@warnings': ['invalid parent span IDs=abc; skipping clock skew adjustment'] });
    undoJaegerAdjustments(s);
    expect(s.attributes).toEqual({ a: 1 });
    expect(s.endTimeUnixNano).toBe('1764576000000000500');
  });

  it("puts back the end of a zero-length span Jaeger moved by 1 ns, from its own warning", () => {
    // 2025-12-01T08:00:00.123456789Z
    const start = '1764576000123456789';
    const s = span(start, '1764576000123456790', {
      '@jaeger@warnings': ['Original end timestamp: 2025-12-01 08:00:00.123456789 +0000 UTC, adjusted to 2025-12-01 08:00:00.12345679 +0000 UTC'],
    });
    undoJaegerAdjustments(s);
    expect(s.endTimeUnixNano).toBe(start);
    expect(s.attributes).toEqual({});
  });

  it('leaves an end that was not moved by exactly 1 ns, or whose warning names another time, as it is', () => {
    const warning = ['Original end timestamp: 2025-12-01 08:00:00.123456789 +0000 UTC, adjusted to later'];
    const moved = span('1764576000123456789', '1764576000123456799', { '@jaeger@warnings': warning });
    undoJaegerAdjustments(moved);
    expect(moved.endTimeUnixNano).toBe('1764576000123456799');
    const other = span('1764576000000000000', '1764576000000000001', { '@jaeger@warnings': warning });
    undoJaegerAdjustments(other);
    expect(other.endTimeUnixNano).toBe('1764576000000000001');
  });
});
