import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// Core's sources, not its dist: the cli's build reads core's dist, which the integrator rebuilds.
import * as policyApi from '../../core/src/entries/policy.js';
import { loadCandidate, PolicyFileProblems } from '../src/review/replay/candidate.js';
import { replayCall } from '../src/review/replay/replay.js';
import { readReplayCalls } from '../src/review/replay/source.js';
import { ReplayTally, sortVerdicts } from '../src/review/replay/summary.js';
import { CANDIDATE_YAML } from './policy-fixture.js';
import { callSpan, writeTrail, type FakeCall } from './report-fixture.js';
import { cleanup, tempDir } from './helpers.js';

afterEach(cleanup);


const T0 = Date.UTC(2026, 4, 4, 9, 0);
const at = (min: number) => T0 + min * 60_000;
const base = { agent: 'support-bot', principal: 'user:4711', runId: 'run-1' };

const CALLS: [string, FakeCall][] = [
  ['mail-inside', { ...base, tool: 'send_email', at: at(1), args: '{"to":"bob@example.com","subject":"hi"}' }],
  ['mail-outside', { ...base, tool: 'send_email', at: at(2), args: '{"to":"mallory@evil.io, bob@example.com"}' }],
  ['mail-lookalike', { ...base, tool: 'send_email', at: at(3), args: '{"to":"x@example.com.evil.io"}' }],
  ['mail-hashed', { ...base, tool: 'send_email', at: at(4), args: '{"to":"[email:3f9a1c0d2b7e]","subject":"hi"}' }],
  ['mail-partial', { ...base, tool: 'send_email', at: at(5), args: '{"to":"****@example.org"}' }],
  ['refund-small', { ...base, tool: 'refund', at: at(6), args: '{"amount":50,"card":"****4242"}' }],
  ['refund-big', { ...base, tool: 'refund', at: at(7), args: '{"amount":500,"card":"****4242"}' }],
  ['refund-masked-amount', { ...base, tool: 'refund', at: at(8), args: '{"amount":"[REDACTED:sensitive]"}' }],
  ['etc-traversal', { ...base, tool: 'read_file', at: at(9), args: '{"path":"/srv/data/../../etc/passwd"}' }],
  ['etc-code-denied', { ...base, tool: 'delete_file', at: at(10), outcome: 'denied', rule: 'no-deletes', args: '{"path":"/etc/hosts"}' }],
  ['admin-masked-principal', { ...base, principal: '[email:abcdef012345]', tool: 'admin.reset', at: at(11), args: '{}' }],
  ['admin-root', { ...base, principal: 'user:root', tool: 'admin.reset', at: at(12), args: '{}' }],
  ['export', { ...base, tool: 'export_customers', at: at(13), args: '"[MASKING_FAILED]"' }],
  ['old-rule-dropped', { ...base, tool: 'lookup', at: at(14), outcome: 'denied', rule: 'lookup-off', policyId: 'support-agent', policyVersion: 'sha256:11', args: '{"id":"C-1"}' }],
  ['invalid', { ...base, tool: 'refund', at: at(15), outcome: 'invalid', args: '{"amount":"lots"}' }],
];

describe('policy test with core evaluator (sources)', () => {
  it('replays a crafted trail against a YAML candidate: exact lists', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'candidate.yaml');
    await writeFile(file, CANDIDATE_YAML);
    const candidate = loadCandidate(policyApi, file);
    expect(candidate.id).toBe('support-agent');
    expect(candidate.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    // As the auditor would record it: FilePolicy's version is the same hash.
    const loaded = policyApi.loadFilePolicy({ path: file, watch: false });
    expect(loaded.version).toBe(candidate.version);
    loaded.close();

    const trail = path.join(dir, 'trail');
    const spans = CALLS.map(([, c]) => callSpan(c));
    await writeTrail(trail, spans);
    const label = new Map(spans.map((s, i) => [s.spanId, CALLS[i]![0]]));
    const tally = new ReplayTally(() => true);
    for await (const call of readReplayCalls({ kind: 'dir', dir: trail }, {})) tally.add(replayCall(candidate, call));
    const list = sortVerdicts(tally.listed);
    const of = (kind: string) => list.filter((v) => v.kind === kind).map((v) => label.get(v.call.spanId));
    expect(of('differs')).toEqual(['mail-outside', 'mail-lookalike', 'refund-big', 'etc-traversal', 'export', 'old-rule-dropped']);
    expect(of('undecidable')).toEqual(['mail-hashed', 'mail-partial', 'refund-masked-amount', 'admin-masked-principal']);
    expect(of('invalid')).toEqual(['invalid']);
    expect(of('same')).toEqual(['mail-inside', 'refund-small', 'etc-code-denied', 'admin-root']);
    const get = (l: string) => list.find((v) => label.get(v.call.spanId) === l)!;
    expect(get('mail-outside').candidate).toMatchObject({ kind: 'deny', rule: 'mail-inside-company' });
    expect(get('etc-traversal').candidate).toMatchObject({ kind: 'deny', rule: 'etc-is-off-limits' });
    expect(get('refund-masked-amount').needed).toEqual({ causes: ['masked'], paths: ['amount'], kinds: ['sensitive'] });
    expect(get('admin-masked-principal').needed?.paths).toEqual(['run.principal.id']);
    expect(get('old-rule-dropped')).toMatchObject({ recorded: { kind: 'deny', by: 'unknown' }, candidate: { kind: 'allow' } });
    expect(tally.summary.changes).toEqual({ 'allow→deny': 4, 'allow→ask': 1, 'deny→allow': 1 });
  });

  it('lists every problem of a bad file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'id: "bad id!"\ndefault: maybe\nrules:\n  - id: r\n    tools: []\n    decide: deny\n    whenn: "true"\n');
    let err: unknown;
    try {
      loadCandidate(policyApi, file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyFileProblems);
    const problems = (err as PolicyFileProblems).problems.join('\n');
    expect((err as PolicyFileProblems).problems.length).toBeGreaterThanOrEqual(3);
    expect(problems).toMatch(/id/);
    expect(problems).toMatch(/default/);
    expect(problems).toMatch(/whenn/);
    expect(() => loadCandidate(policyApi, path.join(dir, 'policy.txt'))).toThrow(/\.json, \.yaml or \.yml/);
  });
});
