// `npm start -w @tooltrail/example-ai-sdk`: an AI SDK agent (generateText, multi-step) whose tools
// are audited with one line; the trail is read back from a local collector running in its own process.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readTrail } from '@tooltrail/cli';
import { createAuditor } from '@tooltrail/core';
import { auditAiSdkTools, auditRefusals } from '@tooltrail/ai-sdk';
import { formatCalls, startTrail, traceOf, userCwd as cwd } from '@tooltrail/example-shared';
import { generateText, stepCountIs } from 'ai';
import { scriptedModel } from './scripted-model.js';
import { refundLimit, refundsPaid, shopTools } from './shop.js';

// A local collector (stopped on exit and on Ctrl-C), or OTEL_EXPORTER_OTLP_ENDPOINT when set.
const { collector, external, endpoint } = await startTrail();

const auditor = createAuditor({
  serviceName: 'shop-assistant',
  endpoint, // undefined: the OTEL_EXPORTER_OTLP_* variables decide
  spoolDir: path.resolve(cwd, '.tooltrail-spool'),
  policy: [refundLimit],
});

// The one-line change: the same tools record, audited.
const tools = auditAiSdkTools(shopTools, { auditor });

const runId = randomUUID();
const result = await auditor.run(
  { principal: { id: 'customer:1042', type: 'user' }, agent: { name: 'shop-assistant' }, runId },
  () => generateText({ model: scriptedModel(), tools, prompt: 'Please refund my order ord-7.', stopWhen: stepCountIs(8) }),
);

console.log(`\nmodel: ${result.text}`);
console.log(`refunds actually paid: ${refundsPaid.map((r) => `${r.amount} on ${r.orderId}`).join(', ')}`);
for (const refusal of auditRefusals(result.steps)) console.log(`the model was told (${refusal.callId}): ${refusal.message}`);

const delivered = await auditor.shutdown(15_000);
const stats = auditor.stats();
console.log(
  `\nrun ${runId}: ${stats.calls.ok} ok, ${stats.calls.denied} denied, ${stats.calls.invalid} invalid; ` +
    `${stats.exported} records delivered${delivered ? '' : `, ${stats.queueDepth} still in the spool`}\n`,
);

if (collector) {
  await collector.stop();
  const trail = await readTrail(collector.dir);
  console.log(`trace ${traceOf(trail.records, runId)}\n`);
  console.log(formatCalls(trail.records, runId));
  console.log(`\nThe trail: the JSONL files in ${collector.dir} (one span per line; this run is tooltrail.run.id=${runId}).`);
} else {
  console.log(`Spans went to ${external}: search service "shop-assistant", tag tooltrail.run.id=${runId}.`);
}
