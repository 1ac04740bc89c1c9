import { describe, expect, it } from 'vitest';
import { AuditConfigError, AuditUnavailableError, semconv as sc } from '../src/index.js';
import { alice, harness } from './helpers.js';

describe('recordEvent: a record that is not a call', () => {
  it('one zero-length tooltrail.<kind> span under the run: run identity, masked attributes, chained', async () => {
    const h = harness();
    const written = await h.auditor.run(alice, () =>
      h.auditor.recordEvent({ kind: sc.RECORD_TOOL_CHANGED, tool: 'search', attributes: { 'x.server': 'files', 'x.note': 'mail bob@example.com', [sc.ATTR_OUTCOME]: 'ok' } }),
    );
    expect(written).toBe(true);
    const spans = await h.spans();
    const event = spans.find((s) => s.name === 'tooltrail.tool_changed')!;
    const run = spans.find((s) => s.name === 'invoke_agent support-bot')!;
    expect(event.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(event.startTime).toEqual(event.endTime);
    expect(event.attributes).toMatchObject({
      'tooltrail.record': 'tool_changed',
      'gen_ai.tool.name': 'search',
      'x.server': 'files',
      'user.id': 'user:42',
      'gen_ai.agent.name': 'support-bot',
    });
    expect(String(event.attributes['x.note'])).not.toContain('bob@example.com');
    // A core name given as an attribute is dropped, never stands in for core's.
    expect(event.attributes[sc.ATTR_OUTCOME]).toBeUndefined();
    expect(typeof event.attributes[sc.ATTR_HASH]).toBe('string');
    expect(typeof event.attributes[sc.ATTR_SEQ]).toBe('number');
    expect(spans.filter((s) => s.name.startsWith('execute_tool'))).toHaveLength(0);
  });

  it('a bad kind is an AuditConfigError; after shutdown, AuditUnavailableError', async () => {
    const h = harness();
    expect(() => h.auditor.recordEvent({ kind: 'Tool Changed' })).toThrow(AuditConfigError);
    await h.auditor.shutdown();
    expect(() => h.auditor.recordEvent({ kind: 'tool_changed' })).toThrow(AuditUnavailableError);
  });
});
