import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import * as policyApi from '../../core/src/entries/policy.js';
import { loadCandidate } from '../src/review/replay/candidate.js';
import { replayCall } from '../src/review/replay/replay.js';
import { readReplayCalls } from '../src/review/replay/source.js';
import { ReplayTally, sortVerdicts } from '../src/review/replay/summary.js';
import { demoTrail } from './demo-trail.js';
import { binPath, cleanup, tempDir } from './helpers.js';

afterEach(cleanup);
const run = promisify(execFile);
const here = import.meta.dirname;
const root = path.resolve(here, '../../..');
// The cli's bin loads core's policy module from core's dist, which the integrator builds.
const coreHasPolicy = existsSync(path.join(root, 'packages/core/dist/policy.js'));

// The security team's candidate for the quickstart's support agent: mail stays inside the
// company, exports are off, a look-up of one customer id asks first.
const CANDIDATE = `id: support-agent
default: allow
rules:
  - id: mail-inside-company
    tools: ["send_email"]
    when: "facts.emails.exists(e, e.domain != 'acme-support.example')"
    decide: deny
    reason: mail leaves acme-support.example
  - id: no-export
    tools: ["export_*"]
    decide: deny
  - id: vip-lookup
    tools: ["lookup_customer"]
    when: "args.customer_id == 'C-0001'"
    decide: ask
`;

describe('policy test on the quickstart demo trail', () => {
  it('finds the export the candidate denies, and cannot decide the mails: their recipients are masked', async () => {
    const trail = await demoTrail();
    const dir = await tempDir();
    const file = path.join(dir, 'candidate.yaml');
    await writeFile(file, CANDIDATE);
    const candidate = loadCandidate(policyApi, file);
    const tally = new ReplayTally(() => true);
    for await (const call of readReplayCalls({ kind: 'dir', dir: trail }, {})) tally.add(replayCall(candidate, call));
    const list = sortVerdicts(tally.listed);
    const rows = list.map((v) => [v.kind, v.call.tool, v.recorded.kind, v.recorded.rule ?? null, v.candidate?.kind ?? null, v.needed?.paths.includes('to') ?? null]);
    expect(rows).toEqual([
      ['differs', 'export_customers', 'allow', null, 'deny', null],
      ['undecidable', 'send_email', 'allow', null, null, true],
      // The injected exfiltration: denied by the agent's code rule, its recipient a keyed token in the record.
      ['undecidable', 'send_email', 'deny', 'mail.internal-only', null, true],
      ['undecidable', 'send_email', 'allow', null, null, true],
      ['same', 'list_open_tickets', 'allow', null, 'allow', null],
      ['same', 'lookup_customer', 'allow', null, 'allow', null],
    ]);
    // facts.emails is computed from every string argument: the masked recipient, and whatever the body's masking hid.
    for (const v of list.filter((x) => x.kind === 'undecidable')) {
      expect(v.needed?.causes).toEqual(['masked']);
      expect(v.needed?.kinds).toContain('email');
    }
    expect(list.every((v) => v.call.agentName === 'support-bot' && v.call.principalId === 'user:4711')).toBe(true);
    expect(tally.exitCode()).toBe(1);

    // The command itself, once core's dist has the policy module.
    if (!coreHasPolicy || !existsSync(binPath)) {
      console.log('policy-demo: packages/core/dist/policy.js or the cli build is missing: the bin run is skipped (see /work/issue13-requests/F.md)');
      return;
    }
    const res = await run(process.execPath, [binPath, 'policy', 'test', '--policy', file, '--trail', trail]).catch((e: { code: number; stdout: string }) => e);
    expect((res as { code?: number }).code).toBe(1);
    const out = (res as { stdout: string }).stdout;
    expect(out).toMatch(/decided differently\s+1\s+allow→deny 1/);
    expect(out).toMatch(/cannot decide\s+3\s+masked 3/);
    expect(out).toMatch(/cannot decide: masked (body, )?to \[email/);
    const json = await run(process.execPath, [binPath, 'policy', 'test', '--policy', file, '--trail', trail, '--json']).catch((e: { stdout: string }) => e);
    const doc = JSON.parse((json as { stdout: string }).stdout) as { summary: { differs: number; undecidable: number }; exitCode: number };
    expect(doc).toMatchObject({ summary: { differs: 1, undecidable: 3 }, exitCode: 1 });
  }, 120_000);
});

describe.skipIf(!coreHasPolicy)('tooltrail policy (the bin)', () => {
  it('check: prints id and version of a valid file, lists every problem of a bad one (exit 1), bad command lines exit 2', async () => {
    const dir = await tempDir();
    const good = path.join(dir, 'p.json');
    await writeFile(good, JSON.stringify({ id: 'p1', default: 'deny', rules: [{ id: 'r', tools: ['*'], decide: 'allow' }] }));
    const ok = await run(process.execPath, [binPath, 'policy', 'check', good]);
    expect(ok.stdout).toMatch(/^OK: .*p\.json: policy p1 sha256:[0-9a-f]{64} \(1 rule\(s\)\)\n$/);
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, 'id: "x y"\ndefault: maybe\nrules: []\nextra: 1\n');
    const no = await run(process.execPath, [binPath, 'policy', 'check', bad]).catch((e: { code: number; stdout: string }) => e);
    expect((no as { code: number }).code).toBe(1);
    expect((no as { stdout: string }).stdout).toMatch(/^NOT VALID: .*bad\.yaml: [3-9] problem\(s\)/);
    await mkdir(path.join(dir, 't'));
    for (const args of [['policy'], ['policy', 'nope'], ['policy', 'check'], ['policy', 'test'], ['policy', 'test', '--policy', good, '--trail', 'a', '--jaeger', 'http://x'], ['policy', 'test', '--policy', good, '--jaeger', 'http://x'], ['policy', 'test', '--policy', good, '--since', 'yesterday'], ['policy', 'test', '--policy', good, '--limit', '-1'], ['policy', 'test', '--bogus']]) {
      const r = await run(process.execPath, [binPath, ...args]).catch((e: { code: number }) => e);
      expect((r as { code?: number }).code, args.join(' ')).toBe(2);
    }
    // No call in the source: not OK (a wrong folder, service or range would pass every candidate).
    const empty = await run(process.execPath, [binPath, 'policy', 'test', '--policy', good, '--trail', path.join(dir, 't')]).catch((e: { code: number; stdout: string }) => e);
    expect((empty as { code?: number }).code).toBe(1);
    expect((empty as { stdout: string }).stdout.trimEnd().split('\n').pop()).toBe('NO CALLS: no tool call was read from the source in this range: the candidate was tested on nothing.');
    expect((empty as { stdout: string }).stdout).not.toContain('OK:');
  });
});
