// `npm start -w @tooltrail/example-ai-sdk`: an AI SDK agent (generateText, multi-step) whose tools
// are audited with one line; the trail is read back from a local collector running in its own process.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readTrail, spawnCollector, type CollectorProcess, type TrailRecord } from '@tooltrail/cli';
import { createAuditor } from '@tooltrail/core';
import { auditAiSdkTools, auditRefusals } from '@tooltrail/ai-sdk';
import { generateText, stepCountIs } from 'ai';
import { scriptedModel } from './scripted-model.js';
import { refundLimit, refundsPaid, shopTools } from './shop.js';

const external = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
// npm runs workspace scripts in the workspace folder; INIT_CWD is where the user typed the command.
const cwd = process.env.INIT_CWD ?? process.cwd();

let collector: CollectorProcess | undefined;
if (!external) {
  collector = await spawnCollector({ dir: path.resolve(cwd, 'audit-trail') });
  console.log(`collector: tooltrail collect at ${collector.url}, writing to ${collector.dir}`);
}

const auditor = createAuditor({
  serviceName: 'shop-assistant',
  endpoint: collector?.url, // undefined: the OTEL_EXPORTER_OTLP_* variables decide
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
  console.log(formatCalls(trail.records.filter((r) => r.attributes['tooltrail.run.id'] === runId && r.name.startsWith('execute_tool '))));
  console.log(`\nThe trail: the JSONL files in ${collector.dir} (one span per line; this run is tooltrail.run.id=${runId}).`);
} else {
  console.log(`Spans went to ${external}: search service "shop-assistant", tag tooltrail.run.id=${runId}.`);
}

/** One line per tool call: what the model proposed beside what executed, and what became of it. */
function formatCalls(records: TrailRecord[]): string {
  const rows = [['call id', 'tool', 'outcome', 'proposed by the model', 'executed']];
  for (const r of records.sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1))) {
    const a = r.attributes;
    const executed = String(a['gen_ai.tool.call.arguments']);
    const outcome = String(a['tooltrail.outcome']);
    rows.push([
      String(a['gen_ai.tool.call.id']),
      String(a['gen_ai.tool.name']),
      a['tooltrail.policy.rule'] && outcome === 'denied' ? `denied (${String(a['tooltrail.policy.rule'])})` : outcome,
      String(a['tooltrail.arguments.proposed'] ?? executed),
      outcome === 'ok' ? executed : outcome === 'denied' ? `(not run) ${executed}` : '(not run)',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
