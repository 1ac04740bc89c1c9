// Integrity chain cost: the wrapped call without the chain, with hashes, and with hashes + MAC,
// in one interleaved run; the chain's own work per record (canonical encoding + SHA-256) against
// a bare SHA-256 of the same canonical bytes; and the verifier's recordHash of one record.
import crypto from 'node:crypto';
import { createAuditor, recordHash, recordMac, setDefaultAuditor } from '@tooltrail/core';
import { spanCanonicalJson } from '@tooltrail/core/integrity';
import { compare, fmt, NullExporter } from './lib.mjs';

/** Keeps what it is given: the records the chain produced, to re-encode them alone. */
class KeepExporter extends NullExporter {
  spans = [];
  export(spans, cb) {
    if (this.spans.length < 4) this.spans.push(...spans);
    super.export(spans, cb);
  }
}

/** Copies of a record, each with its own arguments text (so no cache sees the same value twice). */
function variedCopies(span, n) {
  const ctx = span.spanContext();
  return Array.from({ length: n }, (_, i) => {
    const attributes = { ...span.attributes };
    for (const k of Object.keys(attributes)) if (typeof attributes[k] === 'string' && attributes[k].length > 200) attributes[k] = `${attributes[k].slice(0, -8)}${String(i).padStart(8, '0')}`;
    return { ...span, attributes, spanContext: () => ctx };
  });
}

export async function benchIntegrity() {
  const args = { to: 'bob@example.com', subject: 'Your ticket #4521', body: 'Hello Bob, your refund was processed. '.repeat(8) };
  const tool = async (a) => ({ queued: true, to: a.to, size: a.body.length });
  const make = (integrity, exporter = new NullExporter()) => {
    const auditor = createAuditor({ serviceName: 'bench', exporter, runSpans: false, integrity, logger: { warn() {} } });
    return { auditor, audited: auditor.withAudit(tool, { name: 'send_email' }) };
  };
  const kept = new KeepExporter();
  const off = make(false);
  const hash = make({ checkpointIntervalMs: 0 }, kept);
  const mac = make({ macKey: 'bench-integrity-key-0123456789abcdef', checkpointIntervalMs: 0 });
  setDefaultAuditor(undefined);
  const identity = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot', id: 'bot-7' } };
  const r = await off.auditor.run(identity, () =>
    hash.auditor.run(identity, () =>
      mac.auditor.run(identity, () =>
        compare({ off: () => off.audited(args), hash: () => hash.audited(args), mac: () => mac.audited(args) }),
      ),
    ),
  );
  await Promise.all([off.auditor.shutdown(), hash.auditor.shutdown(), mac.auditor.shutdown()]);

  // The chain's work on a real call record, alone, against SHA-256 of its canonical bytes.
  const callRecord = kept.spans.find((s) => s.name.startsWith('execute_tool ') && s.attributes['gen_ai.tool.call.arguments'] !== undefined);
  const copies = variedCopies(callRecord, 5_000);
  const canonical = copies.map((s) => spanCanonicalJson(s));
  const bytes = Buffer.byteLength(canonical[0]);
  const chainWork = await compare(
    {
      chain: (i) => crypto.hash('sha256', spanCanonicalJson(copies[i]), 'hex'),
      sha: (i) => crypto.hash('sha256', canonical[i], 'hex'),
    },
    { iterations: 5_000 },
  );

  // One record as a verifier sees it, about 1 KiB of attributes.
  const record = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', parentSpanId: '53995c3f42cd8ad8',
    name: 'execute_tool send_email', kind: 1, startTimeUnixNano: '1795280400000000000', endTimeUnixNano: '1795280400012500000',
    statusCode: 1, statusMessage: '',
    attributes: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`attribute.number.${i}`, `value ${i} `.repeat(5)])),
    events: [],
  };
  const raw = await compare({ hash: () => recordHash(record), hashMac: () => recordMac('bench-integrity-key-0123456789abcdef', recordHash(record)) }, { iterations: 5_000 });
  // One record per call: a call with one attempt writes only its call record.
  const perRecord = (x) => x - r.off;
  return {
    title: 'Integrity chain, per call (µs, median of interleaved rounds; 1 record per call)',
    rows: [
      ['variant', 'µs', 'ratio', 'added µs per record'],
      ['withAudit, integrity off', fmt(r.off), '1.00 (to no chain)', '-'],
      ['withAudit, chain (seq + SHA-256)', fmt(r.hash), `${(r.hash / r.off).toFixed(2)} (to no chain)`, fmt(perRecord(r.hash))],
      ['withAudit, chain + HMAC', fmt(r.mac), `${(r.mac / r.off).toFixed(2)} (to no chain)`, fmt(perRecord(r.mac))],
      [`bare SHA-256 of a call record's canonical bytes (${bytes} bytes)`, fmt(chainWork.sha), '1.00 (to SHA-256)', '-'],
      ['the chain per record: canonical encoding + SHA-256 (same records, arguments varied)', fmt(chainWork.chain), `**${(chainWork.chain / chainWork.sha).toFixed(2)}** (to SHA-256)`, '-'],
      ['recordHash of one ~1 KiB record (verifier path), alone', fmt(raw.hash), '-', '-'],
      ['recordHash + recordMac, alone', fmt(raw.hashMac), '-', '-'],
    ],
  };
}
