import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createAuditor, generateSigningKeyPair, recordHash, recordMac, setDefaultAuditor } from '@tooltrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTrailFiles, spawnCollector, trailToCanonical, type TrailRecord } from '../src/index.js';
import { cleanup, runCli, tempDir } from './helpers.js';

// The tamper matrix (issue 5): a real trail written by an auditor through `tooltrail collect`,
// then edited the ways an attacker or a broken pipeline would, then checked by `tooltrail verify`.

const MAC_KEY = 'integrity-key-for-tests-0123456789abcdef';
let work: string;
let original: string[]; // the trail's lines
let keyFile: string;
let pubFile: string;
let macFile: string;
let otherKeyFile: string;
let streamId: string;

async function recordTrail(): Promise<void> {
  work = await tempDir();
  const keys = generateSigningKeyPair();
  const other = generateSigningKeyPair();
  keyFile = path.join(work, 'signing.key');
  pubFile = path.join(work, 'signing.pub');
  otherKeyFile = path.join(work, 'other.key');
  macFile = path.join(work, 'mac.key');
  writeFileSync(keyFile, keys.privateKeyPem);
  writeFileSync(pubFile, keys.publicKeyPem);
  writeFileSync(otherKeyFile, other.privateKeyPem);
  writeFileSync(macFile, MAC_KEY);
  const collector = await spawnCollector({ dir: path.join(work, 'trail'), port: 0 });
  const auditor = createAuditor({
    serviceName: 'tamper-agent',
    endpoint: collector.url,
    spoolDir: path.join(work, 'spool'),
    logger: { warn() {} },
    integrity: { macKey: MAC_KEY, signingKey: keyFile, checkpointEvery: 6 },
  });
  setDefaultAuditor(undefined);
  const tool = auditor.withAudit(async (n: number) => ({ doubled: n * 2 }), { name: 'double' });
  await auditor.run({ principal: { id: 'user:7' }, runId: 'tamper-run' }, async () => {
    for (let i = 0; i < 12; i++) {
      await tool(i);
      await new Promise((r) => setImmediate(r)); // lets the per-N checkpoints be signed
    }
  });
  expect(await auditor.shutdown(10_000)).toBe(true);
  await collector.stop();
  const files = await listTrailFiles(path.join(work, 'trail'));
  original = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
  streamId = String((JSON.parse(original[0] as string) as TrailRecord).attributes['tooltrail.stream.id']);
}

const parse = (line: string) => JSON.parse(line) as TrailRecord;
const isCheckpoint = (r: TrailRecord) => r.name === 'tooltrail.checkpoint';
const seqOf = (r: TrailRecord) => Number(r.attributes['tooltrail.seq']);

async function verifyLines(lines: string[], extra: string[] = ['--public-key', pubFile, '--mac-key-file', macFile]) {
  const dir = await tempDir();
  writeFileSync(path.join(dir, 'spans-20261121T000000-1-1.jsonl'), lines.map((l) => `${l}\n`).join(''));
  const run = runCli(['verify', '--dir', dir, '--json', ...extra]);
  const { code } = await run.exited;
  const out = JSON.parse(run.stdout()) as {
    ok: boolean;
    report: { findings: number; streams: { records: number; duplicates: number; ended: boolean; checkpoints: number; findings: { kind: string; ranges: [number, number][] }[] }[] };
  };
  const stream = out.report.streams[0]!;
  return { code, out, stream, kinds: stream.findings.map((f) => [f.kind, f.ranges]) };
}

/** Re-signs nothing: recomputes a record's hash (and, optionally, MAC) after an edit. */
function rehash(r: TrailRecord, macKey?: string): TrailRecord {
  const hash = recordHash(trailToCanonical(r));
  r.attributes['tooltrail.hash'] = hash;
  if (macKey) r.attributes['tooltrail.mac'] = recordMac(macKey, hash);
  return r;
}

beforeAll(recordTrail, 60_000);
afterAll(cleanup);

describe('tooltrail verify: the tamper matrix on the local collector files', () => {
  it('passes an intact trail: 25 records, 5 signed checkpoints, stream ended', async () => {
    const records = original.map(parse);
    expect(records.filter((r) => !isCheckpoint(r))).toHaveLength(25); // 12 calls x 2 + run span
    expect(records.filter(isCheckpoint).map((r) => r.attributes['tooltrail.checkpoint.seq_end'])).toEqual([6, 12, 18, 24, 25]);
    const { code, out, stream } = await verifyLines(original);
    expect(code).toBe(0);
    expect(out.ok).toBe(true);
    expect(stream).toMatchObject({ records: 25, duplicates: 0, ended: true, checkpoints: 5, findings: [] });
  });

  it('human output says OK and what was checked', async () => {
    const dir = path.join(work, 'trail');
    const run = runCli(['verify', '--dir', dir, '--public-key', pubFile, '--mac-key-file', macFile]);
    expect((await run.exited).code).toBe(0);
    expect(run.stdout()).toContain(`stream ${streamId} (tamper-agent): 25 records, seq 1-25, 5 checkpoint(s), ended`);
    expect(run.stdout()).toMatch(/OK: every stream is complete and unedited\n$/);
  });

  it('finds one deleted record as a sequence gap', async () => {
    const lines = original.filter((l) => seqOf(parse(l)) !== 9);
    const { code, kinds } = await verifyLines(lines);
    expect(code).toBe(1);
    expect(kinds).toEqual([['sequence-gap', [[9, 9]]]]);
  });

  it('finds one edited attribute as a hash mismatch', async () => {
    const lines = original.map((l) => {
      const r = parse(l);
      if (seqOf(r) !== 10) return l;
      r.attributes['gen_ai.tool.call.arguments'] = '999';
      return JSON.stringify(r);
    });
    const { code, kinds } = await verifyLines(lines);
    expect(code).toBe(1);
    expect(kinds).toEqual([['hash-mismatch', [[10, 10]]]]);
  });

  it('catches a record rewritten with its hash recomputed: by the MAC and by the next link', async () => {
    const lines = original.map((l) => {
      const r = parse(l);
      if (seqOf(r) !== 10) return l;
      r.attributes['gen_ai.tool.call.arguments'] = '999';
      return JSON.stringify(rehash(r));
    });
    const { code, kinds } = await verifyLines(lines);
    expect(code).toBe(1);
    expect(kinds).toEqual([
      ['broken-link', [[11, 11]]],
      ['bad-mac', [[10, 10]]],
    ]);
  });

  it('catches the whole chain rewritten from a record on, hashes and links recomputed: by the signatures', async () => {
    const records = original.map(parse);
    const byseq = new Map(records.filter((r) => !isCheckpoint(r)).map((r) => [seqOf(r), r]));
    let prev = '';
    for (let s = 1; s <= 25; s++) {
      const r = byseq.get(s)!;
      if (s === 10) r.attributes['gen_ai.tool.call.arguments'] = '999';
      if (s > 10) r.attributes['tooltrail.prev_hash'] = prev;
      if (s >= 10) rehash(r, 'a-key-the-attacker-made-up-0123456');
      prev = String(r.attributes['tooltrail.hash']);
    }
    // The attacker also points the checkpoints at the new hashes, but cannot re-sign them.
    for (const cp of records.filter(isCheckpoint)) {
      cp.attributes['tooltrail.checkpoint.last_hash'] = byseq.get(Number(cp.attributes['tooltrail.checkpoint.seq_end']))!.attributes['tooltrail.hash']!;
    }
    const lines = records.map((r) => JSON.stringify(r));
    const withKeys = await verifyLines(lines);
    expect(withKeys.code).toBe(1);
    expect(withKeys.kinds).toEqual([
      ['bad-mac', [[10, 25]]],
      ['bad-signature', [[2, 5]]],
    ]);
    // Without the MAC key, the signatures alone still catch it.
    const sigOnly = await verifyLines(lines, ['--public-key', pubFile]);
    expect(sigOnly.kinds).toEqual([['bad-signature', [[2, 5]]]]);
  });

  it('finds a cut-off tail: the stream never ended', async () => {
    const isFinal = (r: TrailRecord) => isCheckpoint(r) && r.attributes['tooltrail.checkpoint.final'] === true;
    const records = original.map(parse);
    // Cut after the last periodic checkpoint: the records it covers are all there.
    const cut = records.filter((r) => !isFinal(r) && !(seqOf(r) >= 25)).map((r) => JSON.stringify(r));
    const a = await verifyLines(cut);
    expect(a.code).toBe(1);
    expect(a.stream.ended).toBe(false);
    expect(a.kinds).toEqual([['stream-not-ended', []]]);
    // Only the stream-end checkpoint cut: the record after the last checkpoint is unchecked.
    const b = await verifyLines(records.filter((r) => !isFinal(r)).map((r) => JSON.stringify(r)));
    expect(b.kinds).toEqual([
      ['stream-not-ended', []],
      ['unchecked-tail', [[25, 25]]],
    ]);
    // A live stream may be checked with --allow-open.
    const c = await verifyLines(cut, ['--public-key', pubFile, '--allow-open']);
    expect(c.code).toBe(0);
  });

  it('finds a cut tail that keeps the stream-end checkpoint as missing records', async () => {
    const lines = original.filter((l) => !(seqOf(parse(l)) >= 23));
    const { kinds } = await verifyLines(lines);
    expect(kinds).toEqual([['sequence-gap', [[23, 25]]]]);
  });

  it('passes reordered lines: storage order is not tampering', async () => {
    const lines = [...original].reverse();
    lines.push(lines.splice(3, 1)[0]!);
    const { code, stream } = await verifyLines(lines);
    expect(code).toBe(0);
    expect(stream.findings).toEqual([]);
  });

  it('passes an identical duplicate and counts it', async () => {
    const lines = [...original, original[4]!, original[4]!];
    const { code, stream } = await verifyLines(lines);
    expect(code).toBe(0);
    expect(stream.duplicates).toBe(2);
    expect(stream.records).toBe(25);
  });

  it('finds a forged record made with another key, appended after the stream end', async () => {
    const last = original.map(parse).find((r) => seqOf(r) === 25)!;
    const forged = parse(JSON.stringify(last));
    forged.spanId = 'f'.repeat(16);
    forged.attributes['tooltrail.seq'] = 26;
    forged.attributes['tooltrail.prev_hash'] = last.attributes['tooltrail.hash']!;
    forged.attributes['gen_ai.tool.call.arguments'] = '"forged"';
    rehash(forged, 'the-forgers-own-integrity-key-0123');
    const { code, kinds } = await verifyLines([...original, JSON.stringify(forged)]);
    expect(code).toBe(1);
    expect(kinds).toEqual([
      ['bad-mac', [[26, 26]]],
      ['after-stream-end', [[26, 26]]],
    ]);
  });

  it('finds a checkpoint signed by a key that is not trusted', async () => {
    const { loadSigningKey, canonicalCheckpointJson } = await import('@tooltrail/core');
    const { sign } = await import('node:crypto');
    const other = loadSigningKey(otherKeyFile);
    const lines = original.map((l) => {
      const r = parse(l);
      if (!isCheckpoint(r) || r.attributes['tooltrail.checkpoint.index'] !== 3) return l;
      const a = r.attributes;
      const content = canonicalCheckpointJson({
        streamId,
        index: 3,
        seqStart: Number(a['tooltrail.checkpoint.seq_start']),
        seqEnd: Number(a['tooltrail.checkpoint.seq_end']),
        lastHash: String(a['tooltrail.checkpoint.last_hash']),
        prevSignature: String(a['tooltrail.checkpoint.prev_signature']),
        final: false,
      });
      a['tooltrail.checkpoint.signature'] = sign(null, Buffer.from(content), other).toString('base64');
      a['tooltrail.checkpoint.key_id'] = 'ffffffffffffffff';
      return JSON.stringify(r);
    });
    const { kinds } = await verifyLines(lines);
    expect(kinds).toEqual([
      ['checkpoint-mismatch', [[4, 4]]],
      ['unknown-key', [[3, 3]]],
    ]);
  });

  it('finds a removed checkpoint', async () => {
    const lines = original.filter((l) => {
      const r = parse(l);
      return !(isCheckpoint(r) && r.attributes['tooltrail.checkpoint.index'] === 2);
    });
    const { code, kinds } = await verifyLines(lines);
    expect(code).toBe(1);
    expect(kinds).toEqual([['checkpoint-gap', [[2, 2]]]]);
  });

  it('without keys, says what it did not check, and still finds structural tampering', async () => {
    const dir = path.join(work, 'trail');
    const run = runCli(['verify', '--dir', dir]);
    expect((await run.exited).code).toBe(0);
    expect(run.stdout()).toContain('note: checkpoint signatures NOT checked (no --public-key); MACs NOT checked (no --mac-key)');
  });

  it('exits 1 on an empty or missing trail, and 2 on a bad command line', async () => {
    const empty = await tempDir();
    const r1 = runCli(['verify', '--dir', empty]);
    expect((await r1.exited).code).toBe(1);
    expect(r1.stdout()).toContain('no tooltrail streams found');
    const r2 = runCli(['verify', '--jaeger', 'http://127.0.0.1:1']);
    expect((await r2.exited).code).toBe(2);
    expect(r2.stderr()).toContain('--jaeger and --tempo need --service');
  });
});

describe('tooltrail keygen', () => {
  it('writes a key pair the auditor and the verifier accept, private key mode 0600', async () => {
    const dir = await tempDir();
    const run = runCli(['keygen', '--out', dir]);
    expect((await run.exited).code).toBe(0);
    expect(run.stdout()).toMatch(/key id:\s+[0-9a-f]{16}/);
    const { statSync } = await import('node:fs');
    expect(statSync(path.join(dir, 'tooltrail-signing.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, 'tooltrail-signing.pub'), 'utf8')).toContain('BEGIN PUBLIC KEY');
    const again = runCli(['keygen', '--out', dir]);
    expect((await again.exited).code).toBe(1);
  });
});
