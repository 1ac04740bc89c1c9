import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
// The built package: what an app and the adapters import.
import { createAuditor } from '@tooltrail/core';

const alice = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'bot', id: 'b1' } };

function setup(options: object = {}) {
  const exporter = new InMemorySpanExporter();
  const warnings: string[] = [];
  const auditor = createAuditor({ serviceName: 'h11', exporter, logger: { warn: (m: string) => warnings.push(m) }, exportQueue: { flushIntervalMs: 1 }, ...options });
  let ran = 0;
  const tool = auditor.withAudit(async (_a: unknown) => ++ran, { name: 'pay' });
  const spans = async () => ((await auditor.flush(5000)) ? exporter.getFinishedSpans().filter((s) => s.name === 'execute_tool pay') : undefined);
  return { auditor, tool, spans, warnings, ran: () => ran };
}

describe('hostile: recordRefused and CallMeta.approval (built @tooltrail/core)', () => {
  it('after shutdown: recordRefused does not throw, returns the refusal, and the lost record is counted', async () => {
    const { auditor, tool } = setup();
    await auditor.shutdown(1000);
    const before = auditor.stats();
    const r = tool.recordRefused({ reason: 'refused late', kind: 'denied', callId: 'late-1' });
    expect(r.code).toBe('TOOLTRAIL_DENIED');
    const after = auditor.stats();
    expect(JSON.stringify(after)).not.toBe(JSON.stringify(before));
  });

  it('a rejected approval on invokeWith: the body never runs, even inside failMode closed with no trail', async () => {
    const { auditor, tool, ran } = setup();
    await expect(auditor.run(alice, () => tool.invokeWith({ approval: { decision: 'rejected', by: 'user:bob' } }, {}))).rejects.toMatchObject({ code: 'TOOLTRAIL_DENIED' });
    expect(ran()).toBe(0);
  });

});
