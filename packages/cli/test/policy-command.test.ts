import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError, type Io } from '../src/commands/io.js';
import { policy } from '../src/commands/policy.js';
import { CANDIDATE_YAML } from './policy-fixture.js';
import { callSpan, writeTrail } from './report-fixture.js';
import { cleanup, tempDir } from './helpers.js';

// The command loads core's policy module on use; here it is core's sources (core's dist is the integrator's to build).
vi.mock('@tooltrail/core/policy', () => import('../../core/src/entries/policy.js'));

afterEach(cleanup);

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), errIsTTY: false };
  try {
    return { code: await policy(args, io), out, err };
  } catch (e) {
    if (e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) return { code: 2, out, err: err + (e as Error).message };
    throw e;
  }
}

const T0 = Date.UTC(2026, 4, 4, 9, 0);
const base = { agent: 'support-bot', principal: 'user:4711', runId: 'run-1' };

describe('tooltrail policy (command, through sources)', () => {
  it('test: counts first, then the calls; --json; exit 1 when something differs or cannot be decided, 0 when nothing does', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'candidate.yaml');
    await writeFile(file, CANDIDATE_YAML);
    const trail = path.join(dir, 'trail');
    const big = callSpan({ ...base, tool: 'refund', at: T0 + 60_000, args: '{"amount":500}', traceId: 'a'.repeat(32) });
    await writeTrail(trail, [
      callSpan({ ...base, tool: 'refund', at: T0, args: '{"amount":5}' }),
      big,
      callSpan({ ...base, tool: 'send_email', at: T0 + 120_000, args: '{"to":"[email:3f9a1c0d2b7e]"}', traceId: 'b'.repeat(32) }),
    ]);
    const r = await cli(['test', '--policy', file, '--trail', trail]);
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^policy test: candidate support-agent sha256:[0-9a-f]{64} \(.*candidate\.yaml\)$/);
    expect(r.out).toMatch(/decided differently\s+1\s+allow→ask 1\n/);
    expect(r.out).toMatch(/cannot decide\s+1\s+masked 1\n/);
    expect(r.out).toMatch(/decided as recorded\s+1\n/);
    expect(r.out).toMatch(/KIND\s+TIME\s+AGENT\s+PRINCIPAL\s+TOOL\s+TRACE\s+RECORDED\s+CANDIDATE/);
    expect(r.out).toMatch(new RegExp(`differs\\s+2026-05-04T09:01:00Z\\s+support-bot\\s+user:4711\\s+refund\\s+${'a'.repeat(32)}\\s+allow \\(code\\)\\s+ask \\(big-refund\\)`));
    expect(r.out).toMatch(new RegExp(`cannot decide\\s+2026-05-04T09:02:00Z\\s+support-bot\\s+user:4711\\s+send_email\\s+${'b'.repeat(32)}\\s+allow \\(code\\)\\s+cannot decide: masked to \\[email\\]`));
    expect(r.out).toContain('DIFFERS: 1 call(s) decided differently, 1 that cannot be decided');

    const j = await cli(['test', '--policy', file, '--trail', trail, '--json']);
    const doc = JSON.parse(j.out) as { summary: Record<string, unknown>; calls: { kind: string; tool: string; traceId: string }[]; exitCode: number };
    expect(doc.exitCode).toBe(1);
    expect(doc.summary).toMatchObject({ calls: 3, same: 1, differs: 1, undecidable: 1, invalid: 0 });
    expect(doc.calls.map((c) => [c.kind, c.tool, c.traceId])).toEqual([
      ['differs', 'refund', 'a'.repeat(32)],
      ['undecidable', 'send_email', 'b'.repeat(32)],
    ]);
    // --since leaves the two later calls out: nothing differs.
    const late = await cli(['test', '--policy', file, '--trail', trail, '--until', '2026-05-04T09:00:30Z']);
    expect(late.code).toBe(0);
    expect(late.out).toContain('OK: the candidate decides every call as recorded.');
    const limited = await cli(['test', '--policy', file, '--trail', trail, '--limit', '1']);
    expect(limited.out).toContain('… 1 more (--limit 0 lists all, --json has every call)');
  });

  it('check: id and version, or every problem (exit 1); a bad candidate in test exits 2', async () => {
    const dir = await tempDir();
    const good = path.join(dir, 'p.json');
    await writeFile(good, JSON.stringify({ id: 'p1', default: 'deny', rules: [{ id: 'r', tools: ['*'], decide: 'allow' }] }));
    const ok = await cli(['check', good]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^OK: .*p\.json: policy p1 sha256:[0-9a-f]{64} \(1 rule\(s\)\)\n$/);
    expect(JSON.parse((await cli(['check', good, '--json'])).out)).toMatchObject({ valid: true, id: 'p1', rules: 1 });
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, 'id: "x y"\ndefault: maybe\nrules:\n  - id: r\n    tools: ["*"]\n    decide: deny\n    when: "args.a +"\nextra: 1\n');
    const no = await cli(['check', bad]);
    expect(no.code).toBe(1);
    expect(no.out).toMatch(/^NOT VALID: .*bad\.yaml: \d+ problem\(s\)\n(  - .+\n){3,}$/);
    expect(JSON.parse((await cli(['check', bad, '--json'])).out).problems.length).toBeGreaterThanOrEqual(3);
    const t = await cli(['test', '--policy', bad, '--trail', dir]);
    expect(t.code).toBe(2);
    expect(t.err).toContain('the candidate policy is not valid');
  });

  it('bad command lines exit 2', async () => {
    const dir = await tempDir();
    const good = path.join(dir, 'p.json');
    await writeFile(good, JSON.stringify({ id: 'p1', default: 'allow', rules: [] }));
    await mkdir(path.join(dir, 't'));
    const cases = [
      [],
      ['nope'],
      ['check'],
      ['check', 'a.yaml', 'b.yaml'],
      ['test'],
      ['test', '--policy', good, '--trail', 'a', '--jaeger', 'http://127.0.0.1:1'],
      ['test', '--policy', good, '--jaeger', 'http://127.0.0.1:1'],
      ['test', '--policy', good, '--service', 'x'],
      ['test', '--policy', good, '--since', 'yesterday'],
      ['test', '--policy', good, '--since', '1h', '--until', '2h'],
      ['test', '--policy', good, '--limit', '-1'],
      ['test', '--policy', ''],
      ['test', '--bogus'],
      ['test', '--policy', good, 'extra'],
    ];
    for (const args of cases) expect((await cli(args)).code, args.join(' ')).toBe(2);
    expect((await cli(['--help'])).code).toBe(0);
    // A good command line on an empty trail: not a usage error, and not a pass (NO CALLS, exit 1).
    expect((await cli(['test', '--policy', good, '--trail', path.join(dir, 't')])).code).toBe(1);
  });
});
