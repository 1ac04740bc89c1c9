import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { cpSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealMessage, type SealReason } from '../src/trail/format-v2.js';
import { listTrailFiles, openTrail, readTrail, type SealReport } from '../src/trail/reader.js';
import { formatRecord } from '../src/trail/record.js';
import { sealKeyId } from '../src/trail/seal-key.js';
import { cleanup, jsonRequest, post, startCliCollector, stopCli, tempDir } from './helpers.js';

// The collector as a witness: real `tooltrail collect --seal-key` runs write a trail, then
// copies of it are edited at rest the ways an intruder would, and openTrail's SealReport must
// name each edit. The intruder may hold the agent's keys; only the collector's seal key is out
// of reach.

const JSON_HEADERS = { 'content-type': 'application/json' };
const seal = generateKeyPairSync('ed25519');
const intruder = generateKeyPairSync('ed25519');
let work: string;
/** The pristine trail: two collector runs, the first of them rotating through several files. */
let trail: string;
let runA: string[];
let runB: string[];
const SPANS = 3 * 8 + 3 * 4;

async function writeRun(dir: string, prefix: string, requests: number, maxFileBytes: number): Promise<string[]> {
  const c = await startCliCollector(dir, ['--seal-key', path.join(work, 'seal.key'), '--seal-every', '7', '--max-file-bytes', String(maxFileBytes)]);
  for (let i = 0; i < requests; i++) {
    expect((await post(c.tracesUrl, jsonRequest(3, `${prefix}${i}`, 'p'.repeat(200)), JSON_HEADERS)).status).toBe(200);
  }
  expect((await stopCli(c)).code).toBe(0);
  return (await listTrailFiles(dir)).map((f) => path.basename(f));
}

beforeAll(async () => {
  work = await tempDir();
  writeFileSync(path.join(work, 'seal.key'), seal.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  trail = path.join(work, 'trail');
  runA = await writeRun(trail, 'a', 8, 4000);
  const all = await writeRun(trail, 'b', 4, 4000);
  runB = all.filter((f) => !runA.includes(f));
}, 30_000);
afterAll(cleanup);

/** A copy of the pristine trail to edit. */
function copy(): string {
  const dir = path.join(work, `copy-${Math.random().toString(36).slice(2)}`);
  cpSync(trail, dir, { recursive: true });
  return dir;
}

const fileOf = (dir: string, name: string) => path.join(dir, name);
const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const writeLines = (file: string, lines: string[]) => writeFileSync(file, lines.map((l) => `${l}\n`).join(''));

async function check(dir: string, keys: KeyObject[] = [seal.publicKey]): Promise<{ report: SealReport; names: string[]; kinds: [string, string, [number, number] | undefined][] }> {
  const t = openTrail(dir, { sealKeys: keys });
  const names: string[] = [];
  for await (const e of t) names.push(e.record.name);
  return { report: t.seals, names, kinds: t.seals.findings.map((f) => [f.kind, path.basename(f.file ?? ''), f.lines]) };
}

/** Line number (1-based) of the first span line of `file` that is followed by another span line. */
function spanLineBeforeSpan(lines: string[], skip = 0): number {
  let seen = 0;
  for (let i = 0; i < lines.length - 1; i++) {
    if (lines[i]!.includes('"t":"span"') && lines[i + 1]!.includes('"t":"span"') && seen++ >= skip) return i + 1;
  }
  throw new Error('no such line');
}

describe('the collector seals what it stores', () => {
  it('writes two linked runs whose every line is covered by a verified seal', async () => {
    expect(runA.length).toBeGreaterThanOrEqual(3);
    expect(runB.length).toBeGreaterThanOrEqual(2);
    const { report, names } = await check(trail);
    expect(names).toHaveLength(SPANS);
    const lines = [...runA, ...runB].flatMap((f) => linesOf(fileOf(trail, f)));
    expect(report).toEqual({ chainedLines: lines.length, sealedLines: lines.length, verifiedLines: lines.length, legacyLines: 0, authenticated: true, findings: [] });
    // The second run's first file continues the first run's last line.
    const open = JSON.parse(linesOf(fileOf(trail, runB[0]!))[0]!) as { p: string; prev: { file: string } };
    expect(open.prev.file).toBe(runA.at(-1));
    expect(open.p).toBe(createHash('sha256').update(linesOf(fileOf(trail, runA.at(-1)!)).at(-1)!).digest('hex'));
    // Without a trusted key the same trail is sealed, but not authenticated.
    const untrusted = (await check(trail, [])).report;
    expect([untrusted.sealedLines, untrusted.verifiedLines, untrusted.authenticated, untrusted.findings]).toEqual([lines.length, 0, false, []]);
  });

  it('a changed byte', async () => {
    const dir = copy();
    const file = fileOf(dir, runA[1]!);
    const lines = linesOf(file);
    const at = spanLineBeforeSpan(lines);
    lines[at - 1] = lines[at - 1]!.replace('"status":{"code":1}', '"status":{"code":2}');
    writeLines(file, lines);
    const { report, kinds } = await check(dir);
    expect(kinds).toEqual([['line-edited', runA[1], [at, at + 1]]]);
    expect(report.authenticated).toBe(false);
  });

  it('a changed line just before a seal', async () => {
    const dir = copy();
    const file = fileOf(dir, runA[0]!);
    const lines = linesOf(file);
    const at = lines.findIndex((l, i) => l.includes('"t":"span"') && lines[i + 1]?.includes('"t":"seal"')) + 1;
    lines[at - 1] = lines[at - 1]!.replace('"name":"', '"name":"x');
    writeLines(file, lines);
    expect((await check(dir)).kinds).toEqual([['seal-mismatch', runA[0], [at, at + 1]]]);
  });

  it('a deleted line', async () => {
    const dir = copy();
    const file = fileOf(dir, runB[0]!);
    const lines = linesOf(file);
    const at = spanLineBeforeSpan(lines);
    lines.splice(at, 1); // the span line after `at`
    writeLines(file, lines);
    const { kinds, names } = await check(dir);
    expect(kinds).toEqual([['line-gap', runB[0], [at, at + 1]]]);
    expect(names).toHaveLength(SPANS - 1);
  });

  it('a deleted file in the middle of a run', async () => {
    const dir = copy();
    rmSync(fileOf(dir, runA[1]!));
    expect((await check(dir)).kinds).toEqual([
      ['file-missing', runA[2], [1, 1]],
      ['file-missing', runA[0], undefined],
    ]);
  });

  it("a deleted file that ended a run, seen from the next run's link", async () => {
    const dir = copy();
    rmSync(fileOf(dir, runA.at(-1)!));
    expect((await check(dir)).kinds).toEqual([
      ['file-missing', runB[0], [1, 1]],
      ['file-missing', runA.at(-2), undefined],
    ]);
  });

  it("the newest file deleted, seen from its predecessor's rotation", async () => {
    const dir = copy();
    rmSync(fileOf(dir, runB.at(-1)!));
    expect((await check(dir)).kinds).toEqual([['file-missing', runB.at(-2), undefined]]);
  });

  it('a truncated tail, of the newest file and of a run that a later run continues', async () => {
    const dir = copy();
    const newest = fileOf(dir, runB.at(-1)!);
    const lines = linesOf(newest);
    writeLines(newest, lines.slice(0, -3));
    const endOfA = fileOf(dir, runA.at(-1)!);
    const a = linesOf(endOfA);
    writeLines(endOfA, a.slice(0, -2));
    const { kinds } = await check(dir);
    expect(kinds).toEqual([
      ['unsealed-tail', runA.at(-1), expect.any(Array)],
      ['unsealed-tail', runB.at(-1), expect.any(Array)],
      ['tail-missing', runA.at(-1), undefined],
    ]);
    // Cutting in the middle of a line leaves a torn line: a problem, and still an unsealed tail.
    const dir2 = copy();
    const f = fileOf(dir2, runB.at(-1)!);
    truncateSync(f, readFileSync(f).length - 10);
    const t = openTrail(dir2, { sealKeys: [seal.publicKey] });
    for await (const _ of t) void _;
    expect(t.problems.map((p) => p.kind)).toEqual(['torn']);
    expect(t.seals.findings.map((x) => x.kind)).toEqual(['unsealed-tail']);
  });

  it('re-sealed with another key after an edit: an unknown key, never authenticated', async () => {
    const dir = copy();
    reseal(dir, intruder.privateKey, sealKeyId(intruder.publicKey), (lines) => {
      const i = lines.findIndex((l) => l.t === 'span');
      (lines[i]!.attributes as Record<string, unknown>).i = 999;
    });
    const { report, kinds } = await check(dir);
    // One finding per file, each naming the stranger's key; nothing is verified.
    expect(kinds).toEqual([...runA, ...runB].map((f) => ['unknown-key', f, expect.any(Array)]));
    expect(report.findings[0]!.message).toContain(sealKeyId(intruder.publicKey));
    expect([report.verifiedLines, report.authenticated]).toEqual([0, false]);
    // Without a trusted key to check against, the rewrite is structurally perfect: only a key proves.
    const blind = await check(dir, []);
    expect([blind.kinds, blind.report.authenticated]).toEqual([[], false]);
  });

  it("re-sealed with another key under the collector's key id: bad signatures", async () => {
    const dir = copy();
    reseal(dir, intruder.privateKey, sealKeyId(seal.publicKey), (lines) => {
      lines.splice(lines.findIndex((l) => l.t === 'span'), 1);
    });
    const { kinds, report } = await check(dir);
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds.map((k) => k[0]))).toEqual(new Set(['bad-signature']));
    expect(report.verifiedLines).toBe(0);
  });

  it('a run rewritten as v1 lines (no chain) after chained files', async () => {
    const dir = copy();
    for (const f of runB) {
      const records = (await readTrail(dir)).entries.filter((e) => path.basename(e.file) === f).map((e) => e.record);
      writeFileSync(fileOf(dir, f), records.map((r) => formatRecord(r.receivedAt, r)).join(''));
    }
    const { kinds, report, names } = await check(dir);
    expect(names).toHaveLength(SPANS);
    expect(kinds).toEqual(runB.map((f) => ['legacy-after-chain', f, undefined]));
    expect(report.legacyLines).toBe(12);
    expect(report.authenticated).toBe(false);
  });
});

describe('a collector that stops without closing', () => {
  it('leaves an unsealed tail after SIGKILL, which the next run warns about and links to', async () => {
    const dir = path.join(work, 'killed');
    const c = await startCliCollector(dir, ['--seal-key', path.join(work, 'seal.key'), '--seal-every', '5', '--seal-interval-ms', '60000']);
    // Lines 1-6 end in a count seal, 7-15 too; 16-19 come after it.
    for (let i = 0; i < 4; i++) expect((await post(c.tracesUrl, jsonRequest(3, `k${i}`), JSON_HEADERS)).status).toBe(200);
    c.proc.kill('SIGKILL');
    await c.exited;
    const first = (await listTrailFiles(dir))[0]!;
    const lines = linesOf(first);
    const lastSeal = lines.map((l) => l.includes('"t":"seal"')).lastIndexOf(true) + 1;
    let r = await check(dir);
    expect(r.names).toHaveLength(12);
    expect([lastSeal, lines.length]).toEqual([15, 19]);
    expect(r.kinds).toEqual([['unsealed-tail', path.basename(first), [lastSeal + 1, lines.length]]]);
    expect(r.report.verifiedLines).toBe(lastSeal);

    const d = await startCliCollector(dir, ['--seal-key', path.join(work, 'seal.key')]);
    await new Promise((res) => setTimeout(res, 100));
    expect(d.stderr()).toContain(`${path.basename(first)}, has no closing seal: the collector that wrote it was killed`);
    expect((await post(d.tracesUrl, jsonRequest(1, 'after'), JSON_HEADERS)).status).toBe(200);
    await stopCli(d);
    r = await check(dir);
    expect(r.names).toHaveLength(13);
    // The crash stays visible; the new run's link to what the crash left verifies.
    expect(r.kinds).toEqual([['unsealed-tail', path.basename(first), [lastSeal + 1, lines.length]]]);
  });
});

describe('without --seal-key', () => {
  it('says the files are not sealed, still chains them, and never calls them authenticated', async () => {
    const dir = path.join(work, 'unsealed');
    const c = await startCliCollector(dir);
    await new Promise((res) => setTimeout(res, 100));
    expect(c.stderr()).toContain('no --seal-key: lines are chained but the files are not sealed');
    expect((await post(c.tracesUrl, jsonRequest(4, 'u'), JSON_HEADERS)).status).toBe(200);
    await stopCli(c);
    const file = (await listTrailFiles(dir))[0]!;
    const lines = linesOf(file);
    expect(lines.map((l) => (JSON.parse(l) as { t: string }).t)).toEqual(['open', 'resource', 'span', 'span', 'span', 'span', 'seal']);
    expect(lines.at(-1)).not.toContain('"sig"');
    let r = await check(dir);
    expect(r.report).toEqual({ chainedLines: 7, sealedLines: 0, verifiedLines: 0, legacyLines: 0, authenticated: false, findings: [] });
    lines[3] = lines[3]!.replace('"u-1"', '"u-9"');
    writeLines(file, lines);
    r = await check(dir);
    expect(r.kinds).toEqual([['line-edited', path.basename(file), [4, 5]]]);
  });
});

type Line = Record<string, unknown> & { t: string; n: number; p: string };

/**
 * What an intruder with write access to the folder (and the agent's keys, and their own Ed25519
 * key) can do: edit, renumber, recompute every `p` and sign every seal again.
 */
function reseal(dir: string, key: KeyObject, keyId: string, edit: (lines: Line[]) => void): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort(byTrailOrder);
  const last = new Map<string, { hash: string; n: number }>();
  for (const f of files) {
    const lines = linesOf(path.join(dir, f)).map((l) => JSON.parse(l) as Line);
    if (f === files[0]) edit(lines);
    let prev: string | undefined;
    const open = lines[0]!;
    const before = open.prev ? last.get((open.prev as { file: string }).file)! : undefined;
    // Numbering goes on within a run, and starts again at 1 with the next run.
    let n = before && (open.file as number) > 1 ? before.n + 1 : 1;
    if (before && open.prev) (open.prev as { n?: number }).n = before.n;
    const out: string[] = [];
    for (const l of lines) {
      l.n = n++;
      l.p = prev === undefined ? (before?.hash ?? GENESIS_HASH) : createHash('sha256').update(prev).digest('hex');
      if (l.t === 'open') l.key = keyId;
      if (l.t === 'seal') {
        l.key = keyId;
        l.sig = sign(null, sealMessage({ chain: l.chain as string, n: l.n, p: l.p, why: l.why as SealReason, at: l.at as string }), key).toString('base64');
      }
      prev = JSON.stringify(l);
      out.push(prev);
    }
    writeLines(path.join(dir, f), out);
    last.set(f, { hash: createHash('sha256').update(prev!).digest('hex'), n: n - 1 });
  }
}

function byTrailOrder(a: string, b: string): number {
  const pa = /spans-(\d{8}T\d{6})-(\d+)-(\d+)/.exec(a)!;
  const pb = /spans-(\d{8}T\d{6})-(\d+)-(\d+)/.exec(b)!;
  return pa[1]! < pb[1]! ? -1 : pa[1]! > pb[1]! ? 1 : Number(pa[2]) - Number(pb[2]) || Number(pa[3]) - Number(pb[3]);
}
