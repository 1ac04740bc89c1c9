// `tooltrail gateway` (issue 14): the latency of a `tools/call` of a trivial tool through the
// gateway against a direct connection to the same server over the same transport (stdio, and
// Streamable HTTP), median and p99 as ratios in one run with the variants interleaved round
// by round (also taken round by round, and beside a bare relay: the floor of any second hop),
// with the gateway process's CPU per call; then calls per second through one gateway process with several concurrent
// clients, against the same clients on the server directly, and the gateway's CPU per call.
//
// Every process is real: the MCP server is this file run with `--serve stdio|http` (an SDK
// McpServer with one tool, `noop`), the gateway is `tooltrail gateway --config` from
// packages/cli/dist with @tooltrail/gateway's dist, its audit export goes to a real
// `tooltrail collect`, and the clients are the SDK's `Client`. At the end the records at the
// collector are counted (one per call through the gateway) and `tooltrail verify` runs on them.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

const SELF = fileURLToPath(import.meta.url);
const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const ROUNDS = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 15);
const ITERATIONS = Number(process.env.BENCH_GATEWAY_ITERATIONS ?? 200);
const CLIENTS = Number(process.env.BENCH_GATEWAY_CLIENTS ?? 8);
const SECONDS = Number(process.env.BENCH_GATEWAY_SECONDS ?? 4);
// BENCH_GATEWAY_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the gateways.
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
// BENCH_GATEWAY_PREVIOUS: the bin.js of another build of the CLI and gateway (e.g. main before a
// change), timed in the same interleaved rounds as this one ("previous gateway" rows).
const PREVIOUS_BIN = process.env.BENCH_GATEWAY_PREVIOUS;

// ---- the server: one trivial tool -------------------------------------------------------------

function buildServer() {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('noop', { description: 'answers ok', inputSchema: { n: z.number() } }, async ({ n }) => ({ content: [{ type: 'text', text: `ok ${n}` }] }));
  return server;
}

async function serve(mode) {
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { StreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
  const { isInitializeRequest } = await import('@modelcontextprotocol/sdk/types.js');
  if (mode === 'stdio') return buildServer().connect(new StdioServerTransport());
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (transport === undefined) {
      if (!isInitializeRequest(body)) return void res.writeHead(400).end('no session');
      transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => sessions.set(id, transport) });
      transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
      await buildServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  http.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`));
}

// ---- the floor: a relay that only moves messages ------------------------------------------------
// What any second hop costs on this machine, without the SDK and without an audit: over stdio
// each line is read, parsed and written on (as a JSON-RPC-aware relay must at least do); over
// HTTP each request is sent on to the upstream (keep-alive) and its answer streamed back.

async function relay(mode, target) {
  if (mode === 'stdio') {
    const child = spawn(process.execPath, [SELF, '--serve', 'stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = (from, to) => readline.createInterface({ input: from, crlfDelay: Infinity }).on('line', (l) => to.write(`${JSON.stringify(JSON.parse(l))}\n`));
    lines(process.stdin, child.stdin);
    lines(child.stdout, process.stdout);
    process.stdin.on('end', () => child.kill());
    return;
  }
  const { request, Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true });
  const up = new URL(target);
  const http = createServer((req, res) => {
    const out = request({ host: up.hostname, port: up.port, path: up.pathname, method: req.method, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  http.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`));
}

// ---- processes ----------------------------------------------------------------------------------

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function spawnReady(args, match) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code})`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = match(line);
      if (m === undefined) return;
      clearTimeout(timer);
      resolve({ child, url: m });
    });
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  });
}

/** CPU time of every thread of a process in nanoseconds (Linux schedstat: finer than /proc/stat's ticks), or undefined. */
function cpuNanos(pid) {
  try {
    let ns = 0;
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    return ns;
  } catch {
    return undefined;
  }
}

/** execute_tool records in a `tooltrail collect` folder (JSONL, line format v2: spans only). */
function countCalls(dir) {
  let n = 0;
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.jsonl'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line.includes('execute_tool ')) continue;
      const rec = JSON.parse(line);
      if ((rec.v === undefined || rec.t === 'span') && rec.name?.startsWith('execute_tool ')) n++;
    }
  }
  return n;
}

// ---- the suite ----------------------------------------------------------------------------------

export async function benchGateway() {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport, getDefaultEnvironment } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const { newToken } = await import('@tooltrail/cli');
  const { startCollect } = await import('./collect-process.mjs');
  const { compareTimed, fmt } = await import('./lib.mjs');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tooltrail-bench-gateway-'));
  const collect = await startCollect('gateway');
  const endpoint = collect.tracesUrl.replace(/\/v1\/traces$/, '');
  const stdioServer = { command: process.execPath, args: [SELF, '--serve', 'stdio'] };
  const identity = { principal: { id: 'svc:bench-agent', type: 'service' }, agent: { name: 'bench-agent' } };
  // The gateways sign checkpoints with a key of their own, so the trail can verify with exit 0.
  const keygen = spawnSync(process.execPath, [BIN, 'keygen', '--out', dir, '--name', 'gateway-signing'], { encoding: 'utf8' });
  if (keygen.status !== 0) throw new Error(`tooltrail keygen failed: ${keygen.stderr}`);
  const signingKey = path.join(dir, 'gateway-signing.key');
  const writeConfig = (name, config) => {
    const file = path.join(dir, `${name}.json`);
    const audit = { endpoint, spoolDir: path.join(dir, `spool-${name}`), signingKey };
    fs.writeFileSync(file, JSON.stringify({ serviceName: `bench-${name}`, audit, ...config }, null, 2));
    return file;
  };
  const newClient = () => new Client({ name: 'bench-agent', version: '1.0.0' });
  const stdioClient = async (command, args) => {
    const client = newClient();
    const transport = new StdioClientTransport({ command, args, env: getDefaultEnvironment(), stderr: 'inherit' });
    await client.connect(transport);
    return { client, pid: transport.pid };
  };
  const httpClient = async (url, token) => {
    const client = newClient();
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
    return client;
  };

  // The upstreams: a stdio server per stdio client (direct, and the gateway's child), one HTTP server.
  const httpServer = await spawnReady([SELF, '--serve', 'http'], (l) => {
    const m = /^\{"port":(\d+)\}$/.exec(l);
    return m ? `http://127.0.0.1:${m[1]}/mcp` : undefined;
  });
  const stdioGatewayConfig = writeConfig('stdio', { servers: [{ name: 'bench', ...identity, stdio: stdioServer }] });
  const { token, entry } = newToken('bench-agent');
  const tokensFile = path.join(dir, 'gateway-tokens.json');
  fs.writeFileSync(tokensFile, JSON.stringify({ version: 1, writers: [entry] }), { mode: 0o600 });
  const httpGatewayConfig = writeConfig('http', {
    listen: { http: { host: '127.0.0.1', port: 0, tokensFile } },
    servers: [{ name: 'bench', http: { url: httpServer.url } }],
  });
  const httpGateway = await spawnReady([...GATEWAY_NODE_ARGS, BIN, 'gateway', '--config', httpGatewayConfig], (l) => /listening on (http:\/\/\S+)/.exec(l)?.[1]);
  // For the breakdown: the agent's leg over HTTP, the server as the gateway's stdio child.
  const mixedGatewayConfig = writeConfig('http-stdio', {
    listen: { http: { host: '127.0.0.1', port: 0, tokensFile } },
    servers: [{ name: 'bench', stdio: stdioServer }],
  });
  const mixedGateway = await spawnReady([...GATEWAY_NODE_ARGS, BIN, 'gateway', '--config', mixedGatewayConfig], (l) => /listening on (http:\/\/\S+)/.exec(l)?.[1]);

  const bareHttp = await spawnReady([SELF, '--relay', 'http', httpServer.url], (l) => {
    const m = /^\{"port":(\d+)\}$/.exec(l);
    return m ? `http://127.0.0.1:${m[1]}/mcp` : undefined;
  });
  const bare = { stdio: await stdioClient(process.execPath, [SELF, '--relay', 'stdio']), http: await httpClient(bareHttp.url) };
  const direct = { stdio: await stdioClient(process.execPath, stdioServer.args), http: await httpClient(httpServer.url) };
  const previous = PREVIOUS_BIN === undefined ? undefined : {
    stdio: await stdioClient(process.execPath, [...GATEWAY_NODE_ARGS, PREVIOUS_BIN, 'gateway', '--config', stdioGatewayConfig]),
    http: await spawnReady([...GATEWAY_NODE_ARGS, PREVIOUS_BIN, 'gateway', '--config', httpGatewayConfig], (l) => /listening on (http:\/\/\S+)/.exec(l)?.[1]),
  };
  if (previous !== undefined) previous.httpClient = await httpClient(previous.http.url, token);
  const viaGw = { stdio: await stdioClient(process.execPath, [...GATEWAY_NODE_ARGS, BIN, 'gateway', '--config', stdioGatewayConfig]), http: await httpClient(httpGateway.url, token), mixed: await httpClient(mixedGateway.url, token) };
  for (const c of [direct.stdio.client, viaGw.stdio.client]) if (!(await c.listTools()).tools.some((t) => t.name === 'noop')) throw new Error('no noop tool');

  let gatewayCalls = 0;
  const call = (client, counted) => async (i) => {
    const r = await client.callTool({ name: 'noop', arguments: { n: i } });
    if (r.isError) throw new Error(`noop failed: ${JSON.stringify(r.content)}`);
    if (counted) gatewayCalls++;
  };
  const idle = async () => {};
  // A gateway variant also measures the gateway process's CPU per call, round by round: on a
  // loaded machine the CPU a process spends is a steadier figure of its own cost than latency.
  const gatewayCpu = {};
  const metered = (name, pid, fn) => {
    const perRound = (gatewayCpu[name] = []);
    let start;
    return {
      call: async (i) => {
        if (i === 0) start = cpuNanos(pid);
        await fn(i);
      },
      flush: async () => {
        const end = cpuNanos(pid);
        if (start !== undefined && end !== undefined) perRound.push((end - start) / 1e3 / ITERATIONS);
      },
    };
  };

  // 1. Latency: four variants interleaved, one awaited call at a time.
  const lat = await compareTimed(
    {
      'stdio, direct': { call: call(direct.stdio.client, false), flush: idle },
      'stdio, through a bare relay (no SDK, no audit)': { call: call(bare.stdio.client, false), flush: idle },
      'HTTP, through a bare relay (no SDK, no audit)': { call: call(bare.http, false), flush: idle },
      'stdio, through the gateway': metered('stdio, through the gateway', viaGw.stdio.pid, call(viaGw.stdio.client, true)),
      'HTTP, direct': { call: call(direct.http, false), flush: idle },
      'HTTP, through the gateway': metered('HTTP, through the gateway', httpGateway.child.pid, call(viaGw.http, true)),
      'HTTP, through the gateway to a stdio child': metered('HTTP, through the gateway to a stdio child', mixedGateway.child.pid, call(viaGw.mixed, true)),
      ...(previous !== undefined
        ? {
            'stdio, through the previous gateway': metered('stdio, through the previous gateway', previous.stdio.pid, call(previous.stdio.client, true)),
            'HTTP, through the previous gateway': metered('HTTP, through the previous gateway', previous.http.child.pid, call(previous.httpClient, true)),
          }
        : {}),
    },
    { rounds: ROUNDS, iterations: ITERATIONS, warmup: 3 },
  );
  const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
  // Round by round: the ratio of the two round medians, then the median and range of those.
  const perRound = (name, base) => {
    const rs = lat[name].roundMedians.map((m, i) => m / lat[base].roundMedians[i]).sort((a, b) => a - b);
    return `${ratio(rs[Math.floor(rs.length / 2)], 1)} (${rs[0].toFixed(2)}-${rs[rs.length - 1].toFixed(2)})`;
  };
  const cpuOf = (name) => {
    const xs = (gatewayCpu[name] ?? []).slice(-ROUNDS).sort((a, b) => a - b);
    return xs.length === 0 ? '' : fmt(xs[Math.floor(xs.length / 2)]);
  };
  const latency = [['variant', 'median µs', 'p99 µs', 'median vs direct', 'p99 vs direct', 'median vs direct, per round (range)', 'gateway CPU µs per call (median of rounds)', 'preempted / 1000 calls']];
  const stdioRows = ['stdio, through a bare relay (no SDK, no audit)', 'stdio, through the gateway', ...(previous ? ['stdio, through the previous gateway'] : [])];
  const httpRows = ['HTTP, through a bare relay (no SDK, no audit)', 'HTTP, through the gateway', 'HTTP, through the gateway to a stdio child', ...(previous ? ['HTTP, through the previous gateway'] : [])];
  for (const [names, base] of [[stdioRows, 'stdio, direct'], [httpRows, 'HTTP, direct']]) {
    for (const name of [base, ...names]) {
      const v = lat[name];
      latency.push([name, fmt(v.callMedian), fmt(v.p99), ratio(v.callMedian, lat[base].callMedian), ratio(v.p99, lat[base].p99), name === base ? '' : perRound(name, base), cpuOf(name), v.preemptedPer1000.toFixed(1)]);
    }
  }

  // 2. Throughput: CLIENTS concurrent HTTP sessions, each one call at a time, for SECONDS;
  //    and one stdio connection with CLIENTS calls in flight. Direct and gateway alternate.
  // Each load runs in SLICES turns of SECONDS / SLICES, the loads alternating turn by turn (after
  // a 1 s warm-up each), so a change in the machine's load is shared by every row.
  const measure = async (clients, pids, counted, ms) => {
    const cpu0 = pids.map(cpuNanos);
    const t0 = performance.now();
    const end = t0 + ms;
    let calls = 0;
    await Promise.all(
      clients.map(async (c, w) => {
        for (let i = w; performance.now() < end; i += clients.length) {
          await call(c, counted)(i);
          calls++;
        }
      }),
    );
    const cpu = pids.map((p, k) => (cpu0[k] === undefined ? undefined : (cpuNanos(p) - cpu0[k]) / 1e3));
    return { calls, ms: performance.now() - t0, cpu };
  };
  const httpDirectClients = await Promise.all(Array.from({ length: CLIENTS }, () => httpClient(httpServer.url)));
  const httpGwClients = await Promise.all(Array.from({ length: CLIENTS }, () => httpClient(httpGateway.url, token)));
  const httpPrevClients = previous === undefined ? [] : await Promise.all(Array.from({ length: CLIENTS }, () => httpClient(previous.http.url, token)));
  const stdioSame = (c) => Array.from({ length: CLIENTS }, () => c);
  const loads = {
    httpDirect: [httpDirectClients, [httpServer.child.pid], false],
    httpGw: [httpGwClients, [httpGateway.child.pid], true],
    stdioDirect: [stdioSame(direct.stdio.client), [direct.stdio.pid], false],
    stdioGw: [stdioSame(viaGw.stdio.client), [viaGw.stdio.pid], true],
    ...(previous !== undefined
      ? { httpPrev: [httpPrevClients, [previous.http.child.pid], true], stdioPrev: [stdioSame(previous.stdio.client), [previous.stdio.pid], true] }
      : {}),
  };
  const SLICES = 4;
  const sums = {};
  for (const [k, [clients, pids, counted]] of Object.entries(loads)) {
    await measure(clients, pids, counted, 1000);
    sums[k] = { calls: 0, ms: 0, cpu: 0 };
  }
  for (let slice = 0; slice < SLICES; slice++) {
    for (const [k, [clients, pids, counted]] of Object.entries(loads)) {
      const m = await measure(clients, pids, counted, (SECONDS * 1000) / SLICES);
      sums[k].calls += m.calls;
      sums[k].ms += m.ms;
      sums[k].cpu = m.cpu[0] === undefined || sums[k].cpu === undefined ? undefined : sums[k].cpu + m.cpu[0];
    }
  }
  const tput = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, { rate: (v.calls * 1000) / v.ms, cpu: [v.cpu === undefined ? undefined : v.cpu / v.calls] }]));
  const int = (n) => Math.round(n).toLocaleString('en-US');
  const us = (x) => (x === undefined ? 'n/a' : fmt(x));
  const throughput = [
    ['load', 'calls/s direct', 'calls/s through the gateway', 'gateway / direct', 'gateway CPU µs per call', 'server CPU µs per call, direct'],
    [`HTTP, ${CLIENTS} concurrent sessions`, int(tput.httpDirect.rate), int(tput.httpGw.rate), ratio(tput.httpGw.rate, tput.httpDirect.rate), us(tput.httpGw.cpu[0]), us(tput.httpDirect.cpu[0])],
    [`stdio, one connection, ${CLIENTS} calls in flight`, int(tput.stdioDirect.rate), int(tput.stdioGw.rate), ratio(tput.stdioGw.rate, tput.stdioDirect.rate), us(tput.stdioGw.cpu[0]), us(tput.stdioDirect.cpu[0])],
  ];
  if (previous !== undefined) {
    throughput.push([`HTTP, ${CLIENTS} sessions, previous gateway`, int(tput.httpDirect.rate), int(tput.httpPrev.rate), ratio(tput.httpPrev.rate, tput.httpDirect.rate), us(tput.httpPrev.cpu[0]), us(tput.httpDirect.cpu[0])]);
    throughput.push([`stdio, ${CLIENTS} in flight, previous gateway`, int(tput.stdioDirect.rate), int(tput.stdioPrev.rate), ratio(tput.stdioPrev.rate, tput.stdioDirect.rate), us(tput.stdioPrev.cpu[0]), us(tput.stdioDirect.cpu[0])]);
  }

  // 3. The records: close every connection, stop the gateways (they flush), count, verify.
  await Promise.all([...httpDirectClients, ...httpGwClients, direct.http, viaGw.http, viaGw.mixed, bare.http, ...(previous ? [previous.httpClient, ...httpPrevClients] : [])].map((c) => c.close()));
  if (previous !== undefined) {
    await previous.stdio.client.close();
    await stop(previous.http.child);
  }
  await direct.stdio.client.close();
  await bare.stdio.client.close();
  await stop(bareHttp.child);
  await viaGw.stdio.client.close();
  await stop(httpGateway.child);
  await stop(mixedGateway.child);
  for (let i = 0; i < 400 && viaGw.stdio.pid && fs.existsSync(`/proc/${viaGw.stdio.pid}`); i++) await new Promise((r) => setTimeout(r, 25));
  await stop(httpServer.child);
  let recorded = 0;
  for (let i = 0; i < 200 && (recorded = countCalls(collect.dir)) < gatewayCalls; i++) await new Promise((r) => setTimeout(r, 50));
  await collect.stop();
  const verify = spawnSync(process.execPath, [BIN, 'verify', '--dir', collect.dir, '--public-key', path.join(dir, 'gateway-signing.pub')], { encoding: 'utf8', timeout: 120_000 });
  const verdict = `${verify.status}${verify.status === 0 ? ' (complete and unedited)' : `: ${`${verify.stdout}${verify.stderr}`.trim().slice(0, 400)}`}`;

  return [
    {
      title: 'Gateway: one tools/call of a trivial tool, through `tooltrail gateway` vs direct, same transport',
      rows: latency,
      notes: [
        `${ROUNDS} interleaved rounds of ${ITERATIONS} sequential awaited calls per variant (3 warm-up rounds); median and p99 of the single calls. ` +
          'HTTP through the gateway is agent -> gateway (Streamable HTTP, bearer token) -> server (Streamable HTTP), and in the last row -> the same server as the gateway\'s stdio child (the agent\'s leg alone over HTTP); stdio through the gateway is agent -> gateway (stdio) -> server (the gateway\'s stdio child). ' +
          'Every call through the gateway is one execute_tool record exported (buffered) to a real `tooltrail collect`.',
      ],
    },
    {
      title: 'Gateway: calls per second through one gateway process',
      rows: throughput,
      notes: [
        `${SECONDS} s per row after a 1 s warm-up, in 4 turns alternating with the other rows; CPU of the process (every thread) from /proc schedstat. All processes (clients, gateway, server, collector) share this machine's ${os.cpus().length} cores.`,
        `Records at the collector: ${int(recorded)} of ${int(gatewayCalls)} calls made through the gateways; \`tooltrail verify --dir --public-key\` exit ${verdict}.`,
      ],
    },
  ];
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]);
} else if (process.argv[2] === '--relay') {
  await relay(process.argv[3], process.argv[4]);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const { table } = await import('./lib.mjs');
  for (const r of await benchGateway()) console.log(`## ${r.title}\n\n${table(r.rows)}\n\n${r.notes.join('\n\n')}\n`);
  process.exit(0);
}
