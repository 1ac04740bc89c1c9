// Standalone probe (not part of `npm run bench`): sequential tools/call through one stdio gateway,
// the gateway's CPU per call from schedstat (every thread), and its threads' shares.
// node bench/gateway-seq.mjs [calls] [bin.js] ; BENCH_GATEWAY_NODE_ARGS as in gateway.bench.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startCollect } from './collect-process.mjs';

const CALLS = Number(process.argv[2] ?? 3000);
const BIN = process.argv[3] ?? fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const SERVER = fileURLToPath(new URL('./gateway.bench.mjs', import.meta.url));
const NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
const threads = (pid) => {
  const out = {};
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    const comm = fs.readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
    out[`${t} ${comm}`] = Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
  }
  return out;
};
const collect = await startCollect('gateway-seq');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tooltrail-gw-seq-'));
const config = path.join(dir, 'gw.json');
fs.writeFileSync(config, JSON.stringify({
  serviceName: 'seq', audit: { endpoint: collect.tracesUrl.replace(/\/v1\/traces$/, ''), spoolDir: path.join(dir, 'spool') },
  servers: [{ name: 'bench', principal: { id: 'svc:seq', type: 'service' }, agent: { name: 'seq' }, stdio: { command: process.execPath, args: [SERVER, '--serve', 'stdio'] } }],
}));
const client = new Client({ name: 'seq', version: '1.0.0' });
const transport = new StdioClientTransport({ command: process.execPath, args: [...NODE_ARGS, BIN, 'gateway', '--config', config], env: { ...getDefaultEnvironment(), ...(process.env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE } : {}) }, stderr: 'ignore' });
await client.connect(transport);
await client.listTools();
for (let i = 0; i < 500; i++) await client.callTool({ name: 'noop', arguments: { n: i } });
const pid = transport.pid;
const t0 = threads(pid);
const w0 = performance.now();
for (let i = 0; i < CALLS; i++) await client.callTool({ name: 'noop', arguments: { n: i } });
const wall = performance.now() - w0;
const t1 = threads(pid);
let total = 0;
const rows = [];
for (const [k, v] of Object.entries(t1)) {
  const d = (v - (t0[k] ?? 0)) / 1e3 / CALLS;
  total += d;
  if (d > 0.5) rows.push(`${k}: ${d.toFixed(1)} µs/call`);
}
console.log(`${CALLS} calls, ${((wall * 1e3) / CALLS).toFixed(1)} µs/call wall, gateway CPU ${total.toFixed(1)} µs/call\n  ${rows.join('\n  ')}`);
await client.close();
await new Promise((r) => setTimeout(r, 500));
await collect.stop();
process.exit(0);
