// The production pipeline's throughput and loss (docs/production.md), against direct OTLP to
// Jaeger in the same run. Both paths end in the same kind of store (Jaeger v2, Badger on disk,
// synchronous writes), started by scripts/pipeline.sh on 127.0.0.1:
//   direct:   agents -> Jaeger (otlp -> Badger)                        scripts/pipeline/direct.yaml
//   pipeline: agents -> collector (otlp -> kafka, acks all, no queue) -> Kafka (3 nodes, RF 3,
//             min ISR 2) -> ingester (kafka -> Badger)                   deploy/*.yaml
// Each round runs AGENTS agent processes (test/pipeline/agent.mjs, integrity on, buffered) making
// CALLS calls each as fast as they go. Figures, per path, medians of the rounds (interleaved):
//   accepted: records / time until every agent's shutdown() returned true (its spool delivered:
//             the collector answered 200, i.e. Kafka has each record on 2 brokers; direct: in
//             Badger)
//   queryable: records / time until Jaeger's query API returns them. Measured with sentinel
//             spans sent once the agents are done: 60 random trace ids cover all 6 partitions
//             (all but certainly), and a partition's sentinel is stored only after everything
//             before it in that partition.
//   lost:     records the agents made that Jaeger does not have at the end (one full read).
// Bounded: the pipeline starts in ~20 s (warm caches), each round takes seconds; ~2 min in all.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateSigningKeyPair } from '@tooltrail/core';
import { median } from './lib.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts/pipeline.sh');
const AGENT = path.join(ROOT, 'test/pipeline/agent.mjs');
const AGENTS = Number(process.env.BENCH_PIPELINE_AGENTS ?? 4);
const CALLS = Number(process.env.BENCH_PIPELINE_CALLS ?? 4_000); // per agent
const ROUNDS = Number(process.env.BENCH_PIPELINE_ROUNDS ?? 2);
const SENTINELS = 60;
const PATHS = {
  direct: { endpoint: 'http://127.0.0.1:25318', query: 'http://127.0.0.1:25686' },
  pipeline: { endpoint: 'http://127.0.0.1:24318', query: 'http://127.0.0.1:26686' },
};
const int = (n) => Math.round(n).toLocaleString('en-US');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pipeline(...args) {
  return execFileSync('bash', [SCRIPT, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

const live = new Set();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** One agent process; resolves with its done line ({ shutdown, stats, ms }). */
function runAgent(options) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let done;
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4_000)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('done ')) done = JSON.parse(line.slice(5));
    });
    child.on('close', (code) => {
      live.delete(child);
      if (code === 0 && done) resolve(done);
      else reject(new Error(`agent ${options.prefix} exited ${code}: ${stderr}`));
    });
  });
}

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: res.status === 200 ? await res.json() : undefined };
}

/** Spans Jaeger has for a service (one full read). */
async function storedSpans(query, service) {
  const q = new URLSearchParams({ service, lookback: '1h', limit: '20000' });
  const { status, body } = await getJson(`${query}/api/traces?${q}`);
  if (status !== 200) throw new Error(`Jaeger ${query}: HTTP ${status}`);
  return (body.data ?? []).reduce((n, t) => n + t.spans.length, 0);
}

async function sendSentinels(endpoint, service) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const ids = Array.from({ length: SENTINELS }, () => randomBytes(16).toString('hex'));
  const spans = ids.map((traceId) => ({ traceId, spanId: randomBytes(8).toString('hex'), name: 'sentinel', kind: 1, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1000n) }));
  const body = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] };
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch((e) => ({ status: 0, e }));
    if (res.status === 200) return ids;
    if (attempt > 20) throw new Error(`sentinels refused by ${endpoint}: ${res.status}`);
    await sleep(250);
  }
}

async function waitSentinels(query, ids, timeoutMs) {
  const pending = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    for (const id of [...pending]) {
      const { status } = await getJson(`${query}/api/traces/${id}`);
      if (status === 200) pending.delete(id);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) throw new Error(`${pending.size} sentinel traces did not reach ${query} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function round(name, keys, dir, n) {
  const p = PATHS[name];
  const service = `bench-${name}-${n}-${Date.now()}`;
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: AGENTS }, (_, i) =>
      runAgent({
        service,
        endpoint: p.endpoint,
        spoolDir: path.join(dir, `${name}-${n}-${i}`),
        prefix: `${name}${n}a${i}`,
        runs: CALLS / 500,
        callsPerRun: 500,
        ratePerSec: 0,
        signingKeyFile: keys.signingKeyFile,
        macKey: keys.macKey,
        checkpointEvery: 256,
        shutdownMs: 120_000,
      }),
    ),
  );
  const acked = performance.now() - t0;
  const ids = await sendSentinels(p.endpoint, `${service}-sentinel`);
  await waitSentinels(p.query, ids, 120_000);
  const queryable = performance.now() - t0;
  const records = results.reduce((s, r) => s + r.stats.recorded, 0);
  const dropped = results.reduce((s, r) => s + r.stats.dropped, 0);
  const stored = await storedSpans(p.query, service);
  return { name, records, acked, queryable, lost: records - stored, dropped, shutdownOk: results.every((r) => r.shutdown) };
}

export async function benchPipeline() {
  const t0 = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tooltrail-bench-pipeline-'));
  const pair = generateSigningKeyPair();
  const keys = { signingKeyFile: path.join(dir, 'signing.pem'), macKey: 'bench-pipeline-mac-key-0123456789' };
  fs.writeFileSync(keys.signingKeyFile, pair.privateKeyPem, { mode: 0o600 });
  const samples = { direct: [], pipeline: [] };
  try {
    pipeline('ensure');
    pipeline('reset');
    pipeline('start', 'kafka-1', 'kafka-2', 'kafka-3', 'ingester', 'collector', 'direct');
    // A warm-up round per path (JIT, connections, Kafka's first produce), not counted.
    await round('direct', keys, dir, 0);
    await round('pipeline', keys, dir, 0);
    for (let n = 1; n <= ROUNDS; n++) for (const name of ['direct', 'pipeline']) samples[name].push(await round(name, keys, dir, n));
  } finally {
    pipeline('stop');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const sum = (name) => {
    const s = samples[name];
    const records = median(s.map((r) => r.records));
    return {
      records,
      accepted: median(s.map((r) => r.records / (r.acked / 1000))),
      queryable: median(s.map((r) => r.records / (r.queryable / 1000))),
      queryableSec: median(s.map((r) => r.queryable / 1000)),
      lost: s.reduce((n, r) => n + r.lost, 0),
      dropped: s.reduce((n, r) => n + r.dropped, 0),
      total: s.reduce((n, r) => n + r.records, 0),
      ok: s.every((r) => r.shutdownOk),
    };
  };
  const d = sum('direct');
  const pl = sum('pipeline');
  const row = (label, x) => [label, int(x.records), int(x.accepted), int(x.queryable), x.queryableSec.toFixed(1), `${x.lost} of ${int(x.total)}`, x.ok ? 'yes' : 'NO'];
  return {
    title: `Production pipeline: records/s through the collector tier, Kafka and the ingester into Jaeger, against direct OTLP to Jaeger (${AGENTS} agents x ${int(CALLS)} calls per round, median of ${ROUNDS} rounds)`,
    rows: [
      ['path', 'records per round', 'accepted (records/s)', 'queryable in Jaeger (records/s)', 'last record queryable after (s)', 'lost (all rounds)', 'every shutdown() true'],
      row('direct: agents -> Jaeger (Badger, sync writes)', d),
      row('pipeline: agents -> collector -> Kafka x3 -> ingester -> Jaeger', pl),
    ],
    notes: [
      `Pipeline / direct: accepted ${(pl.accepted / d.accepted).toFixed(2)}x, queryable ${(pl.queryable / d.queryable).toFixed(2)}x. ` +
        `"accepted" is when every agent's spool was delivered (the collector's 200 means Kafka has each record on 2 of 3 brokers); "queryable" when Jaeger's query API returns the last of them. ` +
        `Records: every span an agent recorded (execute_tool, tool_attempt, run spans, stream start and checkpoints); integrity on; buffered durability. ` +
        `All pieces and the agents share this machine's ${os.cpus().length} cores. Suite time ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
    ],
  };
}
