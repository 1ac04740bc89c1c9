import { createHash, generateKeyPairSync } from 'node:crypto';
import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJsonRequest } from '../src/collector/otlp-json.js';
import { formatRecord } from '../src/trail/record.js';
import { listTrailFiles, openTrail, parseTrailText, readTrail, readTrailSync, type TrailEntry } from '../src/trail/reader.js';
import { requestLines } from '../src/trail/request-lines.js';
import { TRAIL_FILE_PATTERN, TrailWriter, trailFileName } from '../src/trail/writer.js';
import { cleanup, jsonRequest, tempDir } from './helpers.js';

afterEach(cleanup);

/** `n` record lines, as v1 text (what older collectors wrote). */
function lines(n: number, prefix: string, pad = ''): string {
  const at = '2025-01-01T00:00:00.000Z';
  return decodeJsonRequest(jsonRequest(n, prefix, pad))
    .map((s) => formatRecord(at, s))
    .join('');
}

/** One request's worth of `n` spans, as the collector hands them to the writer. */
function req(n: number, prefix: string, pad = '', writer?: string) {
  return requestLines(decodeJsonRequest(jsonRequest(n, prefix, pad)), '2025-01-01T00:00:00.000Z', writer);
}

async function fileLines(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('TrailWriter', () => {
  it('names files spans-<UTC stamp>-<pid>-<n>.jsonl', () => {
    expect(trailFileName(new Date('2025-03-04T05:06:07.890Z'), 123, 7)).toBe('spans-20250304T050607-123-7.jsonl');
  });

  it('creates the folder, and no file until there is something to write', async () => {
    const dir = path.join(await tempDir(), 'a', 'b');
    const w = new TrailWriter({ dir });
    await w.init();
    expect(await readdir(dir)).toEqual([]);
    await w.append(req(2, 'x'));
    await w.close();
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(TRAIL_FILE_PATTERN);
    expect(files[0]).toContain(`-${process.pid}-1.jsonl`);
    // open, the resource once, two spans, the closing seal.
    expect((await fileLines(path.join(dir, files[0]!))).map((l) => [l.v, l.t, l.n])).toEqual([
      [2, 'open', 1],
      [2, 'resource', 2],
      [2, 'span', 3],
      [2, 'span', 4],
      [2, 'seal', 5],
    ]);
  });

  it('keeps each append contiguous when many run at once', async () => {
    const dir = await tempDir();
    const w = new TrailWriter({ dir });
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.append(req(20, `req${i}`))));
    await w.close();
    const { records, problems } = await readTrail(dir);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(1000);
    for (let i = 0; i < 1000; i += 20) {
      const prefix = records[i]!.name.split('-')[0];
      expect(records.slice(i, i + 20).map((r) => r.name)).toEqual(Array.from({ length: 20 }, (_, j) => `${prefix}-${j}`));
    }
  });

  it('rotates past maxFileBytes without splitting an append, sealing each file and linking the next to it', async () => {
    const dir = await tempDir();
    const chunk = req(3, 'r', 'x'.repeat(100));
    const w = new TrailWriter({ dir, maxFileBytes: Math.floor(chunk.bytes * 2.5) });
    for (let i = 0; i < 5; i++) await w.append(chunk);
    const firstFile = w.files[0]!;
    // One append larger than the limit still goes whole into a file of its own.
    const big = req(9, 'big', 'x'.repeat(100));
    await w.append(big);
    const before = await readFile(firstFile, 'utf8');
    await w.append(chunk);
    await w.close();
    expect(await readFile(firstFile, 'utf8')).toBe(before);
    expect(w.files.map((f) => path.basename(f).replace(/^spans-\d{8}T\d{6}-\d+-/, ''))).toEqual(['1.jsonl', '2.jsonl', '3.jsonl', '4.jsonl', '5.jsonl']);
    const perFile = await Promise.all(w.files.map(fileLines));
    expect(perFile.map((ls) => ls.filter((l) => l.t === 'span').length)).toEqual([6, 6, 3, 9, 3]);
    expect(perFile.map((ls) => [ls[0]!.t, ls[0]!.file, ls.at(-1)!.t, ls.at(-1)!.why])).toEqual([
      ['open', 1, 'seal', 'rotate'],
      ['open', 2, 'seal', 'rotate'],
      ['open', 3, 'seal', 'rotate'],
      ['open', 4, 'seal', 'rotate'],
      ['open', 5, 'seal', 'close'],
    ]);
    // Numbering runs on across files; each open line names the file before it.
    const all = perFile.flat();
    expect(all.map((l) => l.n)).toEqual(all.map((_, i) => i + 1));
    expect(perFile.slice(1).map((ls) => (ls[0]!.prev as { file: string }).file)).toEqual(w.files.slice(0, 4).map((f) => path.basename(f)));
    const trail = openTrail(dir);
    let count = 0;
    for await (const _ of trail) count++;
    expect(count).toBe(27);
    expect(trail.seals.findings).toEqual([]);
    expect(trail.seals.chainedLines).toBe(all.length);
  });

  it('never appends to a file it did not create, and links its first file to the newest one there', async () => {
    const dir = await tempDir();
    const now = new Date('2025-01-01T00:00:00Z');
    const taken = path.join(dir, trailFileName(now, process.pid, 1));
    await writeFile(taken, 'someone else\n');
    const w = new TrailWriter({ dir, now: () => now });
    await w.init();
    await w.append(req(1, 'mine'));
    await w.close();
    expect(await readFile(taken, 'utf8')).toBe('someone else\n');
    expect(w.files).toEqual([path.join(dir, trailFileName(now, process.pid, 2))]);
    const open = (await fileLines(w.files[0]!))[0]!;
    expect(open.prev).toEqual({ file: path.basename(taken) });
    expect(open.p).toBe(createHash('sha256').update('someone else').digest('hex'));
  });

  it('refuses appends after close', async () => {
    const w = new TrailWriter({ dir: await tempDir() });
    await w.close();
    await expect(w.append(req(1, 'late'))).rejects.toThrow(/closed/);
  });

  it('reports write failures to the caller and carries on in a new file linked to what is on disk', async () => {
    const dir = await tempDir();
    const errors: string[] = [];
    const w = new TrailWriter({ dir, onError: (m) => errors.push(m) });
    await w.append(req(1, 'a'));
    // Break the open file handle underneath the writer.
    const file = (w as unknown as { file: { handle: { close(): Promise<void> } } }).file;
    await file.handle.close();
    await expect(w.append(req(1, 'b'))).rejects.toThrow();
    await w.append(req(1, 'c'));
    await w.close();
    expect(w.files).toHaveLength(2);
    expect(errors).toEqual([expect.stringMatching(/failed .*continuing in a new file/)]);
    const trail = openTrail(dir);
    const names: string[] = [];
    for await (const e of trail) names.push(e.record.name);
    expect(names).toEqual(['a-0', 'c-0']);
    // The first file could not be closed: the reader says so, and nothing else is wrong.
    expect(trail.seals.findings.map((f) => [f.kind, path.basename(f.file ?? ''), f.lines])).toEqual([['unsealed-tail', path.basename(w.files[0]!), [1, 3]]]);
  });

  it('seals every sealEvery lines and sealIntervalMs after the first unsealed line', async () => {
    const dir = await tempDir();
    const key = generateKeyPairSync('ed25519');
    const w = new TrailWriter({ dir, sealKey: key.privateKey, sealEvery: 10, sealIntervalMs: 150 });
    await w.append(req(12, 'a')); // open + resource + 12 spans = 14 lines: a count seal after them
    await w.append(req(1, 'b'));
    await new Promise((r) => setTimeout(r, 400));
    await w.close();
    const ls = await fileLines(w.files[0]!);
    expect(ls.filter((l) => l.t === 'seal').map((l) => [l.n, l.why])).toEqual([
      [15, 'count'],
      [18, 'time'],
      [19, 'close'],
    ]);
    const trail = openTrail(dir, { sealKeys: [key.publicKey] });
    for await (const _ of trail) void _;
    expect(trail.seals).toEqual({ chainedLines: 19, sealedLines: 19, verifiedLines: 19, legacyLines: 0, authenticated: true, findings: [] });
  });

  it('records the writer with the resource, once per request, and the reader gives it to every span', async () => {
    const dir = await tempDir();
    const w = new TrailWriter({ dir });
    await w.append(req(3, 'a', '', 'agent-a'));
    await w.append(req(2, 'b', '', 'agent-b'));
    await w.close();
    const ls = await fileLines(w.files[0]!);
    expect(ls.filter((l) => l.t === 'resource').map((l) => l.writer)).toEqual(['agent-a', 'agent-b']);
    const trail = openTrail(dir);
    const seen: [string, string | undefined][] = [];
    for await (const e of trail) seen.push([e.record.name, e.writer]);
    expect(seen).toEqual([
      ['a-0', 'agent-a'],
      ['a-1', 'agent-a'],
      ['a-2', 'agent-a'],
      ['b-0', 'agent-b'],
      ['b-1', 'agent-b'],
    ]);
  });
});

describe('readTrail', () => {
  it('returns every record, and reports a torn last line instead of failing', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'spans-20250101T000000-1-1.jsonl');
    await writeFile(file, lines(3, 'ok'));
    await appendFile(file, lines(1, 'torn').slice(0, 40));
    const trail = await readTrail(dir);
    expect(trail.records.map((r) => r.name)).toEqual(['ok-0', 'ok-1', 'ok-2']);
    expect(trail.problems).toEqual([{ file, line: 4, kind: 'torn', message: expect.stringContaining('40 bytes without a line end') }]);
    expect(trail.entries.map((e) => e.line)).toEqual([1, 2, 3]);
    expect(trail.entries[0]!.raw + '\n').toBe(lines(3, 'ok').split('\n')[0] + '\n');
  });

  it('reads v2 files the same as v1 ones: v1-shaped records, the same fields', async () => {
    const dir = await tempDir();
    const w = new TrailWriter({ dir });
    await w.append(req(3, 'same', 'p'));
    await w.close();
    const v1 = parseTrailText('/v1.jsonl', lines(3, 'same', 'p')).entries.map((e) => e.record);
    expect((await readTrail(dir)).records).toEqual(v1);
    expect(readTrailSync(dir).records).toEqual(v1);
  });

  it('reports malformed lines and keeps reading', () => {
    const good = lines(2, 'g').split('\n');
    const text = [good[0], '{"not":"a record"}', 'garbage', good[1], ''].join('\n');
    const { entries, problems } = parseTrailText('/f.jsonl', text);
    expect(entries.map((e) => [e.line, e.record.name])).toEqual([
      [1, 'g-0'],
      [4, 'g-1'],
    ]);
    expect(problems.map((p) => [p.line, p.kind])).toEqual([
      [2, 'malformed'],
      [3, 'malformed'],
    ]);
  });

  it('orders files by time, process and number, ignores other files, and treats a missing folder as empty', async () => {
    const dir = await tempDir();
    const names = ['spans-20250101T000000-5-10.jsonl', 'spans-20250101T000000-5-9.jsonl', 'spans-20241231T235959-900-1.jsonl', 'notes.txt', 'spans-x.jsonl'];
    for (const n of names) await writeFile(path.join(dir, n), '');
    expect((await listTrailFiles(dir)).map((f) => path.basename(f))).toEqual([
      'spans-20241231T235959-900-1.jsonl',
      'spans-20250101T000000-5-9.jsonl',
      'spans-20250101T000000-5-10.jsonl',
    ]);
    expect(await readTrail(path.join(dir, 'nope'))).toEqual({ files: [], records: [], entries: [], problems: [] });
  });
});

describe('openTrail (v1 lines)', () => {
  it('streams every record of every file, counts v1 lines as legacy, and reports torn and malformed lines', async () => {
    const dir = await tempDir();
    const good = lines(3, 'a').split('\n');
    await writeFile(path.join(dir, 'spans-20250101T000000-1-1.jsonl'), `${good[0]}\ngarbage\n${good[1]}\n`);
    await writeFile(path.join(dir, 'spans-20250101T000001-1-1.jsonl'), `${good[2]}\n${good[0]!.slice(0, 30)}`);
    const stream = openTrail(dir);
    const seen: TrailEntry[] = [];
    for await (const e of stream) seen.push(e);
    expect(seen.map((e) => [path.basename(e.file), e.line, e.record.name, e.writer])).toEqual([
      ['spans-20250101T000000-1-1.jsonl', 1, 'a-0', undefined],
      ['spans-20250101T000000-1-1.jsonl', 3, 'a-1', undefined],
      ['spans-20250101T000001-1-1.jsonl', 1, 'a-2', undefined],
    ]);
    expect(seen[0]!.raw).toBe(good[0]);
    expect(stream.problemCount).toBe(2);
    expect(stream.problems.map((p) => [path.basename(p.file), p.line, p.kind])).toEqual([
      ['spans-20250101T000000-1-1.jsonl', 2, 'malformed'],
      ['spans-20250101T000001-1-1.jsonl', 2, 'torn'],
    ]);
    expect(stream.seals).toEqual({ chainedLines: 0, sealedLines: 0, verifiedLines: 0, legacyLines: 3, authenticated: false, findings: [] });
  });

  it('finds lines across chunk boundaries with their exact bytes', async () => {
    const dir = await tempDir();
    const text = lines(200, 'chunk', 'x'.repeat(20_000));
    await writeFile(path.join(dir, 'spans-20250101T000000-1-1.jsonl'), text);
    let progress = 0;
    const stream = openTrail(dir, { onProgress: (b) => (progress = b) });
    const raws: string[] = [];
    for await (const e of stream) raws.push(e.raw);
    expect(raws.map((r) => `${r}\n`).join('')).toBe(text);
    expect(progress).toBe(Buffer.byteLength(text));
    expect(stream.problemCount).toBe(0);
  });
});
