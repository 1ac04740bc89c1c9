// `npm run demo`: a support agent falls for a prompt injection; policy denies the exfiltration;
// the audit trail, read back from a collector running in its own process, shows every call, and
// `tooltrail verify` checks it with the public keys.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { collectorBin, readTrail, spawnCollector, type CollectorProcess } from '@tooltrail/cli';
import { createAuditor } from '@tooltrail/core';
import { runSupportAgent } from './agent.js';
import { demoKeys } from './keys.js';
import { formatTrail } from './print-trail.js';
import { sentMail, supportTools } from './tools.js';

const external = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
// npm runs workspace scripts in the workspace folder; INIT_CWD is where the user typed the command.
const cwd = process.env.INIT_CWD ?? process.cwd();
const trailDir = path.resolve(cwd, process.env.TOOLTRAIL_DEMO_DIR ?? 'audit-trail');
const spoolDir = path.resolve(cwd, '.tooltrail-spool');

// The keys live outside everything the demo writes, readable only by you (src/keys.ts).
const keys = demoKeys([trailDir, spoolDir]);
console.log(`keys: ${keys.dir} (${keys.created ? 'made now with tooltrail keygen' : 'from an earlier run'}; mode 0700, only you can read them)`);

let collector: CollectorProcess | undefined;
if (!external) {
  // The collector seals what it stores with its own key and takes only the agent's token.
  collector = await spawnCollector({ dir: trailDir, args: ['--seal-key', keys.sealKey, '--tokens', keys.tokensFile] });
  console.log(`collector: tooltrail collect, its own process, at ${collector.url}, writing to ${collector.dir}, sealing with its own key`);
} else {
  console.log(`collector: ${external} (from the OTEL_EXPORTER_OTLP_* environment)`);
}

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
  console.log(`Check it yourself: npm run tooltrail -- verify --dir ${rel} --stream ${streamId} ${withKeys.join(' ')}`);
} else {
  console.log(
    `Spans went to ${external}. In Jaeger (http://127.0.0.1:16686) or Grafana Tempo, search service "support-agent", ` +
      `tag tooltrail.run.id=${runId}; denied calls carry tooltrail.outcome=denied.`,
  );
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
