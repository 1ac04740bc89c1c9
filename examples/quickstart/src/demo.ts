// `npm run demo`: a support agent falls for a prompt injection; policy denies the exfiltration;
// the audit trail, read back from a collector running in its own process, shows every call.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readTrail, spawnCollector, verifySpans, type CollectorProcess } from '@tooltrail/cli';
import { createAuditor } from '@tooltrail/core';
import { runSupportAgent } from './agent.js';
import { formatTrail } from './print-trail.js';
import { sentMail, supportTools } from './tools.js';

const external = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
// npm runs workspace scripts in the workspace folder; INIT_CWD is where the user typed the command.
const cwd = process.env.INIT_CWD ?? process.cwd();
const trailDir = path.resolve(cwd, process.env.TOOLTRAIL_DEMO_DIR ?? 'audit-trail');

let collector: CollectorProcess | undefined;
if (!external) {
  collector = await spawnCollector({ dir: trailDir });
  console.log(`collector: tooltrail collect, its own process, at ${collector.url}, writing to ${collector.dir}`);
} else {
  console.log(`collector: ${external} (from the OTEL_EXPORTER_OTLP_* environment)`);
}

const auditor = createAuditor({
  serviceName: 'support-agent',
  endpoint: collector?.url, // undefined: the OTEL_EXPORTER_OTLP_* variables decide
  spoolDir: path.resolve(cwd, '.tooltrail-spool'),
});
const runId = randomUUID();
await runSupportAgent(auditor, supportTools(auditor), runId);
const delivered = await auditor.shutdown(15_000);
const stats = auditor.stats();
console.log(`agent run ${runId} finished: ${stats.calls.ok} ok, ${stats.calls.denied} denied, ${stats.calls.error} failed; ` +
  `${stats.exported} records delivered${delivered ? '' : `, ${stats.queueDepth} still in the spool`}`);
console.log(`mail actually sent: ${sentMail.map((m) => m.to).join(', ')}\n`);

if (collector) {
  await collector.stop();
  const trail = await readTrail(collector.dir);
  console.log(formatTrail(trail.records, runId));
  const denied = trail.records.find((r) => r.attributes['tooltrail.run.id'] === runId && r.attributes['tooltrail.outcome'] === 'denied');
  if (denied) {
    const a = denied.attributes;
    console.log(
      `\nThe injected call is in the record: ${String(a['gen_ai.tool.name'])} by ${String(a['user.id'])} in run ${runId}, ` +
        `denied by ${String(a['tooltrail.policy.rule'])}: ${String(a['tooltrail.policy.reason'])}.`,
    );
  }
  // The same check `tooltrail verify --dir audit-trail` runs: this run's stream is complete and unedited.
  const check = verifySpans(trail.records.filter((r) => r.attributes['tooltrail.stream.id'] === auditor.streamId));
  const stream = check.streams[0];
  console.log(
    stream && stream.findings.length === 0
      ? `Integrity: stream ${stream.streamId} has ${stream.records} records, seq ${stream.firstSeq}-${stream.lastSeq}, hash chain intact, ended by its checkpoint.`
      : `Integrity: FINDINGS ${JSON.stringify(stream?.findings ?? 'no stream')}`,
  );
  console.log(`\nThe trail: ${trail.files.join(', ')} (one JSON span per line; docs/collector.md).`);
  console.log(`Check it yourself: npm run tooltrail -- verify --dir ${path.relative(cwd, collector.dir) || '.'}`);
} else {
  console.log(
    `Spans went to ${external}. In Jaeger (http://127.0.0.1:16686) or Grafana Tempo, search service "support-agent", ` +
      `tag tooltrail.run.id=${runId}; denied calls carry tooltrail.outcome=denied.`,
  );
}
