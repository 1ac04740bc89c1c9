// Allocation per call of one core-suite variant, in a process of its own whose young generation
// is large enough that no GC runs inside the measured window (checked: a window with a GC is
// refused). Heap bytes from process.memoryUsage().heapUsed, plus ArrayBuffer memory (Buffers).
// Usage: node --expose-gc --max-semi-space-size=128 bench/alloc-probe.mjs <variant> <traces url> [core module]
import { PerformanceObserver } from 'node:perf_hooks';
import { variants } from './core-variants.mjs';

const [name, url, coreModule = '@tooltrail/core'] = process.argv.slice(2);
const core = await import(coreModule);
const v = await variants[name](url, core);
const CALLS = Number(process.env.BENCH_ALLOC_CALLS ?? 300);
let gcs = 0;
new PerformanceObserver((list) => (gcs += list.getEntries().length)).observe({ entryTypes: ['gc'] });
const sample = async () => {
  for (let i = 0; i < CALLS; i++) await v.call(i);
  await v.flush();
};
const measure = async () => {
  await sample(); // warm-up: compiled code, pools, sockets
  const results = [];
  for (let round = 0; round < 5; round++) {
    global.gc();
    await new Promise((r) => setTimeout(r, 20));
    gcs = 0;
    const m0 = process.memoryUsage();
    await sample();
    const m1 = process.memoryUsage();
    await new Promise((r) => setImmediate(r)); // let the gc observer report
    if (gcs > 0) continue;
    results.push({ heap: (m1.heapUsed - m0.heapUsed) / CALLS, buffers: (m1.arrayBuffers - m0.arrayBuffers) / CALLS });
  }
  return results;
};
const results = await (v.run ? v.run(measure) : measure());
await v.close();
results.sort((a, b) => a.heap - b.heap);
const mid = results[results.length >> 1];
console.log(JSON.stringify(mid ? { heapBytes: mid.heap, bufferBytes: mid.buffers, rounds: results.length } : { error: 'every window had a GC' }));
process.exit(0);
