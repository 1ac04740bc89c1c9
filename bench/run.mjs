// `npm run bench`: every benchmark, printed as Markdown tables ready for docs/performance.md.
import os from 'node:os';
import { benchCore } from './core.bench.mjs';
import { table } from './lib.mjs';

const only = process.argv[2];
const suites = { core: benchCore };

console.log(`# tooltrail benchmarks\n\nnode ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${new Date().toISOString()}\n`);
for (const [name, run] of Object.entries(suites)) {
  if (only && only !== name) continue;
  const r = await run();
  console.log(`## ${r.title}\n\n${table(r.rows)}\n`);
}
