// Core cost: a bare call, a hand-written OpenTelemetry span with its own BatchSpanProcessor +
// OTLPTraceExporter, tooltrail's defaults (masking, chain, buffered durable export) and the peers'
// wrappers (OpenInference traceTool, Langfuse observe), each exporting to its own real
// `tooltrail collect` process, with each side's export timed (flush inside the window). Plus the
// bytes allocated per call, measured in separate processes (alloc-probe.mjs).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as core from '@tooltrail/core';
import { startCollect } from './collect-process.mjs';
import { variants } from './core-variants.mjs';
import { compareTimed, fmt } from './lib.mjs';

const PROBE = fileURLToPath(new URL('./alloc-probe.mjs', import.meta.url));
const LABELS = {
  bare: 'bare call',
  hand: 'hand-written OTel span, BatchSpanProcessor + OTLP export',
  defaults: 'tooltrail withAudit, defaults (masking, chain, buffered durable export)',
  openinference: 'OpenInference traceTool (reference; no masking, chain or durable export)',
  langfuse: 'Langfuse observe + LangfuseSpanProcessor (reference; same)',
};

/**
 * BENCH_CORE_PREVIOUS=<path to a core build's dist/index.js>: the defaults variant of that build
 * timed in the same interleaved rounds, so "no worse than the last release" is one run's ratio.
 */
const PREVIOUS = process.env.BENCH_CORE_PREVIOUS;
if (PREVIOUS) LABELS.previous = `tooltrail withAudit, defaults, build ${PREVIOUS}`;

/** Variants that cannot be set up (a peer package missing) get a row that says why. */
async function setUp(name, url) {
  try {
    if (name === 'previous') return await variants.defaults(url, await import(PREVIOUS));
    return await variants[name](url, core);
  } catch (err) {
    return { error: `${err.code ?? ''} ${err.message}`.trim().slice(0, 120) };
  }
}

function allocation(name, url, coreModule) {
  try {
    const out = execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=128', PROBE, name, url, ...(coreModule ? [coreModule] : [])], { encoding: 'utf8', timeout: 120_000 });
    return JSON.parse(out.trim().split('\n').pop());
  } catch (err) {
    return { error: err.message.split('\n')[0] };
  }
}

export async function benchCore() {
  const names = Object.keys(LABELS);
  const collectors = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await startCollect(`core-${n}`)])));
  const set = {};
  const failed = {};
  for (const n of names) {
    const v = await setUp(n, collectors[n].tracesUrl);
    if (v.error) failed[n] = v.error;
    else set[n] = v;
  }
  const r = await set.defaults.run(() => compareTimed(set));
  for (const v of Object.values(set)) await v.close();

  // Allocation: hand span and defaults, plus the build before issue 11 when it was kept
  // (BENCH_CORE_BEFORE=<module path>, e.g. a copy of packages/core/dist at 42b677f).
  const alloc = { hand: allocation('hand', collectors.hand.tracesUrl), defaults: allocation('defaults', collectors.defaults.tracesUrl) };
  if (process.env.BENCH_CORE_BEFORE) alloc.before = allocation('defaults', collectors.defaults.tracesUrl, process.env.BENCH_CORE_BEFORE);
  await Promise.all(Object.values(collectors).map((c) => c.stop()));

  const hand = r.hand.median;
  const rows = [['variant', 'µs/call (median, export timed)', 'ratio to hand-written span', 'single call median / p99 / max (µs)', 'p99 / median', 'preempted per 1,000 calls']];
  for (const n of names) {
    if (failed[n]) rows.push([LABELS[n], `not run: ${failed[n]}`, '-', '-', '-', '-']);
    else {
      const x = r[n];
      rows.push([LABELS[n], fmt(x.median), (x.median / hand).toFixed(2), `${fmt(x.callMedian)} / ${fmt(x.p99)} / ${fmt(x.max)}`, (x.p99 / x.callMedian).toFixed(1), x.preemptedPer1000.toFixed(1)]);
    }
  }
  const kib = (a) => (a?.error ? `error: ${a.error}` : `${((a.heapBytes + a.bufferBytes) / 1024).toFixed(1)} KiB (heap ${(a.heapBytes / 1024).toFixed(1)}, buffers ${(a.bufferBytes / 1024).toFixed(1)})`);
  const allocRows = [['allocated per call (flush included)', 'bytes', 'ratio to hand-written span']];
  const total = (a) => (a?.error ? NaN : a.heapBytes + a.bufferBytes);
  allocRows.push(['hand-written OTel span', kib(alloc.hand), '1.00']);
  allocRows.push(['tooltrail defaults', kib(alloc.defaults), (total(alloc.defaults) / total(alloc.hand)).toFixed(2)]);
  if (alloc.before) allocRows.push([`tooltrail defaults, build ${process.env.BENCH_CORE_BEFORE}`, kib(alloc.before), (total(alloc.before) / total(alloc.hand)).toFixed(2)]);
  return [
    {
      title: 'Core, per call with export timed (µs; 15 interleaved rounds of 1,000 awaited calls + flush, each variant to its own `tooltrail collect`)',
      rows,
      notes: [
        'A round is 1,000 calls and then the flush that waits until its exporter has delivered everything; µs/call is that window over the calls. ' +
          'Single-call figures are the calls alone (flush not included). All variants run inside one auditor.run(). Arguments: a 1 KiB send_email object. ' +
          '"Preempted": involuntary context switches while the calls ran (process.resourceUsage()); on a shared machine a call the OS interrupts takes milliseconds, so where this is above ~10 per 1,000 calls the p99 measures the machine more than the code.',
      ],
    },
    { title: 'Core, bytes allocated per call (separate processes, no GC inside the window)', rows: allocRows },
  ];
}
