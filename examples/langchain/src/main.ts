// `npm start -w @tooltrail/example-langchain`: a LangChain.js tool-calling agent books a flight.
// Its tools are audited by @tooltrail/langchain; one call has invalid arguments, one is denied by
// policy, and the model recovers from both. The trail is read back from a local collector
// running in its own process.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { HumanMessage, ToolMessage, type AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { readTrail } from '@tooltrail/cli';
import { createAuditor } from '@tooltrail/core';
import { formatCalls, startTrail, traceOf, traceUrl, userCwd as cwd } from '@tooltrail/example-shared';
import { ScriptedTravelModel } from './model.js';
import { auditedTools, bookings } from './tools.js';

// A local collector (stopped on exit and on Ctrl-C), or OTEL_EXPORTER_OTLP_ENDPOINT when set.
const { collector, external, endpoint } = await startTrail();

// The first auditor created is the default one, which the tools (wrapped at import) use.
const auditor = createAuditor({ serviceName: 'travel-agent', endpoint, spoolDir: path.resolve(cwd, '.tooltrail-spool') });
const runId = randomUUID();

/** The tool-calling loop, @langchain/core primitives only: model → ToolMessages → model. */
async function runAgent(question: string): Promise<BaseMessage[]> {
  const model = new ScriptedTravelModel({});
  const bound = model.bindTools(auditedTools);
  const tools: StructuredToolInterface[] = auditedTools;
  const byName = new Map(tools.map((t) => [t.name, t]));
  const messages: BaseMessage[] = [new HumanMessage(question)];
  for (let turn = 0; turn < 8; turn++) {
    const ai = (await bound.invoke(messages)) as AIMessage;
    messages.push(ai);
    if (!ai.tool_calls?.length) break;
    // Parallel tool calls, each invoked with its ToolCall: each answers with a ToolMessage.
    const results = await Promise.all(ai.tool_calls.map((tc) => byName.get(tc.name)!.invoke({ ...tc, type: 'tool_call' as const })));
    messages.push(...(results as ToolMessage[]));
  }
  return messages;
}

const messages = await auditor.run(
  { principal: { id: 'user:1207', type: 'user' }, agent: { name: 'travel-bot', id: 'travel-bot-v1' }, runId },
  () => runAgent('Book OSL to LIS for my team of six, today.'),
);
const delivered = await auditor.shutdown(15_000);
await collector?.stop();

console.log('\nconversation:');
for (const m of messages) {
  if (m instanceof ToolMessage) console.log(`  tool ${m.tool_call_id} [${m.status}]: ${String(m.content)}`);
  else if (m.type === 'ai' && (m as AIMessage).tool_calls?.length) {
    for (const tc of (m as AIMessage).tool_calls!) console.log(`  model calls ${tc.name} ${tc.id}: ${JSON.stringify(tc.args)}`);
  } else console.log(`  ${m.type}: ${String(m.content)}`);
}
console.log(`\nbookings actually made: ${bookings.map((b) => `${b.flight} x${b.passengers}`).join(', ')}`);

const stats = auditor.stats();
console.log(
  `run ${runId}: ${stats.calls.ok} ok, ${stats.calls.invalid} invalid, ${stats.calls.denied} denied, ${stats.calls.error} failed; ` +
    `${stats.exported} records delivered${delivered ? '' : ' (some still in the spool)'}\n`,
);

if (collector) {
  const trail = await readTrail(collector.dir);
  console.log(`trace ${traceOf(trail.records, runId)}\n`);
  console.log(formatCalls(trail.records, runId));
  console.log(`\nThe trail: ${trail.files.join(', ')} (one JSON span per line; docs/collector.md).`);
} else {
  console.log(`Spans went to ${external}: search service "travel-agent", tag tooltrail.run.id=${runId} (in Jaeger: ${traceUrl('<trace id>').replace('/trace/<trace id>', '/search')}).`);
}
