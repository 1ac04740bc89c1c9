// `npm start -w @tooltrail/example-langchain`: a LangChain.js tool-calling agent books a flight.
// Its tools are audited by @tooltrail/langchain; one call has invalid arguments, one is denied by
// policy, and the model recovers from both. The trail is read back from a local collector
// running in its own process.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { HumanMessage, ToolMessage, type AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { readTrail, spawnCollector, type TrailRecord } from '@tooltrail/cli';
import { createAuditor } from '@tooltrail/core';
import { ScriptedTravelModel } from './model.js';
import { auditedTools, bookings } from './tools.js';

// npm runs workspace scripts in the workspace folder; INIT_CWD is where the user typed the command.
const cwd = process.env.INIT_CWD ?? process.cwd();
const collector = await spawnCollector({ dir: path.resolve(cwd, process.env.TOOLTRAIL_DEMO_DIR || 'audit-trail') });
console.log(`collector: tooltrail collect, its own process, at ${collector.url}, writing to ${collector.dir}`);

// The first auditor created is the default one, which the tools (wrapped at import) use.
const auditor = createAuditor({ serviceName: 'travel-agent', endpoint: collector.url, spoolDir: path.resolve(cwd, '.tooltrail-spool') });
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
await collector.stop();

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

const trail = await readTrail(collector.dir);
const calls = trail.records
  .filter((r) => r.name.startsWith('execute_tool ') && r.attributes['tooltrail.run.id'] === runId)
  .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
console.log(formatCalls(calls));
console.log(`\nThe trail: ${trail.files.join(', ')} (one JSON span per line; docs/collector.md).`);

/** One line per recorded call; the model's proposal under it when what executed differs. */
function formatCalls(records: TrailRecord[]): string {
  const rows = [['call id', 'tool', 'user', 'outcome', 'arguments (executed, else as refused)']];
  for (const r of records) {
    const a = r.attributes;
    const rule = a['tooltrail.policy.rule'];
    const outcome = String(a['tooltrail.outcome']);
    rows.push([
      String(a['gen_ai.tool.call.id']),
      String(a['gen_ai.tool.name']),
      String(a['user.id']),
      outcome === 'denied' && rule ? `denied (${String(rule)})` : outcome,
      String(a['gen_ai.tool.call.arguments']),
    ]);
    if (a['tooltrail.arguments.proposed'] !== undefined) rows.push(['', '', '', '  model proposed', String(a['tooltrail.arguments.proposed'])]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n');
}
