import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateSigningKeyPair, keyId } from '@tooltrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrailRecord } from '../src/trail/record.js';
import { cleanup, runCli, tempDir } from './helpers.js';
import { clone, craftStream, indexOf, isCheckpoint, rehash, seqOf, toLine, writeTrailFile } from './verify-fixtures.js';

// Forged trails, the way anyone who can POST to the collector or write to its folder would make
// them, each checked by the real `tooltrail verify` (issue 9, items 4 and 5). Every case first
// failed on the verifier this replaced: it said "OK: every stream is complete and unedited".

const MAC = 'integrity-key-for-forgery-tests-0123456789';
const S1 = '11111111-1111-4111-8111-111111111111';
const S2 = '22222222-2222-4222-8222-222222222222';
const S3 = '33333333-3333-4333-8333-333333333333';
let work: string;
let signing: KeyObject;
let kid: string;
let pub: string;
let otherPriv: KeyObject;
let otherKid: string;
let macFile: string;

beforeAll(async () => {
  work = await tempDir();
  const keys = generateSigningKeyPair();
  const other = generateSigningKeyPair();
  signing = createPrivateKey(keys.privateKeyPem);
  kid = keys.keyId;
  otherPriv = createPrivateKey(other.privateKeyPem);
  otherKid = keyId(createPublicKey(other.publicKeyPem));
  pub = path.join(work, 'signing.pub');
  macFile = path.join(work, 'mac.key');
  writeFileSync(pub, keys.publicKeyPem);
  writeFileSync(macFile, MAC);
});
afterAll(cleanup);

/** A signed, MAC'd, ended stream: stream start + 10 records, checkpoints at 5 and 10, end at 11. */
const legit = (streamId = S1, extra: Partial<Parameters<typeof craftStream>[0]> = {}) =>
  craftStream({ streamId, records: 10, macKey: MAC, signingKey: signing, signingKeyId: kid, ...extra });

interface Out {
  ok: boolean;
  verdict: string;
  exitCode: number;
  findings: number;
  notAuthenticated: string[];
  report: {
    trailFindings: { kind: string; count: number; ranges: [number, number][]; message: string }[];
    notes: string[];
    streams: { streamId: string; records: number; duplicates: number; ended: boolean; signedThrough: number; authenticated: boolean; findings: { kind: string; ranges: [number, number][]; count: number; message: string }[] }[];
  };
}

const KEYS = () => ['--public-key', pub, '--mac-key-file', macFile];

async function verifyLines(lines: string[], extra: string[] = KEYS()) {
  const dir = await tempDir();
  writeTrailFile(dir, lines);
  const run = runCli(['verify', '--dir', dir, '--json', ...extra]);
  const { code } = await run.exited;
  const out = JSON.parse(run.stdout()) as Out;
  const kinds = Object.fromEntries(out.report.streams.map((s) => [s.streamId, s.findings.map((f) => [f.kind, f.ranges])]));
  return { code, out, kinds, trail: out.report.trailFindings.map((f) => [f.kind, f.count]), stderr: run.stderr() };
}

async function human(lines: string[], extra: string[]) {
  const dir = await tempDir();
  writeTrailFile(dir, lines);
  const run = runCli(['verify', '--dir', dir, ...extra]);
  const { code } = await run.exited;
  return { code, stdout: run.stdout() };
}

describe('verify never overstates (item 5)', () => {
  it('an intact signed stream: exit 0, and only then "complete and unedited"', async () => {
    const lines = legit().map(toLine);
    const { code, out, kinds } = await verifyLines(lines);
    expect(code).toBe(0);
    expect(out.verdict).toBe('verified');
    expect(kinds[S1]).toEqual([]);
    expect(out.report.streams[0]).toMatchObject({ records: 11, ended: true, signedThrough: 11, authenticated: true });
    const h = await human(lines, KEYS());
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('checked: sequence numbers, record hashes and links, checkpoint chain and coverage; record MACs; checkpoint signatures with trusted keys');
    expect(h.stdout).toMatch(/OK: 1 stream\(s\), verified by trusted signatures: every stream is complete and unedited\n$/);
  });

  it('no key at all: exit 3, "not authenticated", never "complete and unedited"', async () => {
    const lines = legit().map(toLine);
    const { code, out } = await verifyLines(lines, []);
    expect(code).toBe(3);
    expect(out.verdict).toBe('not-authenticated');
    expect(out.ok).toBe(false);
    expect(out.notAuthenticated[0]).toMatch(/^no --public-key was given/);
    const h = await human(lines, []);
    expect(h.code).toBe(3);
    expect(h.stdout).toContain('NOT checked: checkpoint signatures (no --public-key); MACs (no --mac-key-file)');
    expect(h.stdout).toContain('NOT AUTHENTICATED: no findings in what was checked, but authenticity was not established:');
    expect(h.stdout).not.toContain('complete and unedited');
  });

  it('the MAC key alone does not authenticate: exit 3', async () => {
    const { code, out } = await verifyLines(legit().map(toLine), ['--mac-key-file', macFile]);
    expect(code).toBe(3);
    expect(out.notAuthenticated).toHaveLength(1);
  });

  it('a live stream (--allow-open): records after its last signed checkpoint make it exit 3, naming them', async () => {
    const lines = legit(S1, { end: false }).map(toLine); // checkpoints at 5 and 10, seq 11 after them
    const { code, out, kinds } = await verifyLines(lines, [...KEYS(), '--allow-open']);
    expect(code).toBe(3);
    expect(kinds[S1]).toEqual([]);
    expect(out.notAuthenticated).toEqual([`stream ${S1}: records 11 come after its last signed checkpoint; nothing signed vouches for them yet`]);
    // Cut right after a signed checkpoint: every record is signed; still open, said so.
    const cut = legit(S1, { end: false, records: 9 }).map(toLine);
    const h = await human(cut, [...KEYS(), '--allow-open']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/every stream is complete and unedited up to its last signed checkpoint \(1 still open\)\n$/);
  });
});

describe('forgeries anyone who can write to the collector can make (item 4)', () => {
  it('spans with no integrity attributes are findings, with and without keys', async () => {
    const stray = clone(legit()[3]!);
    stray.attributes = { 'gen_ai.tool.name': 'send_email', 'tooltrail.outcome': 'ok' };
    const lines = [...legit().map(toLine), toLine(stray), toLine(stray)];
    const a = await verifyLines(lines);
    expect(a.code).toBe(1);
    expect(a.trail).toEqual([['unchained-span', 2]]);
    expect(a.kinds[S1]).toEqual([]);
    const b = await verifyLines(lines, []);
    expect(b.code).toBe(1);
  });

  it.each([
    ['missing', undefined],
    ['a string', '12'],
    ['a fraction', 2.5],
    ['zero', 0],
    ['negative', -3],
    ['beyond 2^53', 2 ** 53 + 2],
    ['an array', [12]],
  ])('a record of a real stream whose seq is %s: bad-seq', async (_what, seq) => {
    const forged = clone(legit()[4]!);
    if (seq === undefined) delete forged.attributes['tooltrail.seq'];
    else forged.attributes['tooltrail.seq'] = seq as number;
    forged.attributes['tooltrail.outcome'] = 'forged';
    rehash(forged);
    const { code, kinds } = await verifyLines([...legit().map(toLine), toLine(forged)]);
    expect(code).toBe(1);
    expect(kinds[S1]).toEqual([['bad-seq', []]]);
  });

  it('one line claiming seq 2^53-1 is reported as ranges, fast, without running out of memory', async () => {
    const max = Number.MAX_SAFE_INTEGER;
    const records = legit(S1, { end: false });
    const forged = clone(records.find((r) => seqOf(r) === 11)!);
    forged.attributes['tooltrail.seq'] = max;
    forged.spanId = 'f'.repeat(16);
    rehash(forged);
    const cp = clone(records.filter(isCheckpoint).at(-1)!);
    cp.attributes['tooltrail.checkpoint.index'] = max;
    cp.attributes['tooltrail.checkpoint.seq_start'] = 1;
    cp.attributes['tooltrail.checkpoint.seq_end'] = max;
    cp.attributes['tooltrail.checkpoint.final'] = true;
    const started = Date.now();
    const { code, kinds } = await verifyLines([...records.map(toLine), toLine(forged), toLine(cp)]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(1);
    expect(kinds[S1]).toEqual([
      ['sequence-gap', [[12, max - 1]]],
      ['bad-mac', [[max, max]]],
      ['checkpoint-gap', [[3, max - 1]]],
      ['checkpoint-mismatch', [[max, max]]],
      ['bad-signature', [[max, max]]],
    ]);
  });

  it('a new self-chained stream: fails with keys (unsigned, or signed by an untrusted key); exit 3 without', async () => {
    const mine = legit().map(toLine);
    const unsigned = craftStream({ streamId: S2, records: 6 });
    const a = await verifyLines([...mine, ...unsigned.map(toLine)], ['--public-key', pub]);
    expect(a.code).toBe(1);
    expect(a.kinds[S2]).toEqual([['missing-signature', [[1, 2]]]]);
    const ownKey = craftStream({ streamId: S2, records: 6, signingKey: otherPriv, signingKeyId: otherKid });
    const b = await verifyLines([...mine, ...ownKey.map(toLine)], ['--public-key', pub]);
    expect(b.kinds[S2]).toEqual([['unknown-key', [[1, 2]]]]);
    // No checkpoint at all, checked as a live stream: still a finding when keys are given.
    const bare = craftStream({ streamId: S2, records: 3, end: false, checkpointEvery: 1000 });
    const c = await verifyLines([...mine, ...bare.map(toLine)], ['--public-key', pub, '--allow-open']);
    expect(c.code).toBe(1);
    expect(c.kinds[S2]).toEqual([['unsigned-stream', []]]);
    const d = await verifyLines([...mine, ...bare.map(toLine)], ['--public-key', pub]);
    expect(d.kinds[S2]).toEqual([
      ['unsigned-stream', []],
      ['stream-not-ended', []],
    ]);
    // Without keys nothing can tell it from a real stream: not authenticated, not OK.
    const e = await verifyLines([...mine, ...unsigned.map(toLine)], []);
    expect(e.code).toBe(3);
  });

  it('records appended to a stream that is still open, linked to its last record', async () => {
    const records = legit(S1, { end: false }); // seq 1-11, signed through 10
    const last = records.find((r) => seqOf(r) === 11)!;
    const appended: TrailRecord[] = [];
    let prev = last;
    for (const seq of [12, 13]) {
      const f = clone(prev);
      f.spanId = `${'e'.repeat(14)}${seq}`;
      f.attributes['tooltrail.seq'] = seq;
      f.attributes['tooltrail.prev_hash'] = prev.attributes['tooltrail.hash']!;
      f.attributes['gen_ai.tool.call.arguments'] = '{"to":"attacker@example.net"}';
      rehash(f, 'a-key-the-forger-made-up-0123456789');
      appended.push(f);
      prev = f;
    }
    const lines = [...records, ...appended].map(toLine);
    const a = await verifyLines(lines);
    expect(a.code).toBe(1);
    expect(a.kinds[S1]).toEqual([
      ['bad-mac', [[12, 13]]],
      ['stream-not-ended', []],
      ['unchecked-tail', [[11, 13]]],
    ]);
    // Signatures only, live stream: no finding, but the unsigned records are named, exit 3.
    const b = await verifyLines(lines, ['--public-key', pub, '--allow-open']);
    expect(b.code).toBe(3);
    expect(b.out.notAuthenticated).toEqual([`stream ${S1}: records 11-13 come after its last signed checkpoint; nothing signed vouches for them yet`]);
  });

  it('records appended after the stream end, and a second stream end', async () => {
    const records = legit();
    const end = records.at(-1)!;
    const more = clone(end);
    more.attributes['tooltrail.checkpoint.index'] = 4;
    more.attributes['tooltrail.checkpoint.seq_start'] = 12;
    more.attributes['tooltrail.checkpoint.seq_end'] = 12;
    const { kinds } = await verifyLines([...records.map(toLine), toLine(more)], ['--public-key', pub]);
    expect(kinds[S1]).toEqual([
      ['checkpoint-mismatch', [[4, 4]]],
      ['bad-signature', [[4, 4]]],
      ['multiple-stream-ends', [[4, 4]]],
    ]);
  });
});

describe('stream starts and deleted streams (Contract B)', () => {
  const t0 = Date.UTC(2026, 10, 21, 8);
  const lineage = 'lineage-support-agent';
  const a = () => legit(S1, { lineage, startMs: t0 });
  const b = () => legit(S2, { lineage, startMs: t0 + 60_000, prevId: S1, prevStartedAt: new Date(t0).toISOString() });
  const c = () => legit(S3, { lineage, startMs: t0 + 120_000, prevId: S2, prevStartedAt: new Date(t0 + 60_000).toISOString() });

  it('a lineage of three streams verifies', async () => {
    const { code, trail } = await verifyLines([...a(), ...b(), ...c()].map(toLine));
    expect(trail).toEqual([]);
    expect(code).toBe(0);
  });

  it('a stream deleted whole, with every record and checkpoint of it: stream-missing', async () => {
    const { code, out, trail } = await verifyLines([...a(), ...c()].map(toLine));
    expect(code).toBe(1);
    expect(trail).toEqual([['stream-missing', 1]]);
    expect(out.report.trailFindings[0]!.message).toContain(`stream ${S2} of lineage ${lineage}, started ${new Date(t0 + 60_000).toISOString()}, is named by stream ${S3}`);
  });

  it("a stream deleted with every announcement of it (the next stream's start): still visible", async () => {
    // The next stream's start removed too: its chain no longer begins at 1.
    const cut = c().filter((r) => seqOf(r) !== 1);
    const x = await verifyLines([...a(), ...cut].map(toLine));
    expect(x.code).toBe(1);
    expect(x.trail).toEqual([]);
    expect(x.kinds[S3]).toEqual([
      ['sequence-gap', [[1, 1]]],
      ['stream-start-missing', []],
    ]);
    // Or rewritten without its prev_id, hash recomputed: the link from seq 2 and the MAC break.
    const rewritten = c().map((r) => {
      if (seqOf(r) !== 1) return r;
      delete r.attributes['tooltrail.stream.prev_id'];
      delete r.attributes['tooltrail.stream.prev_started_at'];
      return rehash(r);
    });
    const y = await verifyLines([...a(), ...rewritten].map(toLine));
    expect(y.kinds[S3]).toEqual([
      ['broken-link', [[2, 2]]],
      ['bad-mac', [[1, 1]]],
    ]);
  });

  it('the oldest stream read is outside the range read: a note, not a finding', async () => {
    const { code, out } = await verifyLines([...b(), ...c()].map(toLine));
    expect(code).toBe(0);
    expect(out.report.notes).toEqual([`stream ${S2} continues stream ${S1} (lineage ${lineage}), which started ${new Date(t0).toISOString()} outside the range read; it was not checked`]);
  });

  it('the newest stream deleted whole is not detectable from the agent chain (docs/integrity.md)', async () => {
    const { code } = await verifyLines([...a(), ...b()].map(toLine));
    expect(code).toBe(0);
  });

  it('a stream whose beginning was deleted, or that never had a stream start', async () => {
    const cut = legit().filter((r) => !(seqOf(r) === 1 || seqOf(r) === 2));
    const x = await verifyLines(cut.map(toLine));
    expect(x.kinds[S1]).toEqual([
      ['sequence-gap', [[1, 2]]],
      ['stream-start-missing', []],
    ]);
    const old = craftStream({ streamId: S1, records: 10, noStart: true, macKey: MAC, signingKey: signing, signingKeyId: kid });
    const y = await verifyLines(old.map(toLine));
    expect(y.code).toBe(1);
    expect(y.kinds[S1]).toEqual([['stream-start-missing', []]]);
  });
});

describe('other forged shapes', () => {
  it('checkpoints with fields missing, of the wrong type, or out of range: bad-checkpoint, never ignored', async () => {
    const records = legit();
    const cps = records.filter(isCheckpoint);
    const noIndex = clone(cps[0]!);
    delete noIndex.attributes['tooltrail.checkpoint.index'];
    const strHash = clone(cps[1]!);
    strHash.attributes['tooltrail.checkpoint.last_hash'] = 42;
    const backwards = clone(cps[1]!);
    backwards.attributes['tooltrail.checkpoint.seq_end'] = 2;
    const finalStr = clone(cps[2]!);
    finalStr.attributes['tooltrail.checkpoint.final'] = 'true';
    const lines = [...records, noIndex, strHash, backwards, finalStr].map(toLine);
    const { kinds } = await verifyLines(lines);
    expect(kinds[S1]).toEqual([['bad-checkpoint', []]]);
    const out = (await verifyLines(lines)).out.report.streams[0]!.findings[0]!;
    expect(out.count).toBe(4);
  });

  it('a different checkpoint under an index already seen: checkpoint-mismatch; an identical copy: fine', async () => {
    const records = legit();
    const cp2 = clone(records.filter(isCheckpoint)[1]!);
    cp2.attributes['tooltrail.checkpoint.seq_end'] = 9;
    const same = clone(records.filter(isCheckpoint)[1]!);
    const { kinds } = await verifyLines([...records, cp2, same].map(toLine));
    expect(kinds[S1]).toEqual([['checkpoint-mismatch', [[2, 2]]]]);
  });

  it('hashes that are not strings, and a different record under a number already seen', async () => {
    const records = legit();
    const numHash = records.find((r) => seqOf(r) === 4)!;
    numHash.attributes['tooltrail.hash'] = 12345;
    const copy = clone(records.find((r) => seqOf(r) === 7)!);
    copy.attributes['gen_ai.tool.call.arguments'] = '{"forged":true}';
    rehash(copy, MAC); // a valid hash and even a valid MAC: only the original's fingerprint tells
    const dup = clone(records.find((r) => seqOf(r) === 8)!);
    const { kinds, out } = await verifyLines([...records, copy, dup].map(toLine));
    expect(kinds[S1]).toEqual([
      ['hash-mismatch', [[4, 4]]],
      ['broken-link', [[5, 5]]],
      ['conflicting-copies', [[7, 7]]],
      ['bad-mac', [[4, 4]]],
    ]);
    expect(out.report.streams[0]!.duplicates).toBe(1);
  });

  it('an attribute named __proto__ added to a record is caught by its hash', async () => {
    const records = legit();
    const line = toLine(records.find((r) => seqOf(r) === 6)!).replace('"attributes":{', '"attributes":{"__proto__":{"gen_ai.tool.name":"send_email"},');
    const lines = records.map(toLine).map((l) => (l.includes('"tooltrail.seq":6,') ? line : l));
    const { kinds } = await verifyLines(lines);
    expect(kinds[S1]).toEqual([['hash-mismatch', [[6, 6]]]]);
  });

  it('terminal control sequences in stored names are printed escaped', async () => {
    const records = legit(S1, { service: 'agent\u001b[2K\rOK: every stream is complete and unedited\u001b[8m' });
    const h = await human(records.map(toLine), KEYS());
    expect(h.stdout).not.toContain('\u001b');
    expect(h.stdout).toContain('agent\\u001b[2K\\u000dOK: every stream');
  });

  it('storage order does not matter: 3000 records, reversed', async () => {
    const records = legit(S1, { records: 3000, checkpointEvery: 1000 });
    const { code, kinds } = await verifyLines([...records].reverse().map(toLine));
    expect(kinds[S1]).toEqual([]);
    expect(code).toBe(0);
  });

  it('indexes of checkpoints removed: checkpoint-gap; checkpoint at index 1 removed too', async () => {
    const records = legit().filter((r) => !(isCheckpoint(r) && indexOf(r) !== 3));
    const { kinds } = await verifyLines(records.map(toLine));
    expect(kinds[S1]).toEqual([['checkpoint-gap', [[1, 2]]]]);
  });
});

describe('--stream, --run and the command line', () => {
  it('--stream verifies one stream; --run the streams holding a run', async () => {
    const lines = [...legit(S1, { runId: 'run-a' }), ...legit(S2, { runId: 'run-b' }), ...craftStream({ streamId: S3, records: 2 })].map(toLine);
    const all = await verifyLines(lines);
    expect(all.code).toBe(1); // S3 is unsigned
    const one = await verifyLines(lines, [...KEYS(), '--stream', S2]);
    expect(one.code).toBe(0);
    expect(one.out.report.streams.map((s) => s.streamId)).toEqual([S2]);
    const run = await verifyLines(lines, [...KEYS(), '--run', 'run-a']);
    expect(run.code).toBe(0);
    expect(run.out.report.streams.map((s) => [s.streamId, (s as unknown as { run: { records: number } }).run.records])).toEqual([[S1, 10]]);
    const none = await verifyLines(lines, [...KEYS(), '--stream', 'nope']);
    expect(none.code).toBe(1);
    expect(none.trail).toEqual([['not-found', 1]]);
  });

  it('exit 2 for a bad command line, 1 for an empty trail', async () => {
    const empty = await tempDir();
    const r1 = runCli(['verify', '--dir', empty]);
    expect((await r1.exited).code).toBe(1);
    expect(r1.stdout()).toContain('FINDING no-streams: no tooltrail streams found');
    for (const args of [
      ['--public-key', path.join(work, 'nope.pub')],
      ['--jaeger', 'http://127.0.0.1:1', '--service', 'x', '--collector-key', pub],
      ['--progress', '--no-progress'],
      ['--dir', empty, '--since', '1h'],
      ['--mac-key-file', path.join(work, 'nope.key')],
      ['--bogus'],
    ]) {
      const r = runCli(['verify', ...args]);
      expect((await r.exited).code, args.join(' ')).toBe(2);
    }
  });
});

describe('claims the output makes that the chain does not cover', () => {
  it('a stream whose lines name two services (the resource is not hashed): multiple-services', async () => {
    const records = legit();
    const moved = records.find((r) => seqOf(r) === 3)!;
    moved.resource['service.name'] = 'billing-agent';
    const { code, kinds } = await verifyLines(records.map(toLine));
    expect(code).toBe(1);
    expect(kinds[S1]).toEqual([['multiple-services', []]]);
  });
});
