import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callSpan, writeTrail } from './report-fixture.js';
import { cleanup, runCli, tempDir } from './helpers.js';

afterEach(cleanup);

async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = runCli(args);
  const { code } = await r.exited;
  return { code, out: r.stdout(), err: r.stderr() };
}

async function samePolicy(): Promise<string> {
  const file = path.join(await tempDir(), 'same.yaml');
  await writeFile(file, 'id: cand\ndefault: allow\nrules: []\n');
  return file;
}

/** A trail of one allowed call, its last file ending in a torn line. */
async function tornTrail(): Promise<string> {
  const dir = await tempDir();
  await writeTrail(dir, [callSpan({ tool: 'lookup', at: Date.now() - 60_000, runId: 'r1', principal: 'user:a', agent: 'bot' })]);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jsonl')).sort();
  await appendFile(path.join(dir, files[files.length - 1]!), '{"v":2,"t":"span","cut short');
  return dir;
}

const lastLine = (s: string): string => s.trimEnd().split('\n').pop() ?? '';

describe('policy test says the replay is incomplete when the trail was not read whole', () => {
  it('a missing folder: exit 1, no OK', async () => {
    const r = await cli(['policy', 'test', '--policy', await samePolicy(), '--trail', path.join(await tempDir(), 'no-such')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^tooltrail policy test: no such folder: .*no-such\n$/);
    expect(r.out).not.toMatch(/OK/);
  });

  it('a file given as the folder: exit 1, INCOMPLETE', async () => {
    const file = await samePolicy();
    const r = await cli(['policy', 'test', '--policy', file, '--trail', file]);
    expect(r.code).toBe(1);
    expect(r.out).not.toMatch(/^OK/m);
    expect(lastLine(r.out)).toMatch(/^INCOMPLETE: 1 problem\(s\) reading the source/);
  });

  it('a failed Jaeger query: exit 1, INCOMPLETE, and --json says so', async () => {
    const pol = await samePolicy();
    const r = await cli(['policy', 'test', '--policy', pol, '--jaeger', 'http://127.0.0.1:1', '--service', 'x', '--since', '1h']);
    expect(r.code).toBe(1);
    expect(r.out).not.toMatch(/^OK/m);
    expect(lastLine(r.out)).toMatch(/^INCOMPLETE: \d+ problem\(s\) reading the source/);
    const j = await cli(['policy', 'test', '--policy', pol, '--jaeger', 'http://127.0.0.1:1', '--service', 'x', '--since', '1h', '--json']);
    expect(j.code).toBe(1);
    const doc = JSON.parse(j.out) as { exitCode: number; complete: boolean };
    expect(doc.exitCode).toBe(1);
    expect(doc.complete).toBe(false);
  });

  it('a torn line: exit 1 as report does, the call that was read is still replayed', async () => {
    const dir = await tornTrail();
    const r = await cli(['policy', 'test', '--policy', await samePolicy(), '--trail', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/1 call\(s\) in 1 record\(s\)/);
    expect(r.out).toMatch(/torn/);
    expect(lastLine(r.out)).toBe('INCOMPLETE: 1 problem(s) reading the source (listed above): the replay covers only what was read; of that, every call is decided as recorded.');
    const rep = await cli(['report', '--trail', dir]);
    expect(rep.code).toBe(1);
  });

  it('a whole trail still ends OK with exit 0', async () => {
    const dir = await tempDir();
    await writeTrail(dir, [callSpan({ tool: 'lookup', at: Date.now() - 60_000, runId: 'r1', principal: 'user:a', agent: 'bot' })]);
    const r = await cli(['policy', 'test', '--policy', await samePolicy(), '--trail', dir]);
    expect(r.code).toBe(0);
    expect(lastLine(r.out)).toBe('OK: the candidate decides every call as recorded.');
  });

  it('report: a file given as the folder exits 1 with the problem', async () => {
    const file = await samePolicy();
    const r = await cli(['report', '--trail', file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/warning: 1 problem\(s\) reading the source/);
  });
});
