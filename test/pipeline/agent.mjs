// An agent process for the pipeline suite and its benchmark: one auditor, calls of one audited
// tool at a steady rate, each under a known call id, sent to an OTLP/HTTP endpoint through
// tooltrail's spool. Run as `node agent.mjs '<json options>'` (see AgentOptions in harness.ts).
//
// stdout, one line each (a line is written only after the call returned, so under `strict` its
// records are on disk by then):
//   ready                      the auditor is up
//   ok <call id>               a call returned
//   done <json>                shutdown finished: { shutdown: boolean, stats, ms }
// Warnings of the auditor go to stderr.
import { readFileSync } from 'node:fs';
import { createAuditor, setDefaultAuditor } from '@tooltrail/core';

const o = JSON.parse(process.argv[2] ?? '{}');
const started = performance.now();

const auditor = createAuditor({
  serviceName: o.service,
  endpoint: o.endpoint,
  spoolDir: o.spoolDir,
  durability: o.durability ?? 'buffered',
  masking: false,
  logger: { warn: (m) => process.stderr.write(`[agent ${o.prefix}] ${m}\n`) },
  integrity: o.signingKeyFile
    ? { macKey: o.macKey, signingKey: readFileSync(o.signingKeyFile, 'utf8'), checkpointEvery: o.checkpointEvery ?? 64 }
    : false,
  export: {
    // Short back-off so a restarted piece is found again within a second or so.
    initialBackoffMs: 100,
    maxBackoffMs: o.maxBackoffMs ?? 1_000,
    timeoutMs: o.timeoutMs ?? 10_000,
    warnAfterMs: 5_000,
    ...(o.export ?? {}),
  },
});
setDefaultAuditor(undefined);

const step = auditor.withAudit(async (a) => ({ done: a.i, at: Date.now() }), { name: 'pipeline_step', callId: (a) => a.id });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = (line) => process.stdout.write(`${line}\n`);

out('ready');
const runs = o.runs ?? 10;
const perRun = o.callsPerRun ?? 100;
const rate = o.ratePerSec ?? 0; // 0: as fast as the auditor goes
let n = 0;
const t0 = performance.now();
for (let r = 0; r < runs; r++) {
  await auditor.run({ principal: { id: `user:${o.prefix}`, type: 'user' }, agent: { name: 'pipeline-agent', id: o.prefix } }, async () => {
    for (let c = 0; c < perRun; c++) {
      const id = `${o.prefix}-r${r}-c${c}`;
      await step({ id, i: n });
      out(`ok ${id}`);
      n++;
      if (rate > 0) {
        const due = t0 + (n * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
      } else if (n % 50 === 0) {
        await new Promise((r) => setImmediate(r));
      }
    }
  });
}
const shutdown = await auditor.shutdown(o.shutdownMs ?? 90_000);
out(`done ${JSON.stringify({ shutdown, stats: auditor.stats(), ms: Math.round(performance.now() - started) })}`);
