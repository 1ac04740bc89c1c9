import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { AuditConfigError, createAuditor } from '@tooltrail/core';
import { refusalHandling } from '@tooltrail/core/adapter';

function setup() {
  const exporter = new InMemorySpanExporter();
  const auditor = createAuditor({ serviceName: 'h11', exporter, logger: { warn: () => {} }, exportQueue: { flushIntervalMs: 1 } });
  const tool = auditor.withAudit(async (_a: unknown) => 1, { name: 'pay' });
  const spans = async () => ((await auditor.flush(5000)) ? exporter.getFinishedSpans().filter((s) => s.name === 'execute_tool pay') : []);
  return { auditor, tool, spans };
}
const alice = { principal: { id: 'user:42', type: 'user' } };

describe('hostile review (issue 11): core', () => {
  it('approval.source is masked and bounded like the other free text of an approval', async () => {
    const { auditor, tool, spans } = setup();
    await auditor.run(alice, () => tool.invokeWith({ approval: { decision: 'approved', by: 'user:bob', source: 'ticket from alice@example.com' } }, {}));
    tool.recordRefused({ reason: 'no', kind: 'denied', approval: { decision: 'rejected', by: 'user:bob', source: 'x'.repeat(4 << 20) } });
    const text = JSON.stringify((await spans()).map((s) => [s.attributes, s.events.map((e) => e.attributes)]));
    expect(text).not.toContain('alice@example.com');
    expect(text.length).toBeLessThan(1 << 20);
  });

  it('onDenied/onInvalid and onRefusal that disagree are an error, not the deprecated one silently winning', () => {
    expect(() => refusalHandling({ onRefusal: 'throw', onDenied: 'result' }, '@x', 'x()')).toThrow(AuditConfigError);
    expect(() => refusalHandling({ onRefusal: 'result', onInvalid: 'message' }, '@x', 'x()')).not.toThrow(); // 'message' is 'result'
    expect(() => refusalHandling({ onRefusal: 'result', onInvalid: 'throw' }, '@x', 'x()')).toThrow(AuditConfigError);
    expect(refusalHandling({ onDenied: 'throw' }, '@x', 'x()')).toMatchObject({ denied: 'throw', invalid: 'result' });
  });
});
