// `npm start -w @tooltrail/example-mcp`: an agent calls the tools of a real MCP server (its own
// process, over stdio) through an audited MCP client. Policy rewrites one call and denies
// another, the server fails one; the trail, read back from the local collector, shows them all.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { readTrail, type TrailRecord } from '@tooltrail/cli';
import { createAuditor, deny, rewrite, type PolicyRule } from '@tooltrail/core';
import { auditMcpClient, CALL_ID_META_KEY } from '@tooltrail/mcp';
import { formatCalls, outcomeOf, startTrail, traceOf, userCwd as cwd } from '@tooltrail/example-shared';
import { z } from 'zod';

const here = path.dirname(fileURLToPath(import.meta.url));

// A local collector (stopped on exit and on Ctrl-C), or OTEL_EXPORTER_OTLP_ENDPOINT when set.
const { collector, external, endpoint } = await startTrail();
const auditor = createAuditor({ serviceName: 'orders-agent', endpoint, spoolDir: path.resolve(cwd, '.tooltrail-spool') });

const maxRows: PolicyRule<{ status: string; limit: number }> = (call) =>
  call.args.limit > 20 ? rewrite({ ...call.args, limit: 20 }, 'at most 20 rows per search', { rule: 'search.max-rows' }) : undefined;
const refundLimit: PolicyRule<{ id: string; amount: number }> = (call) =>
  call.args.amount > 100 ? deny(`a refund of ${call.args.amount} needs a human; the agent may refund up to 100`, { rule: 'refunds.limit' }) : undefined;

// The one-line change: the agent's MCP client, audited. Wrapped before connect() so the
// negotiated protocol version is known.
const client = auditMcpClient(new Client({ name: 'orders-agent', version: '1.0.0' }), {
  auditor,
  attributes: { 'network.transport': 'pipe' },
  tools: {
    search_orders: { policy: [maxRows as PolicyRule] },
    refund_order: { policy: [refundLimit as PolicyRule] },
    // The model writes ids sloppily; the schema normalises them before the call is sent.
    get_order: { schema: z.object({ id: z.string().trim().toUpperCase() }) },
  },
});
// The server is TypeScript too: run it with node and tsx's loader, as this script is run.
await client.connect(
  new StdioClientTransport({ command: process.execPath, args: ['--import', import.meta.resolve('tsx'), path.join(here, 'server.ts')], stderr: 'inherit' }),
);
const server = client.getServerVersion();
console.log(`MCP server: ${server?.name} ${server?.version}, a child process over stdio\n`);

// Stands in for the model: the tool calls it proposes, with its tool call ids. No LLM, no network.
const proposals = [
  { id: 'toolu_01', name: 'search_orders', arguments: { status: 'late', limit: 500 } },
  { id: 'toolu_02', name: 'get_order', arguments: { id: ' a-1001 ' } },
  { id: 'toolu_03', name: 'get_order', arguments: { id: 'A-9999' } },
  { id: 'toolu_04', name: 'refund_order', arguments: { id: 'A-1001', amount: 1290 } },
  { id: 'toolu_05', name: 'refund_order', arguments: { id: 'A-1001', amount: 40 } },
];

const runId = randomUUID();
/** The traceparent each call's server saw, by call id. */
const serverSaw = new Map<string, string>();
await auditor.run({ principal: { id: 'user:4711', type: 'user' }, agent: { name: 'orders-bot' }, runId }, async () => {
  for (const p of proposals) {
    const result = await client.callTool({ name: p.name, arguments: p.arguments, _meta: { [CALL_ID_META_KEY]: p.id } });
    const text = (result.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? `[${c.type}]`).join(' ');
    console.log(`model -> ${p.name}(${JSON.stringify(p.arguments)})\n  <- ${result.isError ? 'isError: ' : ''}${text}`);
    const traceparent = result._meta?.['example/traceparent'];
    if (typeof traceparent === 'string') serverSaw.set(p.id, traceparent);
  }
});
await client.close();
const delivered = await auditor.shutdown(15_000);
const stats = auditor.stats();
console.log(
  `\nagent run ${runId} finished: ${stats.calls.ok} ok, ${stats.calls.error} failed, ${stats.calls.denied} denied, ${stats.calls.invalid} invalid; ` +
    `${stats.exported} records delivered${delivered ? '' : `, ${stats.queueDepth} still in the spool`}`,
);
await collector?.stop();

if (!collector) {
  console.log(`Spans went to ${external}: search service "orders-agent", tag tooltrail.run.id=${runId}.`);
} else {
  const trail = await readTrail(collector.dir);
  const mine = trail.records.filter((r) => r.attributes['tooltrail.run.id'] === runId || r.name.startsWith('tool_attempt '));
  const calls = mine
    .filter((r) => r.name.startsWith('execute_tool ') && r.attributes['tooltrail.run.id'] === runId)
    .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  console.log(`\nThe audit trail of run ${runId} (${collector.dir}), trace ${traceOf(trail.records, runId)}:\n`);
  console.log(formatCalls(trail.records, runId));
  console.log('\nWhat the MCP server saw of each call:');
  for (const r of calls) console.log(describe(r, mine));
}

/** The MCP side of a call: the method, and whether the server got this record's trace context. */
function describe(r: TrailRecord, records: TrailRecord[]): string {
  const a = r.attributes;
  const callId = String(a['gen_ai.tool.call.id']);
  const lines = [`${callId}  ${String(a['gen_ai.tool.name'])}  ${outcomeOf(a)}`];
  if (a['mcp.method.name'] !== undefined) {
    lines.push(`    mcp: ${String(a['mcp.method.name'])} on ${String(a['tooltrail.mcp.server.name'])}, protocol ${String(a['mcp.protocol.version'])}`);
  }
  // A retried call has one attempt record per request; a call with one attempt has none, and
  // its request carries the call record's own span as traceparent.
  const attempts = records.filter((x) => x.parentSpanId === r.spanId && x.name.startsWith('tool_attempt '));
  const attempt = attempts[attempts.length - 1];
  const saw = serverSaw.get(callId);
  if (saw === undefined) {
    lines.push('    never sent to the server');
  } else if (attempt !== undefined) {
    const same = saw === `00-${attempt.traceId}-${attempt.spanId}-01`;
    lines.push(`    server received traceparent ${saw}: ${same ? 'the attempt span of this record' : 'NOT this record'}`);
  } else {
    const same = saw === `00-${r.traceId}-${r.spanId}-01`;
    lines.push(`    server received traceparent ${saw}: ${same ? 'this record (its one attempt has no record of its own)' : 'NOT this record'}`);
  }
  return lines.join('\n');
}
