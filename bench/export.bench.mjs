// Export pipeline: burst delivery against a default BatchSpanProcessor, end-to-end throughput to
// the local collector, per-call cost of `buffered` and `strict`, and memory through a collector
// outage. Every collector is the real `tooltrail collect` process; what arrived is counted by
// reading its JSONL files (one line per span).
import { spawn } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { createAuditor, setDefaultAuditor } from '@tooltrail/core';
import { openTrail } from '@tooltrail/cli';
import { compare, fmt, handProvider, handWrittenSpan, median, NullExporter } from './lib.mjs';

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const BURST_CALLS = Number(process.env.BENCH_BURST_CALLS ?? 100_000);
const OUTAGE_SECONDS = Number(process.env.BENCH_OUTAGE_SECONDS ?? 30);
const OUTAGE_RATE = 2_000; // calls per second of steady load
const MiB = 1024 * 1024;
// Shorter rounds than the core suite: a strict round of 2,000 fsyncing calls stalls the event
// loop for seconds on a busy disk, long enough for keep-alive sockets and request deadlines
// to expire under the pipeline.
const COST_ROUNDS = { rounds: 20, iterations: 1_000, warmup: 3 };

const args = { to: 'bob@example.com', subject: 'Your ticket #4521', body: 'Hello Bob, your refund was processed.' };
const tool = async (a) => ({ queued: true, to: a.to });
const identity = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot', id: 'bot-7' }, conversationId: 'conv-1' };
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const int = (n) => Math.round(n).toLocaleString('en-US');
const mib = (b) => (b / MiB).toFixed(1);
const pct = (a, b) => `${((100 * a) / b).toFixed(a === b ? 0 : 1)}%`;

// ---- the collector process -------------------------------------------------------------------

const live = new Set();
process.on('exit', () => {
  for (const c of live) c.child.kill('SIGKILL');
});

class CollectorProcess {
  static start(dir, port = 0) {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'collect', '--host', '127.0.0.1', '--port', String(port), '--dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const c = new CollectorProcess(child, dir);
      live.add(c);
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`collector did not start: ${stderr}`));
      }, 15_000);
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))\/v1\/traces/.exec(line);
        if (m && c.url === undefined) {
          clearTimeout(timer);
          c.url = m[1];
          c.port = Number(m[2]);
          resolve(c);
        }
      });
      child.on('exit', (code, signal) => {
        live.delete(c);
        c.exited = { code, signal };
        clearTimeout(timer);
        if (c.url === undefined) reject(new Error(`collector exited (${code ?? signal}) before it was ready: ${stderr}`));
      });
    });
  }

  constructor(child, dir) {
    this.child = child;
    this.dir = dir;
    this.url = undefined;
    this.port = undefined;
    this.exited = undefined;
  }

  get tracesUrl() {
    return `${this.url}/v1/traces`;
  }

  /** SIGTERM (in-flight requests are written and acknowledged) or SIGKILL; resolves on exit. */
  stop(signal = 'SIGTERM') {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

/**
 * Reads a trail folder with the CLI's own reader (v1 and v2 lines, the resource put back on each
 * span): spans, distinct span ids, call ids per service. Lines that are not spans (the
 * collector's open, resource and seal lines) are not counted as spans.
 */
async function scanTrail(dir) {
  const out = { lines: 0, torn: 0, spanIds: new Set(), duplicates: 0, byService: new Map(), callIds: new Map() };
  const trail = openTrail(dir);
  for await (const { record: rec } of trail) {
    out.lines++;
    const key = `${rec.traceId}/${rec.spanId}`;
    if (out.spanIds.has(key)) {
      out.duplicates++;
      continue;
    }
    out.spanIds.add(key);
    const service = rec.resource?.['service.name'] ?? '';
    out.byService.set(service, (out.byService.get(service) ?? 0) + 1);
    const callId = rec.attributes?.['gen_ai.tool.call.id'];
    if (callId !== undefined && rec.name.startsWith('execute_tool ')) out.callIds.set(callId, (out.callIds.get(callId) ?? 0) + 1);
  }
  out.torn = trail.problemCount;
  return out;
}

/** CPU seconds a process has used so far (Linux /proc; undefined elsewhere). */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return undefined;
  }
}

function tmpDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tooltrail-bench-${name}-`));
}

/** Bytes of request bodies sent to each port, from the content-length of outgoing requests. */
const requestBytes = new Map();
dc.subscribe('http.client.request.start', ({ request }) => {
  const port = Number(String(request.getHeader('host') ?? '').split(':')[1]);
  const len = Number(request.getHeader('content-length'));
  if (Number.isFinite(port) && Number.isFinite(len)) {
    const s = requestBytes.get(port) ?? { requests: 0, bytes: 0 };
    s.requests++;
    s.bytes += len;
    requestBytes.set(port, s);
  }
  // Failed requests, by reason (the pipeline retries them; a request the collector had already
  // written shows up as a duplicate).
  request.once('error', (e) => countFailure(port, e.message.replace(/\d+/g, 'N')));
  request.once('response', (res) => {
    if (res.statusCode < 200 || res.statusCode > 299) countFailure(port, `HTTP ${res.statusCode}`);
  });
});
const requestFailures = new Map();
function countFailure(port, why) {
  const m = requestFailures.get(port) ?? new Map();
  m.set(why, (m.get(why) ?? 0) + 1);
  requestFailures.set(port, m);
}
function failuresTo(port) {
  const m = requestFailures.get(port);
  if (!m) return 'failed requests: 0';
  return `failed requests: ${[...m].map(([why, n]) => `${n}x ${why}`).join(', ')}`;
}

function quietLogger() {
  const messages = [];
  return { messages, warn: (m) => messages.push(m) };
}

/** The first few distinct warnings (numbers blanked out to group them), for the notes. */
function warningSummary(messages, max = 3) {
  const kinds = new Map();
  for (const m of messages) {
    const k = m.replace(/\d[\d.,]*/g, 'N').slice(0, 160);
    if (!kinds.has(k)) kinds.set(k, { first: m, n: 0 });
    kinds.get(k).n++;
  }
  if (kinds.size === 0) return 'warnings logged: 0';
  const list = [...kinds.values()].slice(0, max).map((k) => `${k.n}x "${k.first.slice(0, 200)}"`);
  return `warnings logged: ${messages.length} (${list.join('; ')})`;
}


// ---- 1 + 2: burst delivery and end-to-end throughput ------------------------------------------

async function burst(n) {
  // Baseline: default BatchSpanProcessor + OTLPTraceExporter (only the URL is set).
  const baseDir = tmpDir('burst-otel');
  const baseCol = await CollectorProcess.start(baseDir);
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: baseCol.tracesUrl }))] });
  const hand = handWrittenSpan(provider.getTracer('hand'), tool);
  let t0 = now();
  for (let i = 0; i < n; i++) await hand(args);
  const baseMade = now() - t0;
  await provider.forceFlush();
  await provider.shutdown();
  const baseDone = now() - t0;
  await baseCol.stop();
  const baseTrail = await scanTrail(baseDir);

  // tooltrail: withAudit with default options (endpoint and spool folder set), then shutdown().
  const ttDir = tmpDir('burst-tt');
  const spoolDir = tmpDir('burst-spool');
  const ttCol = await CollectorProcess.start(ttDir);
  const log = quietLogger();
  const auditor = createAuditor({ serviceName: 'bench-burst', endpoint: ttCol.url, spoolDir, logger: log });
  setDefaultAuditor(undefined);
  const audited = auditor.withAudit(tool, { name: 'send_email' });
  let peakSpool = 0;
  t0 = now();
  await auditor.run(identity, async () => {
    for (let i = 0; i < n; i++) await audited(args);
    peakSpool = auditor.stats().spoolBytes;
  });
  const ttMade = now() - t0;
  const colCpu0 = cpuSeconds(ttCol.child.pid);
  const ownCpu0 = process.cpuUsage();
  const delivered = await auditor.shutdown();
  const ttDone = now() - t0;
  const colCpu = cpuSeconds(ttCol.child.pid) - colCpu0;
  const ownCpu = process.cpuUsage(ownCpu0);
  const stats = auditor.stats();
  await ttCol.stop();
  const ttTrail = await scanTrail(ttDir);
  const wire = requestBytes.get(ttCol.port) ?? { requests: 0, bytes: 0 };
  const produced = stats.recorded; // call + attempt per call, the run span, any integrity checkpoints
  if (stats.dropped !== 0) throw new Error(`tooltrail dropped records in the burst: ${JSON.stringify(stats)}`);
  for (const d of [baseDir, ttDir, spoolDir]) fs.rmSync(d, { recursive: true, force: true });

  const deliveryTable = {
    title: `Burst delivery: ${int(n)} tool calls in a sequential awaited loop that never yields to timers, then flush/shutdown (spans counted in the collector's files)`,
    rows: [
      ['pipeline', 'spans produced', 'spans at the collector', 'delivered', 'loop (s)', 'loop + flush (s)'],
      ['default BatchSpanProcessor + OTLPTraceExporter', int(n), int(baseTrail.spanIds.size), pct(baseTrail.spanIds.size, n), (baseMade / 1e3).toFixed(1), (baseDone / 1e3).toFixed(1)],
      ['tooltrail withAudit, default options (call + attempt span per call)', int(produced), int(ttTrail.spanIds.size), pct(ttTrail.spanIds.size, produced), (ttMade / 1e3).toFixed(1), (ttDone / 1e3).toFixed(1)],
    ],
    notes: [
      `tooltrail: distinct call ids at the collector ${int(ttTrail.callIds.size)} of ${int(n)}; stats() after shutdown (returned ${delivered}): recorded ${int(stats.recorded)}, exported ${int(stats.exported)}, spooled ${int(stats.spooled)}, replayed ${stats.replayed}, dropped ${stats.dropped}, queueDepth ${stats.queueDepth}, spoolBytes ${stats.spoolBytes}; ` +
        `duplicates at the collector: baseline ${baseTrail.duplicates}, tooltrail ${ttTrail.duplicates}; ${failuresTo(ttCol.port)}; spool at the end of the loop ${mib(peakSpool)} MiB; ${warningSummary(log.messages)}.`,
    ],
  };
  const throughputTable = {
    title: 'Records per second delivered to the local collector (tooltrail, the burst above: spans / time until all were acknowledged)',
    rows: [
      ['measure', 'value'],
      ['spans delivered', int(ttTrail.spanIds.size)],
      ['end to end (first call to last acknowledgement)', `${int(ttTrail.spanIds.size / (ttDone / 1e3))} spans/s`],
      ['drain after the loop (spool + cache to collector)', `${int(ttTrail.spanIds.size / ((ttDone - ttMade) / 1e3))} spans/s`],
      ['requests / bytes on the wire', `${int(wire.requests)} / ${mib(wire.bytes)} MiB`],
      ['bytes per span on the wire (OTLP/JSON)', int(wire.bytes / ttTrail.spanIds.size)],
      ['CPU during the drain: collector process / bench process', `${colCpu.toFixed(1)} s / ${((ownCpu.user + ownCpu.system) / 1e6).toFixed(1)} s (drain took ${((ttDone - ttMade) / 1e3).toFixed(1)} s)`],
    ],
  };
  return [deliveryTable, throughputTable];
}

// ---- 3: per-call cost --------------------------------------------------------------------------

async function perCall() {
  const provider = handProvider();
  const hand = handWrittenSpan(provider.getTracer('hand'), tool);

  const core = createAuditor({ serviceName: 'bench-core', exporter: new NullExporter(), runSpans: false });
  setDefaultAuditor(undefined);
  const dir = tmpDir('cost-trail');
  const spoolDir = tmpDir('cost-spool');
  const col = await CollectorProcess.start(dir);
  const logs = quietLogger();
  const buffered = createAuditor({ serviceName: 'bench-buffered', endpoint: col.url, spoolDir: path.join(spoolDir, 'buffered'), runSpans: false, logger: logs });
  const strict = createAuditor({ serviceName: 'bench-strict', endpoint: col.url, spoolDir: path.join(spoolDir, 'strict'), runSpans: false, durability: 'strict', logger: logs });
  const tools = {
    core: core.withAudit(tool, { name: 'send_email' }),
    buffered: buffered.withAudit(tool, { name: 'send_email' }),
    strict: strict.withAudit(tool, { name: 'send_email' }),
  };

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const r = await core.run(identity, () =>
    compare({
      hand: () => hand(args),
      core: () => tools.core(args),
      buffered: () => tools.buffered(args),
      strict: () => tools.strict(args),
    }, COST_ROUNDS),
  );
  loopDelay.disable();
  await Promise.all([core.shutdown(), buffered.shutdown(), strict.shutdown(), provider.shutdown()]);
  const s = { core: core.stats(), buffered: buffered.stats(), strict: strict.stats() };
  await col.stop();
  const trail = await scanTrail(dir);
  for (const d of [dir, spoolDir]) fs.rmSync(d, { recursive: true, force: true });
  for (const [k, v] of Object.entries(s)) if (v.dropped !== 0) throw new Error(`${k} dropped records: ${JSON.stringify(v)}`);
  const arrived = (svc, st) => `${int(trail.byService.get(svc) ?? 0)} of ${int(st.recorded)}`;
  return {
    title: 'Per-call cost with the export pipeline (µs, median of interleaved rounds; collector up, spool on the local disk)',
    rows: [
      ['variant', 'µs/call', 'ratio to hand-written span', 'ratio to core baseline', 'spans at the collector'],
      ['hand-written OTel span (exporter acknowledges at once)', fmt(r.hand), '1.00', (r.hand / r.core).toFixed(2), '-'],
      ['core baseline: withAudit, exporter acknowledges at once', fmt(r.core), (r.core / r.hand).toFixed(2), '1.00', '-'],
      ["withAudit, durability 'buffered' (default), OTLP to collector", fmt(r.buffered), (r.buffered / r.hand).toFixed(2), (r.buffered / r.core).toFixed(2), arrived('bench-buffered', s.buffered)],
      ["withAudit, durability 'strict' (2 fsyncs per call)", fmt(r.strict), (r.strict / r.hand).toFixed(2), (r.strict / r.core).toFixed(2), arrived('bench-strict', s.strict)],
    ],
    notes: [`duplicates at the collector: ${trail.duplicates}; ${failuresTo(col.port)}; longest event-loop stall ${(loopDelay.max / 1e9).toFixed(1)} s (a round of calls never yields); ${warningSummary(logs.messages)}. Strict writes a tool_intent span too (3 spans per call); spans recorded = stats().recorded.`],
  };
}

// ---- 3b: per-call cost of the wire formats ------------------------------------------------------

const WIRES = [
  { key: 'json', label: 'http/json', protocol: 'http/json', compression: 'none' },
  { key: 'jsonGzip', label: 'http/json + gzip', protocol: 'http/json', compression: 'gzip' },
  { key: 'proto', label: 'http/protobuf', protocol: 'http/protobuf', compression: 'none' },
  { key: 'protoGzip', label: 'http/protobuf + gzip', protocol: 'http/protobuf', compression: 'gzip' },
];

/**
 * Buffered export in each wire format, interleaved in the same rounds as the hand-written span:
 * one collector process per format, so the bytes each sent are counted apart (from the
 * requests' content-length) and the spans that arrived are counted in its own trail.
 */
async function perCallWire() {
  const provider = handProvider();
  const hand = handWrittenSpan(provider.getTracer('hand'), tool);
  const spoolDir = tmpDir('wire-spool');
  const logs = quietLogger();
  const variants = [];
  for (const w of WIRES) {
    const dir = tmpDir(`wire-${w.key}`);
    const col = await CollectorProcess.start(dir);
    const auditor = createAuditor({
      serviceName: `bench-wire-${w.key}`,
      endpoint: col.url,
      spoolDir: path.join(spoolDir, w.key),
      runSpans: false,
      protocol: w.protocol,
      compression: w.compression,
      logger: logs,
    });
    variants.push({ ...w, dir, col, auditor, call: auditor.withAudit(tool, { name: 'send_email' }) });
  }
  setDefaultAuditor(undefined);
  // Each round ends with a flush of its own variant, so a round pays for its own delivery
  // (encoding, protobuf, gzip, the request) rather than leaving it to the next variant's round.
  // Wall time includes waiting for the collector; CPU time is this process's alone.
  const fns = { hand: { call: () => hand(args), flush: () => provider.forceFlush() } };
  for (const v of variants) fns[v.key] = { call: () => v.call(args), flush: () => v.auditor.flush(30_000) };
  const wall = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  const { rounds, iterations, warmup } = COST_ROUNDS;
  await variants[0].auditor.run(identity, async () => {
    for (let round = 0; round < rounds + warmup; round++) {
      for (const [k, f] of Object.entries(fns)) {
        if (global.gc) global.gc();
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < iterations; i++) await f.call();
        await f.flush();
        const us = Number(process.hrtime.bigint() - t0) / 1_000 / iterations;
        const c = process.cpuUsage(c0);
        if (round >= warmup) {
          wall[k].push(us);
          cpu[k].push((c.user + c.system) / iterations);
        }
        await sleep(30);
      }
    }
  });
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const r = Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, med(v)]));
  const rc = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, med(v)]));
  await Promise.all([...variants.map((v) => v.auditor.shutdown()), provider.shutdown()]);
  const rows = [['variant', 'µs/call (wall)', 'ratio to hand-written span', 'ratio to http/json', 'CPU µs/call', 'CPU ratio to http/json', 'request bytes per span', 'spans at the collector']];
  rows.push(['hand-written OTel span (exporter acknowledges at once)', fmt(r.hand), '1.00', (r.hand / r.json).toFixed(2), fmt(rc.hand), (rc.hand / rc.json).toFixed(2), '-', '-']);
  for (const v of variants) {
    const st = v.auditor.stats();
    if (st.dropped !== 0 || st.exported !== st.recorded) throw new Error(`${v.label}: not every record was delivered: ${JSON.stringify(st)}`);
    await v.col.stop();
    const trail = await scanTrail(v.dir);
    const sent = requestBytes.get(v.col.port) ?? { bytes: 0 };
    rows.push([
      `withAudit, buffered, ${v.label} to the collector`,
      fmt(r[v.key]),
      (r[v.key] / r.hand).toFixed(2),
      (r[v.key] / r.json).toFixed(2),
      fmt(rc[v.key]),
      (rc[v.key] / rc.json).toFixed(2),
      int(sent.bytes / st.recorded),
      `${int(trail.byService.get(`bench-wire-${v.key}`) ?? 0)} of ${int(st.recorded)}`,
    ]);
    fs.rmSync(v.dir, { recursive: true, force: true });
  }
  fs.rmSync(spoolDir, { recursive: true, force: true });
  return {
    title: 'Per-call cost of the wire formats (median of interleaved rounds, each ending with its own flush; buffered export, one tooltrail collect per format)',
    rows,
    notes: [
      `The spool holds OTLP/JSON in every format; protobuf is encoded from it and gzip (on libuv's thread pool) applied when a request is sent, in the background. ${warningSummary(logs.messages)}.`,
    ],
  };
}

// ---- 4: memory through a collector outage ------------------------------------------------------

async function outage(outageSeconds) {
  const BEFORE_MS = 5_000;
  const AFTER_MS = 5_000; // load keeps running this long after the backlog is delivered
  const RECOVERY_CAP_MS = 120_000;
  const dir = tmpDir('outage-trail');
  const spoolDir = tmpDir('outage-spool');
  let col = await CollectorProcess.start(dir);
  const port = col.port;
  const log = quietLogger();
  const auditor = createAuditor({ serviceName: 'bench-outage', endpoint: col.url, spoolDir, logger: log });
  setDefaultAuditor(undefined);
  const audited = auditor.withAudit(tool, { name: 'send_email' });

  if (global.gc) global.gc();
  let phase = 'before';
  const samples = [];
  const t0 = now();
  const sample = () => {
    const st = auditor.stats();
    const mem = process.memoryUsage();
    samples.push({ t: now() - t0, phase, rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, spoolBytes: st.spoolBytes, queueDepth: st.queueDepth });
  };
  const sampler = setInterval(sample, 100);

  // Steady load: OUTAGE_RATE calls/s in ticks of 10 ms, catching up when a tick runs late.
  let stop = false;
  let calls = 0;
  const tickMs = 10;
  const perTick = (OUTAGE_RATE * tickMs) / 1000;
  const load = auditor.run(identity, async () => {
    let next = now();
    while (!stop) {
      for (let k = 0; k < perTick; k++) await audited(args);
      calls += perTick;
      next += tickMs;
      await sleep(Math.max(0, next - now()));
    }
  });

  await sleep(BEFORE_MS);
  phase = 'outage';
  const killedAt = now();
  await col.stop('SIGKILL');
  const callsAtKill = calls;
  await sleep(outageSeconds * 1000);
  phase = 'after';
  const callsAtRestart = calls;
  col = await CollectorProcess.start(dir, port);
  const restartedAt = now();
  const recordedAtRestart = auditor.stats().recorded;
  // Delivery is in order: the backlog is delivered once exported + replayed passes what was
  // recorded at the restart.
  let drainedAt;
  while (now() - restartedAt < RECOVERY_CAP_MS) {
    const st = auditor.stats();
    if (st.exported + st.replayed >= recordedAtRestart) {
      drainedAt = now();
      break;
    }
    await sleep(50);
  }
  await sleep(AFTER_MS);
  stop = true;
  await load;
  const flushed = await auditor.shutdown(60_000);
  const endedAt = now();
  clearInterval(sampler);
  sample(); // the end of the run, after shutdown()
  const stats = auditor.stats();
  await col.stop();
  const trail = await scanTrail(dir);
  for (const d of [dir, spoolDir]) fs.rmSync(d, { recursive: true, force: true });

  const inPhase = (p) => samples.filter((s) => s.phase === p);
  const before = inPhase('before');
  const during = inPhase('outage');
  const after = inPhase('after');
  const peak = (xs) => xs.reduce((m, s) => (s.rss > m.rss ? s : m), xs[0]);
  const at = (s) => `${((s.t - (killedAt - t0)) / 1e3).toFixed(1)} s`;
  const row = (label, s) => [label, at(s), mib(s.rss), `${mib(s.heapUsed)} / ${mib(s.heapTotal)}`, mib(s.external), mib(s.spoolBytes), int(s.queueDepth)];
  const produced = stats.recorded;
  const missingCalls = calls - trail.callIds.size;
  const incomplete = [...trail.callIds.values()].filter((c) => c !== 1).length;
  const ms = (x) => `${(x / 1e3).toFixed(1)} s`;

  const memory = {
    title: `Memory through a ${outageSeconds} s collector outage under steady load (${int(OUTAGE_RATE)} calls/s = ${int(2 * OUTAGE_RATE)} spans/s, timer-paced; collector SIGKILLed, restarted on the same port and folder; sampled every 100 ms)`,
    rows: [
      ['moment', 'time from the kill', 'RSS (MiB)', 'V8 heap used / total (MiB)', 'external (MiB)', 'spool (MiB)', 'records waiting'],
      row('before the outage (last sample)', before[before.length - 1]),
      row('peak RSS during the outage', peak(during)),
      row('end of the outage', during[during.length - 1]),
      row('peak RSS after the restart (backlog read back from the spool)', peak(after)),
      row('end of the run (after shutdown)', samples[samples.length - 1]),
    ],
  };
  const delivery = {
    title: `Delivery through the ${outageSeconds} s outage (spans counted in the collector's files after recovery)`,
    rows: [
      ['measure', 'value'],
      ['calls made: in all / during the outage', `${int(calls)} / ${int(callsAtRestart - callsAtKill)}`],
      ['backlog delivered after the restart in', drainedAt === undefined ? `not within ${ms(RECOVERY_CAP_MS)}` : ms(drainedAt - restartedAt)],
      ['spans recorded / distinct spans at the collector', `${int(produced)} / ${int(trail.spanIds.size)}`],
      ['call ids missing at the collector', int(Math.max(0, missingCalls))],
      ['duplicate span lines (at-least-once resends) / torn lines', `${int(trail.duplicates)} / ${trail.torn}`],
      ['stats() after shutdown', `recorded ${int(stats.recorded)}, exported ${int(stats.exported)}, replayed ${stats.replayed}, dropped ${stats.dropped}, failedExports ${stats.failedExports}, queueDepth ${stats.queueDepth}; shutdown delivered all: ${flushed}`],
    ],
    notes: [
      `run length ${ms(endedAt - t0)}; execute_tool spans with a call id seen other than once: ${incomplete}; ${failuresTo(port)}; ${warningSummary(log.messages)}.`,
    ],
  };
  return [memory, delivery];
}

// ---- 3c: per-call latency, and whether a call waits for a batch's seal --------------------------

const SEAL_CALLS = Number(process.env.BENCH_SEAL_CALLS ?? 20_000);

function latencyRow(label, { us, sealed }) {
  const sorted = Float64Array.from(us).sort();
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const over1ms = sorted.filter((x) => x > 1_000).length;
  const inSeal = us.filter((_, i) => sealed[i] === 1);
  const sealUs = inSeal.length > 0 ? fmt(median([...inSeal])) : '-';
  return [label, fmt(q(0.5)), fmt(q(0.99)), (q(0.99) / q(0.5)).toFixed(1), fmt(sorted[sorted.length - 1]), String(over1ms), String(inSeal.length), sealUs];
}

/**
 * Each call timed on its own (performance.now() around the awaited call), 20,000 calls per
 * variant into the buffered pipeline delivering to a real collector. "yields" awaits a
 * setImmediate between calls, as an agent whose tools do I/O does: the batch a call fills is
 * sealed in the next turn of the event loop, outside every call. "never yields" awaits only
 * resolved promises: no deferred seal can run, so each seal lands inside a call, exactly as the
 * old synchronous seal did in every loop; its calls over 1 ms are what a seal costs a call.
 */
async function sealLatency() {
  const provider = handProvider();
  const hand = handWrittenSpan(provider.getTracer('hand'), tool);
  const dir = tmpDir('seal-trail');
  const spoolDir = tmpDir('seal-spool');
  const col = await CollectorProcess.start(dir);
  const logs = quietLogger();
  const maxBatch = 512; // the default
  const auditor = createAuditor({ serviceName: 'bench-seal', endpoint: col.url, spoolDir, runSpans: false, logger: logs });
  setDefaultAuditor(undefined);
  const audited = auditor.withAudit(tool, { name: 'send_email' });
  // A call "waited for a seal" when the spool grew while it ran (stats() read outside the timed window).
  const time = async (fn, n, yields) => {
    const us = new Float64Array(n);
    const sealed = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const spooled = auditor.stats().spooled;
      const t0 = performance.now();
      await fn(args);
      us[i] = (performance.now() - t0) * 1000;
      if (auditor.stats().spooled !== spooled) sealed[i] = 1;
      if (yields) await new Promise((r) => setImmediate(r));
    }
    return { us, sealed };
  };
  const r = await auditor.run(identity, async () => {
    await time(audited, 2_000, true); // warm-up
    await time(hand, 2_000, true);
    const out = {};
    for (const [k, fn, yields] of [['handYields', hand, true], ['yields', audited, true], ['neverYields', audited, false], ['yields2', audited, true]]) {
      if (global.gc) global.gc();
      const before = auditor.stats().recorded;
      out[k] = await time(fn, SEAL_CALLS, yields);
      if (fn === audited) out[`${k}Spans`] = (auditor.stats().recorded - before) / SEAL_CALLS;
      await sleep(200);
    }
    return out;
  });
  const delivered = await auditor.shutdown(30_000);
  await provider.shutdown();
  const st = auditor.stats();
  await col.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(spoolDir, { recursive: true, force: true });
  if (!delivered || st.dropped !== 0) throw new Error(`seal bench lost records: ${JSON.stringify(st)}`);
  const spans = r.yieldsSpans;
  return {
    title: `Per-call latency with buffered export (µs per call, ${int(SEAL_CALLS)} calls each; maxBatch ${maxBatch}, collector up)`,
    rows: [
      ['variant', 'median', 'p99', 'p99/median', 'max', 'calls over 1 ms', 'calls that sealed a batch', 'median µs of those'],
      latencyRow('hand-written OTel span, loop yields between calls', r.handYields),
      latencyRow('withAudit buffered, loop yields between calls (seal after the call)', r.yields),
      latencyRow('withAudit buffered, loop yields, second pass', r.yields2),
      latencyRow('withAudit buffered, loop never yields (each seal lands in a call, as the old sync seal always did)', r.neverYields),
    ],
    notes: [
      `${spans} records per call, so ${int((SEAL_CALLS * spans) / maxBatch)} batches sealed per variant; everything delivered (shutdown true), ${int(st.exported)} spans exported; ${warningSummary(logs.messages)}.`,
      'Max and "over 1 ms" include GC pauses and the scheduler of a shared machine (the hand-written span has them too); "calls that sealed a batch" counts the calls during which the spool grew.',
    ],
  };
}

export async function benchExport() {
  // BENCH_EXPORT_PARTS=burst,cost,wire,seal,outage picks parts for quick runs; all by default.
  const parts = new Set((process.env.BENCH_EXPORT_PARTS ?? 'burst,cost,wire,seal,outage').split(','));
  const results = [];
  if (parts.has('burst')) results.push(...(await burst(BURST_CALLS)));
  if (parts.has('cost')) results.push(await perCall());
  if (parts.has('wire')) results.push(await perCallWire());
  if (parts.has('seal')) results.push(await sealLatency());
  if (parts.has('outage') && OUTAGE_SECONDS > 0) results.push(...(await outage(OUTAGE_SECONDS)));
  return results;
}
