// Core wrapper cost: bare call vs a hand-written minimal OTel span vs withAudit().
import { createAuditor, setDefaultAuditor } from '@tooltrail/core';
import { compare, fmt, handProvider, handWrittenSpan, NullExporter } from './lib.mjs';

export async function benchCore() {
  const args = { to: 'bob@example.com', subject: 'Your ticket #4521', body: 'Hello Bob, your refund was processed.' };
  const tool = async (a) => ({ queued: true, to: a.to });

  // The hand-written baseline: what a careful team writes by hand (one span, same attributes).
  const provider = handProvider();
  const hand = handWrittenSpan(provider.getTracer('hand'), tool);

  // The core wrapper alone (the core issue's contract), and with the defaults every auditor has
  // now: masking and the integrity chain on.
  const auditor = createAuditor({ serviceName: 'bench', exporter: new NullExporter(), runSpans: false, masking: false, integrity: false });
  const full = createAuditor({ serviceName: 'bench', exporter: new NullExporter(), runSpans: false, masking: { hashKey: 'bench-mask-key-0123456789abcdef' }, logger: { warn() {} } });
  setDefaultAuditor(undefined);
  const audited = auditor.withAudit(tool, { name: 'send_email' });
  const auditedFull = full.withAudit(tool, { name: 'send_email' });

  const identity = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot', id: 'bot-7' }, conversationId: 'conv-1' };
  const results = await auditor.run(identity, () =>
    full.run(identity, () =>
      compare({
        bare: () => tool(args),
        hand: () => hand(args),
        tooltrail: () => audited(args),
        defaults: () => auditedFull(args),
      }),
    ),
  );
  await auditor.shutdown();
  await full.shutdown();
  await provider.shutdown();
  const stats = auditor.stats();
  if (stats.dropped !== 0) throw new Error(`bench lost records: ${JSON.stringify(stats)}`);
  return {
    title: 'Core wrapper, per call (µs, median of interleaved rounds; in-process, exporter acknowledges at once)',
    rows: [
      ['variant', 'µs/call', 'ratio to hand-written span'],
      ['bare call', fmt(results.bare), (results.bare / results.hand).toFixed(2)],
      ['hand-written OTel span', fmt(results.hand), '1.00'],
      ['tooltrail withAudit, masking and chain off (2 spans: call + attempt)', fmt(results.tooltrail), (results.tooltrail / results.hand).toFixed(2)],
      ['tooltrail withAudit, defaults (+ masking, + hash chain)', fmt(results.defaults), (results.defaults / results.hand).toFixed(2)],
    ],
    ratios: { coreVsHand: results.tooltrail / results.hand },
  };
}
