// Integrity chain cost: the wrapped call without the chain, with hashes, and with hashes + MAC,
// in one interleaved run; plus the raw cost of hashing one typical record.
import { createAuditor, recordHash, recordMac, setDefaultAuditor } from '@tooltrail/core';
import { compare, fmt, NullExporter } from './lib.mjs';

export async function benchIntegrity() {
  const args = { to: 'bob@example.com', subject: 'Your ticket #4521', body: 'Hello Bob, your refund was processed. '.repeat(8) };
  const tool = async (a) => ({ queued: true, to: a.to, size: a.body.length });
  const make = (integrity) => {
    const auditor = createAuditor({ serviceName: 'bench', exporter: new NullExporter(), runSpans: false, integrity, logger: { warn() {} } });
    return { auditor, audited: auditor.withAudit(tool, { name: 'send_email' }) };
  };
  const off = make(false);
  const hash = make({ checkpointIntervalMs: 0 });
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

  // One record as the chain sees it, about 1 KiB of attributes.
  const record = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', parentSpanId: '53995c3f42cd8ad8',
    name: 'execute_tool send_email', kind: 1, startTimeUnixNano: '1795280400000000000', endTimeUnixNano: '1795280400012500000',
    statusCode: 1, statusMessage: '',
    attributes: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`attribute.number.${i}`, `value ${i} `.repeat(5)])),
    events: [],
  };
  const raw = await compare({ hash: () => recordHash(record), hashMac: () => recordMac('bench-integrity-key-0123456789abcdef', recordHash(record)) }, { iterations: 5_000 });
  // Two records per call (the call span and its attempt span).
  const perRecord = (x) => (x - r.off) / 2;
  return {
    title: 'Integrity chain, per call (µs, median of interleaved rounds; 2 records per call)',
    rows: [
      ['variant', 'µs/call', 'ratio to no chain', 'added µs per record'],
      ['withAudit, integrity off', fmt(r.off), '1.00', '-'],
      ['withAudit, chain (seq + SHA-256)', fmt(r.hash), (r.hash / r.off).toFixed(2), fmt(perRecord(r.hash))],
      ['withAudit, chain + HMAC', fmt(r.mac), (r.mac / r.off).toFixed(2), fmt(perRecord(r.mac))],
      ['recordHash of one ~1 KiB record, alone', fmt(raw.hash), '-', '-'],
      ['recordHash + recordMac, alone', fmt(raw.hashMac), '-', '-'],
    ],
  };
}
