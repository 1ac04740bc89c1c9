import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import {
  canonicalCheckpointJson,
  canonicalRecordJson,
  GENESIS_HASH,
  keyId,
  recordHash,
  recordMac,
  type CanonicalRecord,
} from '../src/index.js';
import fc from 'fast-check';
import { spanToCanonical } from '../src/integrity/span-record.js';
import { alice, harness } from './helpers.js';

// The test vectors published in docs/integrity.md: a verifier in another language must
// reproduce these bytes exactly.
const vectorRecord: CanonicalRecord = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  parentSpanId: '53995c3f42cd8ad8',
  name: 'execute_tool send_email',
  kind: 1,
  startTimeUnixNano: '1795280400000000000',
  endTimeUnixNano: '1795280400012500000',
  statusCode: 2,
  statusMessage: 'tool call "send_email" (call_1) denied by rule mail.internal-only: external recipient',
  attributes: {
    'tooltrail.outcome': 'denied',
    'gen_ai.tool.name': 'send_email',
    'tooltrail.attempts': 0,
    'tooltrail.arguments.mutated': false,
    'tooltrail.mask.kinds': ['email'],
    'tooltrail.stream.id': '9b2c4d1e-7f3a-4b5c-8d6e-0f1a2b3c4d5e',
    'tooltrail.seq': 7,
    'tooltrail.prev_hash': 'a'.repeat(64),
    'tooltrail.hash': 'ignored',
    'tooltrail.mac': 'ignored',
  },
  events: [{ name: 'exception', timeUnixNano: '1795280400012000000', attributes: { 'exception.type': 'AuditDeniedError' } }],
};
const VECTOR_JSON =
  '["tooltrail-record-v1","4bf92f3577b34da6a3ce929d0e0e4736","00f067aa0ba902b7","53995c3f42cd8ad8","execute_tool send_email",1,' +
  '"1795280400000000000","1795280400012500000",2,"tool call \\"send_email\\" (call_1) denied by rule mail.internal-only: external recipient",' +
  '[["gen_ai.tool.name","send_email"],["tooltrail.arguments.mutated",false],["tooltrail.attempts",0],["tooltrail.mask.kinds",["email"]],' +
  '["tooltrail.outcome","denied"],["tooltrail.prev_hash","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],["tooltrail.seq",7],' +
  '["tooltrail.stream.id","9b2c4d1e-7f3a-4b5c-8d6e-0f1a2b3c4d5e"]],[["exception","1795280400012000000",[["exception.type","AuditDeniedError"]]]]]';
const VECTOR_HASH = '24e5fd0e6f71d92cb3a797e0f8a9021403dfc9725c021dd7ffb2a4635950523a';
const VECTOR_MAC = '1eb8db28aa6fcf64840446e809d1c37225a99322edf63ac53f810b862483a5c7';
// RFC 8032 test 1 secret key, as PKCS#8 DER.
const RFC8032_KEY = createPrivateKey({
  key: Buffer.from('302e020100300506032b6570042204209d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'),
  format: 'der',
  type: 'pkcs8',
});
const VECTOR_SIGNATURE = 'WiTN6K4zZuc0oK50R1suJieDPBOSJCary1XpQIMwTk3R37vfxaCQcDaYX9jCyC88llWnVqKwP0xzQicHVHJ1Ag==';

describe('canonical encoding: the published test vectors', () => {
  it('encodes, hashes and MACs a record exactly', () => {
    expect(canonicalRecordJson(vectorRecord)).toBe(VECTOR_JSON);
    expect(recordHash(vectorRecord)).toBe(VECTOR_HASH);
    expect(recordMac('test-integrity-key-0123456789abcdef', VECTOR_HASH)).toBe(VECTOR_MAC);
  });

  it('signs a checkpoint exactly (Ed25519 is deterministic)', () => {
    const json = canonicalCheckpointJson({
      streamId: '9b2c4d1e-7f3a-4b5c-8d6e-0f1a2b3c4d5e',
      index: 2,
      seqStart: 5,
      seqEnd: 7,
      lastHash: VECTOR_HASH,
      prevSignature: 'c2lnbmF0dXJlLW9mLWNoZWNrcG9pbnQtMQ==',
      final: true,
    });
    expect(json).toBe(
      `["tooltrail-checkpoint-v1","9b2c4d1e-7f3a-4b5c-8d6e-0f1a2b3c4d5e",2,5,7,"${VECTOR_HASH}","c2lnbmF0dXJlLW9mLWNoZWNrcG9pbnQtMQ==",true]`,
    );
    expect(sign(null, Buffer.from(json), RFC8032_KEY).toString('base64')).toBe(VECTOR_SIGNATURE);
    expect(keyId(RFC8032_KEY)).toBe('06e3fd8fda29bb60');
    expect(createPublicKey(RFC8032_KEY).export({ type: 'spki', format: 'pem' })).toContain('MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=');
  });

  it('writes the same bytes as JSON.stringify of the specified array, for any record', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\n', '\u2028', '\ud800', 'é', '😀'));
    const val = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.array(fc.oneof(text, fc.integer())));
    const attrs = fc.dictionary(text, val);
    fc.assert(
      fc.property(attrs, fc.array(fc.record({ name: text, timeUnixNano: fc.constant('1'), attributes: attrs })), text, (attributes, events, name) => {
        const r: CanonicalRecord = { ...vectorRecord, name, statusMessage: name, attributes, events };
        // The spec, written out independently: sorted [key, value] pairs, hash and mac left out,
        // non-finite numbers as strings.
        const norm = (v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : Array.isArray(v) ? v.map(norm) : v);
        const pairs = (a: Record<string, unknown>, skip: boolean) =>
          Object.keys(a)
            .filter((k) => !skip || (k !== 'tooltrail.hash' && k !== 'tooltrail.mac'))
            .sort()
            .map((k) => [k, norm(a[k])]);
        const expected = ['tooltrail-record-v1', r.traceId, r.spanId, r.parentSpanId, name, r.kind, r.startTimeUnixNano, r.endTimeUnixNano, r.statusCode, name, pairs(attributes, true), events.map((e) => [e.name, e.timeUnixNano, pairs(e.attributes, false)])];
        expect(JSON.parse(canonicalRecordJson(r))).toEqual(JSON.parse(JSON.stringify(expected)));
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on attribute order, and changes with any covered field', () => {
    const reordered = { ...vectorRecord, attributes: Object.fromEntries(Object.entries(vectorRecord.attributes).reverse()) };
    expect(recordHash(reordered)).toBe(VECTOR_HASH);
    expect(recordHash({ ...vectorRecord, endTimeUnixNano: '1795280400012500001' })).not.toBe(VECTOR_HASH);
    expect(recordHash({ ...vectorRecord, attributes: { ...vectorRecord.attributes, 'tooltrail.attempts': 1 } })).not.toBe(VECTOR_HASH);
    expect(recordHash({ ...vectorRecord, attributes: { ...vectorRecord.attributes, 'tooltrail.hash': 'other' } })).toBe(VECTOR_HASH);
  });
});

describe('the chain an auditor writes', () => {
  it('numbers records gaplessly in finish order and links each to the one before', async () => {
    const h = harness({ integrity: { macKey: 'chain-test-key-0123456789abcdef' } });
    const tool = h.auditor.withAudit(async (n: number) => n, { name: 't' });
    const failing = h.auditor.withAudit(
      async () => {
        throw new RangeError('with an exception event');
      },
      { name: 'fails' },
    );
    await h.auditor.run(alice, async () => {
      await Promise.all([1, 2, 3].map((n) => tool(n)));
      await failing().catch(() => undefined);
    });
    const spans = await h.spans();
    const chained = spans.filter((s) => s.name !== 'tooltrail.checkpoint');
    // Seq 1 is the stream-start record the auditor writes when it is created.
    expect(chained[0]!.name).toBe('tooltrail.stream_start');
    expect(chained.map((s) => s.attributes['tooltrail.seq'])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(chained.some((s) => s.events.length > 0)).toBe(true);
    const streams = new Set(chained.map((s) => s.attributes['tooltrail.stream.id']));
    expect(streams.size).toBe(1);
    let prev = GENESIS_HASH;
    for (const s of chained) {
      expect(s.attributes['tooltrail.prev_hash']).toBe(prev);
      const hash = String(s.attributes['tooltrail.hash']);
      expect(recordHash(spanToCanonical(s))).toBe(hash);
      expect(s.attributes['tooltrail.mac']).toBe(recordMac('chain-test-key-0123456789abcdef', hash));
      prev = hash;
    }
  });

  it('writes signed checkpoints every N records, off the call path, and a final one at shutdown', async () => {
    const { privateKey, publicKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ed25519'));
    // The SDK's in-memory exporter forgets its spans at shutdown; this one keeps them.
    const kept: ReadableSpan[] = [];
    const keeper = { export: (spans: ReadableSpan[], done: (r: { code: number }) => void) => (kept.push(...spans), done({ code: 0 })), shutdown: async () => {} };
    const h = harness({ exporter: keeper, integrity: { signingKey: privateKey, checkpointEvery: 4 } });
    const tool = h.auditor.withAudit(async () => 1, { name: 't' });
    await h.auditor.run(alice, async () => {
      for (let i = 0; i < 5; i++) {
        await tool();
        await new Promise((r) => setImmediate(r));
      }
    });
    await h.auditor.shutdown();
    const cps = kept.filter((s) => s.name === 'tooltrail.checkpoint');
    // 7 records (the stream start, 5 calls with one attempt each, the run): the stream start is
    // signed at once, the count is not moved by it, and the final checkpoint covers the rest.
    expect(cps.map((c) => [c.attributes['tooltrail.checkpoint.seq_start'], c.attributes['tooltrail.checkpoint.seq_end'], c.attributes['tooltrail.checkpoint.final']])).toEqual([
      [1, 1],
      [2, 4],
      [5, 7],
    ].map(([a, b], i) => [a, b, i === 2]));
    let prevSig = '';
    for (const c of cps) {
      const a = c.attributes;
      expect(a['tooltrail.checkpoint.prev_signature']).toBe(prevSig);
      expect(a['tooltrail.checkpoint.key_id']).toBe(keyId(publicKey));
      const json = canonicalCheckpointJson({
        streamId: String(a['tooltrail.stream.id']),
        index: Number(a['tooltrail.checkpoint.index']),
        seqStart: Number(a['tooltrail.checkpoint.seq_start']),
        seqEnd: Number(a['tooltrail.checkpoint.seq_end']),
        lastHash: String(a['tooltrail.checkpoint.last_hash']),
        prevSignature: String(a['tooltrail.checkpoint.prev_signature']),
        final: a['tooltrail.checkpoint.final'] === true,
      });
      expect(verify(null, Buffer.from(json), publicKey, Buffer.from(String(a['tooltrail.checkpoint.signature']), 'base64'))).toBe(true);
      prevSig = String(a['tooltrail.checkpoint.signature']);
    }
  });

  it('can be turned off, and rejects a short MAC key or a key that is not Ed25519', async () => {
    const h = harness({ integrity: false });
    const tool = h.auditor.withAudit(async () => 1, { name: 't' });
    await h.auditor.run(alice, () => tool());
    const [span] = await h.toolSpans();
    expect(span!.attributes).not.toHaveProperty('tooltrail.seq');
    expect(() => harness({ integrity: { macKey: 'short' } })).toThrow(/at least 16 bytes/);
    const { privateKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    expect(() => harness({ integrity: { signingKey: privateKey } })).toThrow(/not an Ed25519 private key/);
  });
});
