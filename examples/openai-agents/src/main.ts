// `npm start -w @tooltrail/example-openai-agents`: an OpenAI Agents SDK support agent refunds
// orders. Its tools are audited by @tooltrail/openai-agents: a sloppy order id is normalised, a
// mail to an outside address is denied by policy, and of two refunds waiting for a person one is
// approved and one rejected. The trail is read back from a local collector in its own process.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { run, setTracingDisabled, type AgentInputItem, type RunToolApprovalItem } from '@openai/agents';
import { readTrail } from '@tooltrail/cli';
import { createAuditor } from '@tooltrail/core';
import { approveToolCall, rejectToolCall } from '@tooltrail/openai-agents';
import { formatCalls, startTrail, traceOf, userCwd as cwd } from '@tooltrail/example-shared';
import { mailSent, refundsMade, scriptedModel, supportAgent } from './agent.js';

// Offline: the SDK would otherwise export its own traces to OpenAI.
setTracingDisabled(true);

// A local collector (stopped on exit and on Ctrl-C), or OTEL_EXPORTER_OTLP_ENDPOINT when set.
const { collector, external, endpoint } = await startTrail();

// The first auditor created is the default one, which the tools (wrapped at import) use.
const auditor = createAuditor({ serviceName: 'support-agent', endpoint, spoolDir: path.resolve(cwd, '.tooltrail-spool') });
const runId = randomUUID();
const model = scriptedModel();
const agent = supportAgent(model);
const decisions: string[] = [];

/** The manager's decision; a rule stands in for a person clicking a button. */
async function decide(state: Parameters<typeof approveToolCall>[0] & Parameters<typeof rejectToolCall>[0], item: RunToolApprovalItem) {
  const { orderId, amount } = JSON.parse(item.arguments ?? '{}') as { orderId: string; amount: number | string };
  const callId = (item.rawItem as { callId: string }).callId;
  if (Number(amount) <= 100) {
    approveToolCall(state, item, { approver: 'manager:7' });
    decisions.push(`${callId} (refund ${amount} on ${orderId}): approved by manager:7`);
  } else {
    const reason = 'refunds over 500 need a finance sign-off';
    await rejectToolCall(state, item, { approver: 'manager:7', reason, message: `A manager rejected this refund: ${reason}.` });
    decisions.push(`${callId} (refund ${amount} on ${orderId}): rejected by manager:7, ${reason}`);
  }
}

const result = await auditor.run(
  { principal: { id: 'user:4711', type: 'user' }, agent: { name: 'support-bot', id: 'support-bot-v1' }, runId },
  async () => {
    let r = await run(agent, 'Refund my orders A-17 and B-22. Also mail all my orders to audit-archive@exfil-mail.net.');
    // The run stops at calls that need approval; decide, then resume the same state.
    while (r.interruptions.length > 0) {
      for (const item of r.interruptions) await decide(r.state, item);
      r = await run(agent, r.state);
    }
    return r;
  },
);
const delivered = await auditor.shutdown(15_000);
await collector?.stop();

console.log('\nconversation:');
for (const item of result.history as Array<AgentInputItem & { callId?: string; name?: string; arguments?: string; output?: unknown; content?: unknown }>) {
  if (item.type === 'function_call') console.log(`  model calls ${item.name} ${item.callId}: ${item.arguments}`);
  else if (item.type === 'function_call_result') {
    const out = item.output as { text?: string } | string;
    console.log(`  tool ${item.callId}: ${typeof out === 'string' ? out : String(out.text)}`);
  } else if (item.type === 'message' && 'role' in item) {
    const content = item.content as string | Array<{ text?: string }>;
    console.log(`  ${item.role}: ${typeof content === 'string' ? content : content.map((c) => c.text ?? '').join('')}`);
  }
}
console.log(`\napprovals:\n${decisions.map((d) => `  ${d}`).join('\n')}`);
console.log(`refunds actually made: ${refundsMade.map((r) => `${r.orderId} ${r.amount}`).join(', ') || 'none'}`);
console.log(`mail actually sent: ${mailSent.join(', ') || 'none'}`);

const stats = auditor.stats();
console.log(
  `run ${runId}: ${stats.calls.ok} ok, ${stats.calls.denied} denied, ${stats.calls.invalid} invalid, ${stats.calls.error} failed; ` +
    `${stats.exported} records delivered${delivered ? '' : ' (some still in the spool)'}\n`,
);

if (collector) {
  const trail = await readTrail(collector.dir);
  console.log(`the trail (run ${runId}, user:4711, support-bot), trace ${traceOf(trail.records, runId)}:\n`);
  console.log(formatCalls(trail.records, runId));
  console.log(`\nThe trail: ${trail.files.join(', ')} (one JSON span per line; docs/collector.md).`);
} else {
  console.log(`Spans went to ${external}: search service "support-agent", tag tooltrail.run.id=${runId}.`);
}
