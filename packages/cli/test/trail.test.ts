import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJsonRequest } from '../src/collector/otlp-json.js';
import { formatRecord } from '../src/trail/record.js';
import { listTrailFiles, openTrail, parseTrailText, readTrail, readTrailSync, type SealReport, type TrailEntry } from '../src/trail/reader.js';
import { sealMessage } from '../src/trail/format-v2.js';
import { requestLines } from '../src/trail/request-lines.js';
import { sealKeyId } from '../src/trail/seal-key.js';
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

describe('line format v2: the test vector in docs/collector.md', () => {
  const VECTOR = [
    '{"v":2,"t":"open","n":1,"p":"0000000000000000000000000000000000000000000000000000000000000000","chain":"00112233445566778899aabbccddeeff","file":1,"at":"2025-03-04T05:06:07.000Z","key":"a050837d85070582"}',
    '{"v":2,"t":"resource","n":2,"p":"f07fd91bb559b0536821f12028f42a5b8d37c9bd721f6c00dc665412ecdaed12","r":0,"receivedAt":"2025-03-04T05:06:07.890Z","writer":"support-agent","resource":{"service.name":"support-agent"},"scopes":[{"name":"@tooltrail/core","version":"0.1.0"}]}',
    '{"v":2,"t":"span","n":3,"p":"8b6dd997db0c5dda04d375881d4a75d3af8ffea71baa58c3c75b1a4fdc16427c","r":0,"s":0,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"execute_tool send_email","kind":1,"startTimeUnixNano":"1741064767889000000","endTimeUnixNano":"1741064767890000000","attributes":{"gen_ai.tool.name":"send_email"},"events":[],"links":[],"status":{"code":1}}',
    '{"v":2,"t":"seal","n":4,"p":"7143a64238db2ae4bea4e81f13c5dc035a866a57bf438df495c4de8775cf26e2","chain":"00112233445566778899aabbccddeeff","why":"close","at":"2025-03-04T05:06:07.000Z","key":"a050837d85070582","sig":"/ZHSLjJtzBsMYG0GE2kxfHX5WM/3mCHWrgEYnaQPvgBxF7PFZ9t/x8D9O9vN0bp6L4eYFbUawJLfm8gAFNp0Dw=="}',
  ];
  const seed = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const PUBLIC = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n-----END PUBLIC KEY-----\n';

  it('the writer produces it byte for byte, and the reader authenticates it with the public key', async () => {
    const dir = await tempDir();
    const w = new TrailWriter({ dir, sealKey: key, chainId: '00112233445566778899aabbccddeeff', now: () => new Date('2025-03-04T05:06:07.000Z') });
    await w.init();
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'support-agent' } }] },
          scopeSpans: [
            {
              scope: { name: '@tooltrail/core', version: '0.1.0' },
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  name: 'execute_tool send_email',
                  kind: 1,
                  startTimeUnixNano: '1741064767889000000',
                  endTimeUnixNano: '1741064767890000000',
                  attributes: [{ key: 'gen_ai.tool.name', value: { stringValue: 'send_email' } }],
                  status: { code: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    await w.append(requestLines(decodeJsonRequest(JSON.stringify(body)), '2025-03-04T05:06:07.890Z', 'support-agent'));
    await w.close();
    expect(await readFile(w.files[0]!, 'utf8')).toBe(VECTOR.map((l) => `${l}\n`).join(''));
    // Each p is the SHA-256 of the line before; the seal signs this message.
    for (let i = 1; i < VECTOR.length; i++) expect((JSON.parse(VECTOR[i]!) as { p: string }).p).toBe(createHash('sha256').update(VECTOR[i - 1]!).digest('hex'));
    expect(sealMessage({ chain: '00112233445566778899aabbccddeeff', n: 4, p: '7143a64238db2ae4bea4e81f13c5dc035a866a57bf438df495c4de8775cf26e2', why: 'close', at: '2025-03-04T05:06:07.000Z' }).toString()).toBe(
      'tooltrail-seal-v2 00112233445566778899aabbccddeeff 4 7143a64238db2ae4bea4e81f13c5dc035a866a57bf438df495c4de8775cf26e2 close 2025-03-04T05:06:07.000Z',
    );
    expect(sealKeyId(createPublicKey(PUBLIC))).toBe('a050837d85070582');
    const t = openTrail(dir, { sealKeys: [createPublicKey(PUBLIC)] });
    const seen: TrailEntry[] = [];
    for await (const e of t) seen.push(e);
    expect(seen.map((e) => [e.line, e.writer, e.record.name, e.record.receivedAt, e.record.resource, e.record.scope])).toEqual([
      [3, 'support-agent', 'execute_tool send_email', '2025-03-04T05:06:07.890Z', { 'service.name': 'support-agent' }, { name: '@tooltrail/core', version: '0.1.0' }],
    ]);
    expect(t.seals).toEqual({ chainedLines: 4, sealedLines: 4, verifiedLines: 4, legacyLines: 0, authenticated: true, findings: [] });
  });
});

describe('openTrail on a large trail', () => {
  it('streams a 580 MiB file of a million records in bounded memory, checking its chain', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'spans-20250101T000000-1-1.jsonl');
    // Written here line by line with its chain, as a collector would (faster than through HTTP).
    const fd = openSync(file, 'w');
    let p = '0'.repeat(64);
    let n = 0;
    let chunk: string[] = [];
    let size = 0;
    const emit = (t: string, rest: string) => {
      n++;
      const line = `{"v":2,"t":"${t}","n":${n},"p":"${p}",${rest.slice(1)}`;
      p = createHash('sha256').update(line).digest('hex');
      chunk.push(line);
      size += line.length + 1;
      if (size > 8e6) {
        writeSync(fd, `${chunk.join('\n')}\n`);
        chunk = [];
        size = 0;
      }
    };
    emit('open', JSON.stringify({ chain: '00112233445566778899aabbccddeeff', file: 1, at: '2025-01-01T00:00:00.000Z' }));
    emit('resource', JSON.stringify({ r: 0, receivedAt: '2025-01-01T00:00:00.000Z', resource: { 'service.name': 'big' }, scopes: [{ name: 's' }] }));
    const pad = 'x'.repeat(280);
    for (let i = 0; i < 1_000_000; i++) {
      emit('span', `{"r":0,"s":0,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"${i.toString(16).padStart(16, '0')}","name":"t","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":{"pad":"${pad}"},"events":[],"links":[],"status":{"code":1}}`);
    }
    emit('seal', JSON.stringify({ chain: '00112233445566778899aabbccddeeff', why: 'close', at: '2025-01-01T00:00:00.000Z' }));
    writeSync(fd, `${chunk.join('\n')}\n`);
    closeSync(fd);
    expect(statSync(file).size).toBeGreaterThan(512 * 1024 * 1024);

    // Read in a process of its own, so its peak memory is its own.
    const script = `
      import { openTrail } from ${JSON.stringify(path.resolve(import.meta.dirname, '../dist/index.js'))};
      import { readFileSync } from 'node:fs';
      const t = openTrail(${JSON.stringify(dir)});
      let n = 0, last = '';
      for await (const e of t) { n++; last = e.record.spanId; }
      const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
      console.log(JSON.stringify({ n, last, problems: t.problemCount, seals: t.seals, hwm }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 50_000 });
    const r = JSON.parse(out) as { n: number; last: string; problems: number; seals: SealReport; hwm: number };
    expect([r.n, r.last, r.problems]).toEqual([1_000_000, (999_999).toString(16).padStart(16, '0'), 0]);
    expect(r.seals).toEqual({ chainedLines: 1_000_003, sealedLines: 0, verifiedLines: 0, legacyLines: 0, authenticated: false, findings: [] });
    expect(r.hwm).toBeLessThan(200);
  }, 60_000);
});
