import { appendFile, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJsonRequest } from '../src/collector/otlp-json.js';
import { formatRecord } from '../src/trail/record.js';
import { listTrailFiles, openTrail, parseTrailText, readTrail, type TrailEntry } from '../src/trail/reader.js';
import { TRAIL_FILE_PATTERN, TrailWriter, trailFileName } from '../src/trail/writer.js';
import { cleanup, jsonRequest, tempDir } from './helpers.js';

afterEach(cleanup);

/** `n` record lines, as one request's worth. */
function lines(n: number, prefix: string, pad = ''): string {
  const at = '2025-01-01T00:00:00.000Z';
  return decodeJsonRequest(jsonRequest(n, prefix, pad))
    .map((s) => formatRecord(at, s))
    .join('');
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
    await w.append(lines(2, 'x'));
    await w.close();
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(TRAIL_FILE_PATTERN);
    expect(files[0]).toContain(`-${process.pid}-1.jsonl`);
  });

  it('keeps each append contiguous when many run at once', async () => {
    const dir = await tempDir();
    const w = new TrailWriter({ dir });
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.append(lines(20, `req${i}`))));
    await w.close();
    const { records, problems } = await readTrail(dir);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(1000);
    for (let i = 0; i < 1000; i += 20) {
      const prefix = records[i]!.name.split('-')[0];
      expect(records.slice(i, i + 20).map((r) => r.name)).toEqual(Array.from({ length: 20 }, (_, j) => `${prefix}-${j}`));
    }
  });

  it('rotates past maxFileBytes without splitting an append, and never rewrites a file', async () => {
    const dir = await tempDir();
    const chunk = lines(3, 'r', 'x'.repeat(100));
    const size = Buffer.byteLength(chunk);
    const w = new TrailWriter({ dir, maxFileBytes: size * 2 + 10 });
    for (let i = 0; i < 5; i++) await w.append(chunk);
    const firstFile = w.files[0]!;
    const before = await readFile(firstFile, 'utf8');
    // One append larger than the limit still goes whole into a file of its own.
    await w.append(chunk.repeat(3));
    await w.append(chunk);
    await w.close();
    expect(await readFile(firstFile, 'utf8')).toBe(before);
    const sizes = await Promise.all(w.files.map(async (f) => (await stat(f)).size));
    expect(sizes).toEqual([2 * size, 2 * size, size, 3 * size, size]);
    expect(w.files.map((f) => path.basename(f).replace(/^spans-\d{8}T\d{6}-\d+-/, ''))).toEqual(['1.jsonl', '2.jsonl', '3.jsonl', '4.jsonl', '5.jsonl']);
    const trail = await readTrail(dir);
    expect(trail.files).toEqual(w.files);
    expect(trail.records).toHaveLength(3 * 9);
  });

  it('never appends to a file it did not create', async () => {
    const dir = await tempDir();
    const now = new Date('2025-01-01T00:00:00Z');
    const taken = path.join(dir, trailFileName(now, process.pid, 1));
    await writeFile(taken, 'someone else\n');
    const w = new TrailWriter({ dir, now: () => now });
    await w.append(lines(1, 'mine'));
    await w.close();
    expect(await readFile(taken, 'utf8')).toBe('someone else\n');
    expect(w.files).toEqual([path.join(dir, trailFileName(now, process.pid, 2))]);
  });

  it('refuses appends after close', async () => {
    const w = new TrailWriter({ dir: await tempDir() });
    await w.close();
    await expect(w.append(lines(1, 'late'))).rejects.toThrow(/closed/);
  });

  it('reports write failures to the caller and carries on in a new file', async () => {
    const dir = await tempDir();
    const w = new TrailWriter({ dir });
    await w.append(lines(1, 'a'));
    // Break the open file handle underneath the writer.
    const file = (w as unknown as { file: { handle: { close(): Promise<void> } } }).file;
    await file.handle.close();
    await expect(w.append(lines(1, 'b'))).rejects.toThrow();
    await w.append(lines(1, 'c'));
    await w.close();
    expect(w.files).toHaveLength(2);
    expect((await readTrail(dir)).records.map((r) => r.name)).toEqual(['a-0', 'c-0']);
  });
});

describe('readTrail', () => {
  it('returns every record, and reports a torn last line instead of failing', async () => {
    const dir = await tempDir();
    const w = new TrailWriter({ dir });
    await w.append(lines(3, 'ok'));
    await w.close();
    const file = w.files[0]!;
    const full = lines(1, 'torn');
    await appendFile(file, full.slice(0, 40));
    const trail = await readTrail(dir);
    expect(trail.records.map((r) => r.name)).toEqual(['ok-0', 'ok-1', 'ok-2']);
    expect(trail.problems).toEqual([{ file, line: 4, kind: 'torn', message: expect.stringContaining('40 bytes without a line end') }]);
    expect(trail.entries.map((e) => e.line)).toEqual([1, 2, 3]);
    expect(trail.entries[0]!.raw + '\n').toBe(lines(3, 'ok').split('\n')[0] + '\n');
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
