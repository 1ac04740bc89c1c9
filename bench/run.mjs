// `npm run bench`: every benchmark, printed as Markdown tables ready for docs/performance.md.
import os from 'node:os';
import { benchCollector } from './collector.bench.mjs';
import { benchCore } from './core.bench.mjs';
import { benchExport } from './export.bench.mjs';
import { benchIntegrity } from './integrity.bench.mjs';
import { benchMasking } from './masking.bench.mjs';
import { benchPipeline } from './pipeline.bench.mjs';
import { table } from './lib.mjs';

const only = process.argv[2];
const suites = { core: benchCore, masking: benchMasking, integrity: benchIntegrity, export: benchExport, pipeline: benchPipeline, collector: benchCollector };
suites.policy = (await import('./policy.bench.mjs')).benchPolicy;
suites.gateway = (await import('./gateway.bench.mjs')).benchGateway;

console.log(`# tooltrail benchmarks\n\nnode ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${new Date().toISOString()}\n`);
for (const [name, run] of Object.entries(suites)) {
  if (only && only !== name) continue;
  // A suite returns one table, or several (the export suite); `notes` are printed under a table.
  for (const r of [await run()].flat()) {
    console.log(`## ${r.title}\n\n${table(r.rows)}\n`);
    for (const note of r.notes ?? []) console.log(`${note}\n`);
  }
}
