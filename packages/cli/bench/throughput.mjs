// Throughput of `tooltrail collect`: spans written and fsynced per second, end to end over HTTP.
// Usage (after `npm run build`): node packages/cli/bench/throughput.mjs [spansPerRequest=100] [concurrency=8] [seconds=5]
// The collector runs as its own process (the built bin), writing to a temp folder; requests are
// OTLP/JSON shaped like tooltrail execute_tool spans (about 1 KB each).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTrail } from '../dist/index.js';

const [perRequest = 100, concurrency = 8, seconds = 5] = process.argv.slice(2).map(Number);
const dir = mkdtempSync(path.join(tmpdir(), 'tooltrail-bench-'));
const bin = new URL('../dist/bin.js', import.meta.url).pathname;
const proc = spawn(process.execPath, [bin, 'collect', '--port', '0', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise((resolve) => proc.stdout.once('data', (d) => resolve(String(d))));
const url = /listening on (\S+),/.exec(ready)[1];

const s = (key, v) => ({ key, value: { stringValue: v } });
let seq = 0;
function body() {
  const spans = [];
  for (let i = 0; i < perRequest; i++) {
    seq++;
    spans.push({
      traceId: seq.toString(16).padStart(32, '0'),
      spanId: seq.toString(16).padStart(16, '0'),
      parentSpanId: 'a'.repeat(16),
      name: 'execute_tool send_email',
      kind: 1,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000001000000',
      attributes: [
        s('gen_ai.operation.name', 'execute_tool'),
        s('gen_ai.tool.name', 'send_email'),
        s('gen_ai.tool.call.id', `call_${seq.toString(16).padStart(24, '0')}`),
        s('gen_ai.tool.type', 'function'),
        s('gen_ai.tool.call.arguments', JSON.stringify({ to: 'bob@example.com', subject: 'Your order', body: 'x'.repeat(300) })),
        s('gen_ai.tool.call.result', JSON.stringify({ id: 'msg_123', queued: true })),
        { key: 'tooltrail.arguments.mutated', value: { boolValue: false } },
        s('tooltrail.outcome', 'ok'),
        s('tooltrail.decision', 'allow'),
        { key: 'tooltrail.attempts', value: { intValue: '1' } },
        s('tooltrail.run.id', '3f1c0d2b-7e4a-4f6b-8c8d-9e0a1b2c3d4e'),
        s('user.id', 'user:42'),
        s('tooltrail.principal.type', 'user'),
        s('gen_ai.agent.name', 'support-bot'),
        s('gen_ai.conversation.id', 'conv-1'),
      ],
      status: { code: 1 },
    });
  }
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: [s('service.name', 'bench')] }, scopeSpans: [{ scope: { name: '@tooltrail/core', version: '0.1.0' }, spans }] }],
  });
}

const bodies = Array.from({ length: 64 }, body);
let sent = 0;
let requests = 0;
const latencies = [];
const deadline = Date.now() + seconds * 1000;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async (_, w) => {
    let i = w;
    while (Date.now() < deadline) {
      const t = process.hrtime.bigint();
      const res = await fetch(url, { method: 'POST', body: bodies[i++ % bodies.length], headers: { 'content-type': 'application/json' } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      sent += perRequest;
      requests++;
    }
  }),
);
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
proc.kill('SIGTERM');
await new Promise((r) => proc.once('close', r));
const trail = await readTrail(dir);
latencies.sort((a, b) => a - b);
const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
console.log(
  `${perRequest} spans/request, ${concurrency} concurrent: ${Math.round(sent / elapsed)} spans/s, ${Math.round(requests / elapsed)} requests/s ` +
    `(ack latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms); ${trail.records.length} records read back, ${trail.problems.length} problems`,
);
if (trail.records.length !== sent) throw new Error(`wrote ${trail.records.length}, acknowledged ${sent}`);
rmSync(dir, { recursive: true, force: true });
