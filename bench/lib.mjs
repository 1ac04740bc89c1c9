import { randomUUID } from 'node:crypto';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

// Benchmark helpers. Machines here are shared and noisy, so every figure is a ratio against a
// baseline measured in the same process, with variants interleaved round by round.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs each variant `rounds` times, interleaved, each round `iterations` sequential awaited
 * calls. Returns the median per-call time in microseconds per variant.
 */
export async function compare(variants, { rounds = 25, iterations = 2_000, warmup = 3 } = {}) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < rounds + warmup; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      if (global.gc) global.gc();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) await fn(i);
      const us = Number(process.hrtime.bigint() - t0) / 1_000 / iterations;
      if (r >= warmup) samples[name].push(us);
      // Let exporters drain between rounds, as real tools doing I/O would.
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

export function fmt(us) {
  return us < 10 ? us.toFixed(2) : us.toFixed(1);
}

export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => '| ' + r.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  const sep = '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|';
  return [line(rows[0]), sep, ...rows.slice(1).map(line)].join('\n');
}

/** An exporter that acknowledges everything at once: measures the in-process cost only. */
export class NullExporter {
  count = 0;
  export(spans, cb) {
    this.count += spans.length;
    cb({ code: 0 });
  }
  async shutdown() {}
  async forceFlush() {}
}

/** A tracer provider for the hand-written baseline whose exporter acknowledges at once. */
export function handProvider() {
  return new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(new NullExporter(), { maxQueueSize: 100_000, scheduledDelayMillis: 50 })],
  });
}

/**
 * The baseline every suite compares against: what a careful team writes by hand. One span,
 * the same 16 attributes tooltrail's execute_tool span carries for this call, no masking.
 */
export function handWrittenSpan(tracer, tool) {
  const runId = randomUUID();
  return async (a) => {
    const span = tracer.startSpan('execute_tool send_email', { kind: SpanKind.INTERNAL });
    try {
      const result = await tool(a);
      span.setAttributes({
        'tooltrail.run.id': runId,
        'user.id': 'user:42',
        'tooltrail.principal.type': 'user',
        'gen_ai.agent.name': 'support-bot',
        'gen_ai.agent.id': 'bot-7',
        'gen_ai.conversation.id': 'conv-1',
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'send_email',
        'gen_ai.tool.call.id': randomUUID(),
        'gen_ai.tool.type': 'function',
        'tooltrail.decision': 'allow',
        'gen_ai.tool.call.arguments': JSON.stringify(a),
        'tooltrail.arguments.mutated': false,
        'gen_ai.tool.call.result': JSON.stringify(result),
        'tooltrail.outcome': 'ok',
        'tooltrail.attempts': 1,
      });
      span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw e;
    } finally {
      span.end();
    }
  };
}

/** Quantile q (0..1) of numbers already sorted ascending. */
export function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Like `compare`, for variants `{ call, flush }` whose export is timed: a round is `iterations`
 * sequential awaited calls and then `flush()` (until the exporter delivered everything), and its
 * µs/call is that whole window divided by the calls. Also each single call's time (flush not
 * included), for the p99 and the maximum.
 */
export async function compareTimed(variants, { rounds = 15, iterations = 1_000, warmup = 3 } = {}) {
  const perRound = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const perCall = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  // Times the OS took the CPU away during the calls: on a shared machine most slow calls are
  // these, not the code under test (reported beside the p99 so it can be read for what it is).
  const preempted = Object.fromEntries(Object.keys(variants).map((k) => [k, 0]));
  // The median single call of each round: ratios taken round by round are the fair ones on a
  // loaded machine (both sides of a ratio then saw the same load).
  const roundMedians = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const entries = Object.entries(variants);
  for (let r = 0; r < rounds + warmup; r++) {
    // The order turns by one each round: no variant always runs first after the pause, or right after another.
    const order = [...entries.slice(r % entries.length), ...entries.slice(0, r % entries.length)];
    for (const [name, { call, flush }] of order) {
      if (global.gc) global.gc();
      const calls = new Float64Array(iterations);
      const cs0 = process.resourceUsage().involuntaryContextSwitches;
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) {
        const c0 = performance.now();
        await call(i);
        calls[i] = performance.now() - c0;
      }
      const cs = process.resourceUsage().involuntaryContextSwitches - cs0;
      await flush();
      const us = ((performance.now() - t0) * 1_000) / iterations;
      if (r >= warmup) {
        perRound[name].push(us);
        for (const c of calls) perCall[name].push(c * 1_000);
        preempted[name] += cs;
        roundMedians[name].push(quantile(Float64Array.from(calls).sort(), 0.5) * 1_000);
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }
  return Object.fromEntries(
    Object.keys(variants).map((k) => {
      const sorted = perCall[k].sort((a, b) => a - b);
      return [k, { median: median(perRound[k]), callMedian: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1], preemptedPer1000: (preempted[k] * 1_000) / sorted.length, roundMedians: roundMedians[k] }];
    }),
  );
}
