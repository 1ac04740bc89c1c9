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
