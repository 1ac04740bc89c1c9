import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createAuditor, generateSigningKeyPair, setDefaultAuditor } from '@tooltrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTrailFiles, readTrail, type TrailRecord } from '../src/index.js';
import { cleanup, post, runCli, startCliCollector, stopCli, tempDir } from './helpers.js';
import { clone, isCheckpoint, rehash, seqOf, toLine, toOtlpJson, writeTrailFile } from './verify-fixtures.js';

// The tamper matrix (issues 5 and 9): a real trail written by an auditor through a real
// `tooltrail collect` that authenticates its writer and seals its files, then edited the ways
// an attacker or a broken pipeline would, then checked by `tooltrail verify`.

const MAC_KEY = 'integrity-key-for-tests-0123456789abcdef';
let work: string;
let trailDir: string;
let records: TrailRecord[]; // the trail as read back (v1 shape)
let original: string[]; // the same as v1 lines
let pubFile: string;
let macFile: string;
let sealPub: string;
let sealKey: string;
let otherKeyFile: string;
let otherPub: string;
let tokensFile: string;
let tokenA: string;
let tokenB: string;
let streamId: string;

async function newToken(writer: string): Promise<string> {
  const run = runCli(['keygen', '--token', '--writer', writer, '--tokens-file', tokensFile]);
  expect((await run.exited).code).toBe(0);
  return /^token:\s+(\S+)$/m.exec(run.stdout())![1]!;
}

async function recordTrail(): Promise<void> {
  work = await tempDir();
  const keys = generateSigningKeyPair();
  const other = generateSigningKeyPair();
  const seal = generateSigningKeyPair();
  const keyFile = path.join(work, 'signing.key');
  pubFile = path.join(work, 'signing.pub');
  otherKeyFile = path.join(work, 'other.key');
  otherPub = path.join(work, 'other.pub');
  macFile = path.join(work, 'mac.key');
  sealKey = path.join(work, 'seal.key');
  sealPub = path.join(work, 'seal.pub');
  tokensFile = path.join(work, 'tokens.json');
  writeFileSync(keyFile, keys.privateKeyPem);
  writeFileSync(pubFile, keys.publicKeyPem);
  writeFileSync(otherKeyFile, other.privateKeyPem);
  writeFileSync(otherPub, other.publicKeyPem);
  writeFileSync(macFile, MAC_KEY);
  writeFileSync(sealKey, seal.privateKeyPem, { mode: 0o600 });
  writeFileSync(sealPub, seal.publicKeyPem);
  tokenA = await newToken('support-agent');
  tokenB = await newToken('other-service');
  trailDir = path.join(work, 'trail');
  const collector = await startCliCollector(trailDir, ['--seal-key', sealKey, '--tokens', tokensFile]);
  const auditor = createAuditor({
    serviceName: 'tamper-agent',
    endpoint: collector.url,
    headers: { authorization: `Bearer ${tokenA}` },
    spoolDir: path.join(work, 'spool'),
    logger: { warn() {} },
    integrity: { macKey: MAC_KEY, signingKey: keyFile, checkpointEvery: 6 },
  });
  setDefaultAuditor(undefined);
  const tool = auditor.withAudit(async (n: number) => ({ doubled: n * 2 }), { name: 'double' });
  await auditor.run({ principal: { id: 'user:7' }, runId: 'tamper-run' }, async () => {
    // 24 calls with one attempt each: one record per call (no attempt records).
    for (let i = 0; i < 24; i++) await tool(i);
  });
  expect(await auditor.shutdown(10_000)).toBe(true);
  expect((await stopCli(collector)).code).toBe(0);
  const trail = await readTrail(trailDir);
  expect(trail.problems).toEqual([]);
  records = trail.records;
  original = records.map(toLine);
  expect(auditor.streamId).toBeDefined();
  streamId = auditor.streamId as string;
}

const parse = (line: string) => JSON.parse(line) as TrailRecord;

interface Out {
  ok: boolean;
  verdict: string;
  notAuthenticated: string[];
  report: {
    trailFindings: { kind: string; sealKind?: string }[];
    streams: { records: number; duplicates: number; ended: boolean; checkpoints: number; writers: string[]; findings: { kind: string; ranges: [number, number][] }[] }[];
  };
}

async function verifyDir(dir: string, extra: string[]) {
  const run = runCli(['verify', '--dir', dir, '--json', ...extra]);
  const { code } = await run.exited;
  const out = JSON.parse(run.stdout()) as Out;
  const stream = out.report.streams[0]!;
  return { code, out, stream, kinds: stream.findings.map((f) => [f.kind, f.ranges]), trail: out.report.trailFindings.map((f) => f.sealKind ?? f.kind) };
}

/** The trail rewritten as v1 lines (which every reader accepts) after an edit of the agent's records. */
async function verifyLines(lines: string[], extra: string[] = ['--public-key', pubFile, '--mac-key-file', macFile]) {
  const dir = await tempDir();
  writeTrailFile(dir, lines);
  return verifyDir(dir, extra);
}

beforeAll(recordTrail, 60_000);
afterAll(cleanup);

describe('tooltrail verify: the sealed folder as the collector wrote it', () => {
  it('the stream: a stream start, 25 records, a signed checkpoint every 6 and the stream end', () => {
    const chained = records.filter((r) => !isCheckpoint(r));
    expect(chained).toHaveLength(26); // stream start + 24 calls + run span
    expect(chained.find((r) => seqOf(r) === 1)!.name).toBe('tooltrail.stream_start');
    expect(records.filter(isCheckpoint).map((r) => r.attributes['tooltrail.checkpoint.seq_end'])).toEqual([1, 6, 12, 18, 24, 26]); // the signed stream start first
  });

  it('verified with every key: exit 0, and only then "complete and unedited"', async () => {
    const { code, out, stream } = await verifyDir(trailDir, ['--public-key', pubFile, '--mac-key-file', macFile, '--collector-key', sealPub]);
    expect(code).toBe(0);
    expect(out.verdict).toBe('verified');
    expect(stream).toMatchObject({ records: 26, duplicates: 0, ended: true, checkpoints: 6, writers: ['support-agent'], findings: [] });
    const run = runCli(['verify', '--dir', trailDir, '--public-key', pubFile, '--mac-key-file', macFile, '--collector-key', sealPub]);
    expect((await run.exited).code).toBe(0);
    expect(run.stdout()).toContain(`stream ${streamId} (tamper-agent) written by support-agent: 26 records, seq 1-26, 6 checkpoint(s), ended`);
    expect(run.stdout()).toMatch(/OK: 1 stream\(s\), verified by trusted signatures and by the collector's seals: every stream is complete and unedited\n$/);
  });

  it('seals present but no --collector-key: exit 3, saying the seals were not checked', async () => {
    const { code, out } = await verifyDir(trailDir, ['--public-key', pubFile]);
    expect(code).toBe(3);
    expect(out.notAuthenticated).toHaveLength(1);
    expect(out.notAuthenticated[0]).toMatch(/^the collector's files carry seals \(\d+ sealed line\(s\)\), but no --collector-key was given/);
  });

  it('a collector key that did not seal them: a finding', async () => {
    const { code, trail } = await verifyDir(trailDir, ['--public-key', pubFile, '--collector-key', otherPub]);
    expect(code).toBe(1);
    expect(trail).toContain('unknown-key');
  });

  it('one stored span edited in place (a tool argument): the collector chain and the agent hash both catch it', async () => {
    const dir = await tempDir();
    const [file] = await listTrailFiles(trailDir);
    const text = readFileSync(file!, 'utf8');
    const edited = text.replace('"gen_ai.tool.call.arguments":"3"', '"gen_ai.tool.call.arguments":"9"');
    expect(edited).not.toBe(text);
    writeFileSync(path.join(dir, path.basename(file!)), edited);
    const { code, kinds, trail } = await verifyDir(dir, ['--public-key', pubFile, '--mac-key-file', macFile, '--collector-key', sealPub]);
    expect(code).toBe(1);
    expect(trail).toEqual(['line-edited']);
    expect(kinds).toHaveLength(1);
    expect(kinds[0]![0]).toBe('hash-mismatch');
  });

  it('a span POSTed by another writer into the stream: multiple-writers; no token: refused with 401', async () => {
    const dir = path.join(await tempDir(), 'trail');
    const c = await startCliCollector(dir, ['--seal-key', sealKey, '--tokens', tokensFile]);
    const auth = (t: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${t}` });
    expect((await post(c.tracesUrl, toOtlpJson(records), auth(tokenA))).status).toBe(200);
    const last = records.find((r) => seqOf(r) === 26)!;
    const forged = clone(last);
    forged.spanId = 'f'.repeat(16);
    forged.attributes['tooltrail.seq'] = 27;
    forged.attributes['tooltrail.prev_hash'] = last.attributes['tooltrail.hash']!;
    rehash(forged, 'the-forgers-own-integrity-key-0123');
    expect((await post(c.tracesUrl, toOtlpJson([forged]), auth(tokenB))).status).toBe(200);
    expect((await post(c.tracesUrl, toOtlpJson([forged]), { 'content-type': 'application/json' })).status).toBe(401);
    expect((await stopCli(c)).code).toBe(0);
    const { code, kinds, stream } = await verifyDir(dir, ['--public-key', pubFile, '--mac-key-file', macFile, '--collector-key', sealPub]);
    expect(code).toBe(1);
    expect(stream.writers).toEqual(['support-agent', 'other-service']);
    expect(kinds).toEqual([
      ['bad-mac', [[27, 27]]],
      ['multiple-writers', []],
      ['after-stream-end', [[27, 27]]],
    ]);
  });
});

describe('tooltrail verify: the tamper matrix on the agent chain', () => {
  it('passes the trail rewritten as v1 lines (no seals then)', async () => {
    const { code, stream } = await verifyLines(original);
    expect(code).toBe(0);
    expect(stream).toMatchObject({ records: 26, duplicates: 0, ended: true, checkpoints: 6, findings: [] });
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
    const rs = original.map(parse);
    const byseq = new Map(rs.filter((r) => !isCheckpoint(r)).map((r) => [seqOf(r), r]));
    let prev = '';
    for (let s = 1; s <= 26; s++) {
      const r = byseq.get(s)!;
      if (s === 10) r.attributes['gen_ai.tool.call.arguments'] = '999';
      if (s > 10) r.attributes['tooltrail.prev_hash'] = prev;
      if (s >= 10) rehash(r, 'a-key-the-attacker-made-up-0123456');
      prev = String(r.attributes['tooltrail.hash']);
    }
    // The attacker also points the checkpoints at the new hashes, but cannot re-sign them.
    for (const cp of rs.filter(isCheckpoint)) {
      cp.attributes['tooltrail.checkpoint.last_hash'] = byseq.get(Number(cp.attributes['tooltrail.checkpoint.seq_end']))!.attributes['tooltrail.hash']!;
    }
    const lines = rs.map((r) => JSON.stringify(r));
    const withKeys = await verifyLines(lines);
    expect(withKeys.code).toBe(1);
    expect(withKeys.kinds).toEqual([
      ['bad-mac', [[10, 26]]],
      ['bad-signature', [[3, 6]]],
    ]);
    // Without the MAC key, the signatures alone still catch it.
    const sigOnly = await verifyLines(lines, ['--public-key', pubFile]);
    expect(sigOnly.kinds).toEqual([['bad-signature', [[3, 6]]]]);
    // Without any key the rewrite is well formed: exit 3, never OK.
    const none = await verifyLines(lines, []);
    expect(none.code).toBe(3);
    expect(none.kinds).toEqual([]);
  });

  it('finds a cut-off tail: the stream never ended', async () => {
    const isFinal = (r: TrailRecord) => isCheckpoint(r) && r.attributes['tooltrail.checkpoint.final'] === true;
    const rs = original.map(parse);
    // Cut after the last periodic checkpoint: the records it covers are all there.
    const cut = rs.filter((r) => !isFinal(r) && !(Number(seqOf(r)) >= 25)).map((r) => JSON.stringify(r));
    const a = await verifyLines(cut);
    expect(a.code).toBe(1);
    expect(a.stream.ended).toBe(false);
    expect(a.kinds).toEqual([['stream-not-ended', []]]);
    // Only the stream-end checkpoint cut: the records after the last checkpoint are unchecked.
    const b = await verifyLines(rs.filter((r) => !isFinal(r)).map((r) => JSON.stringify(r)));
    expect(b.kinds).toEqual([
      ['stream-not-ended', []],
      ['unchecked-tail', [[25, 26]]],
    ]);
    // A live stream may be checked with --allow-open: everything up to seq 24 is signed.
    const c = await verifyLines(cut, ['--public-key', pubFile, '--allow-open']);
    expect(c.code).toBe(0);
    // With the unsigned tail still there it is not authenticated: exit 3, naming the records.
    const d = await verifyLines(rs.filter((r) => !isFinal(r)).map((r) => JSON.stringify(r)), ['--public-key', pubFile, '--allow-open']);
    expect(d.code).toBe(3);
    expect(d.out.notAuthenticated).toEqual([`stream ${streamId}: records 25-26 come after its last signed checkpoint; nothing signed vouches for them yet`]);
  });

  it('finds a cut tail that keeps the stream-end checkpoint as missing records', async () => {
    const lines = original.filter((l) => !(Number(seqOf(parse(l))) >= 23));
    const { kinds } = await verifyLines(lines);
    expect(kinds).toEqual([['sequence-gap', [[23, 26]]]]);
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
    expect(stream.records).toBe(26);
  });

  it('finds a forged record made with another key, appended after the stream end', async () => {
    const last = original.map(parse).find((r) => seqOf(r) === 26)!;
    const forged = clone(last);
    forged.spanId = 'f'.repeat(16);
    forged.attributes['tooltrail.seq'] = 27;
    forged.attributes['tooltrail.prev_hash'] = last.attributes['tooltrail.hash']!;
    forged.attributes['gen_ai.tool.call.arguments'] = '"forged"';
    rehash(forged, 'the-forgers-own-integrity-key-0123');
    const { code, kinds } = await verifyLines([...original, JSON.stringify(forged)]);
    expect(code).toBe(1);
    expect(kinds).toEqual([
      ['bad-mac', [[27, 27]]],
      ['after-stream-end', [[27, 27]]],
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

  it('without keys, says what it did not check, finds structural tampering, and never says OK', async () => {
    const run = runCli(['verify', '--dir', trailDir]);
    expect((await run.exited).code).toBe(3);
    expect(run.stdout()).toContain("NOT checked: checkpoint signatures (no --public-key); MACs (no --mac-key-file); the collector's seals (no --collector-key)");
    expect(run.stdout()).not.toContain('complete and unedited');
    const gap = await verifyLines(original.filter((l) => seqOf(parse(l)) !== 9), []);
    expect(gap.code).toBe(1);
    expect(gap.kinds).toEqual([['sequence-gap', [[9, 9]]]]);
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
