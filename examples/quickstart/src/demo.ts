// `npm run demo`: a support agent falls for a prompt injection; policy denies the exfiltration;
// the audit trail, read back from a collector running in its own process, shows every call, and
// `tooltrail verify` checks it with the public keys.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { collectorBin, readTrail } from '@tooltrail/cli';
import { createAuditor } from '@tooltrail/core';
import { formatCalls, otlpEndpoint, startTrail, traceOf, traceUrl, userCwd as cwd } from '@tooltrail/example-shared';
import { runSupportAgent } from './agent.js';
import { demoKeys } from './keys.js';
import { firstTraceId, sentMail, supportTools } from './tools.js';

const trailDir = path.resolve(cwd, process.env.TOOLTRAIL_DEMO_DIR ?? 'audit-trail');
const spoolDir = path.resolve(cwd, '.tooltrail-spool');

// The keys live outside everything the demo writes, readable only by you (src/keys.ts).
const keys = demoKeys([trailDir, spoolDir]);
console.log(`keys: ${keys.dir} (${keys.created ? 'made now with tooltrail keygen' : 'from an earlier run'}; mode 0700, only you can read them)`);

// The collector seals what it stores with its own key and takes only the agent's token; it is
// stopped when the demo ends, however it ends (Ctrl-C included). With OTEL_EXPORTER_OTLP_ENDPOINT
// set, the spans go there instead.
const external = otlpEndpoint();
const { collector } = await startTrail({ dir: trailDir, args: ['--seal-key', keys.sealKey, '--tokens', keys.tokensFile] });

const auditor = createAuditor({
  serviceName: 'support-agent',
  endpoint: collector?.url, // undefined: the OTEL_EXPORTER_OTLP_* variables decide
  ...(collector ? { headers: { authorization: `Bearer ${keys.token}` } } : {}),
  spoolDir,
  // Every record hash-chained and MAC'd, every checkpoint signed with the agent's key.
  integrity: { macKey: keys.macKey, signingKey: keys.signingKey },
});
const runId = randomUUID();
await runSupportAgent(auditor, supportTools(auditor), runId);
const delivered = await auditor.shutdown(15_000);
const stats = auditor.stats();
const traceId = firstTraceId();
console.log(`agent run ${runId} finished: ${stats.calls.ok} ok, ${stats.calls.denied} denied, ${stats.calls.error} failed; ` +
  `${stats.exported} records delivered${delivered ? '' : `, ${stats.queueDepth} still in the spool`}`);
console.log(`mail actually sent: ${sentMail.map((m) => m.to).join(', ')}\n`);

if (collector) {
  await collector.stop();
  const trail = await readTrail(collector.dir);
  console.log(`trace ${traceOf(trail.records, runId) ?? traceId}\n`);
  console.log(formatCalls(trail.records, runId));
  const denied = trail.records.find((r) => r.attributes['tooltrail.run.id'] === runId && r.attributes['tooltrail.outcome'] === 'denied');
  if (denied) {
    const a = denied.attributes;
    console.log(
      `\nThe injected call is in the record: ${String(a['gen_ai.tool.name'])} by ${String(a['user.id'])} in run ${runId}, ` +
        `denied by ${String(a['tooltrail.policy.rule'])}: ${String(a['tooltrail.policy.reason'])}.`,
    );
  }
  // The check anyone can run: without keys it can only say what it could not establish; with
  // the public keys it verifies every signature and seal (exit 0) or names what is wrong.
  const rel = path.relative(cwd, collector.dir) || '.';
  const streamId = auditor.streamId as string; // the chain is on: the demo configured its keys
  const withKeys = ['--public-key', keys.signingPub, '--collector-key', keys.sealPub, '--mac-key-file', keys.macKeyFile];
  const bare = await verify(['--dir', collector.dir, '--stream', streamId]);
  const full = await verify(['--dir', collector.dir, '--stream', streamId, ...withKeys]);
  console.log(`\nIntegrity, checked by tooltrail verify (this run's stream ${streamId}):`);
  console.log(`  without keys (exit ${bare.code}): ${bare.verdict}`);
  console.log(`  with the public keys (exit ${full.code}): ${full.verdict}`);
  if (full.code !== 0) console.log(full.stdout);
  console.log(`\nThe trail: ${trail.files.join(', ')} (one JSON line per span or record; docs/collector.md).`);
  console.log(`Check it yourself: npx tooltrail verify --dir ${rel} --stream ${streamId} ${withKeys.join(' ')}`);
} else {
  console.log(`trace ${traceId}`);
  console.log(`in Jaeger: ${traceUrl(traceId ?? '')} (TOOLTRAIL_JAEGER_UI sets the address)`);
  console.log(
    `Spans went to ${external}. In Grafana Tempo or any other store, search service "support-agent", ` +
      `tag tooltrail.run.id=${runId}; refused calls carry tooltrail.outcome=denied or invalid.`,
  );
  console.log(`Check it: npx tooltrail verify --jaeger ${(process.env.TOOLTRAIL_JAEGER_UI || 'http://127.0.0.1:16686').replace(/\/+$/, '')} --service support-agent --since 1h --public-key ${keys.signingPub} --mac-key-file ${keys.macKeyFile}`);
}

/** Runs the real `tooltrail verify` and keeps its verdict (the line after the findings). */
async function verify(args: string[]): Promise<{ code: number; verdict: string; stdout: string }> {
  const run = promisify(execFile);
  try {
    const { stdout } = await run(process.execPath, [collectorBin, 'verify', ...args, '--no-progress']);
    return { code: 0, verdict: verdictOf(stdout), stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? 1, verdict: verdictOf(e.stdout ?? ''), stdout: e.stdout ?? '' };
  }
}

function verdictOf(stdout: string): string {
  const lines = stdout.trimEnd().split('\n');
  const at = lines.findIndex((l) => /^(OK|FAILED|NOT AUTHENTICATED):/.test(l));
  if (at < 0) return '(no verdict)';
  const [head, ...reasons] = lines.slice(at).map((l) => l.trim().replace(/^- /, ''));
  return [head, reasons.join('; ')].filter(Boolean).join(' ');
}
