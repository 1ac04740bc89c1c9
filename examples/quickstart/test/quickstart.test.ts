import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readTrail, type TrailRecord } from '@tooltrail/cli';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);
const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');

// "How to check your own trail": run the agent, make it attempt an out-of-scope call, then
// confirm the attempt is in the record, attributed to the run, with sensitive arguments masked.
describe('the quickstart demo, end to end', () => {
  it('records the injected exfiltration attempt as denied, attributed to the run, in the collector files', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'tooltrail-demo-'));
    // A home of its own: the demo makes its keys under ~/.config/tooltrail-demo.
    const home = mkdtempSync(path.join(tmpdir(), 'tooltrail-demo-home-'));
    const { XDG_CONFIG_HOME: _x, TOOLTRAIL_DEMO_KEYS: _k, ...rest } = process.env;
    const env = { ...rest, HOME: home, INIT_CWD: cwd, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
    const { stdout } = await run(tsx, [path.resolve(here, '../src/demo.ts')], { cwd: path.resolve(here, '..'), env, timeout: 60_000 });
    const runId = /agent run ([0-9a-f-]{36}) finished: 5 ok, 1 denied, 0 failed; 12 records delivered/.exec(stdout)?.[1];
    expect(runId).toBeDefined();
    expect(stdout).toContain('mail actually sent: billing@acme-support.example, security@acme-support.example');
    // Masked by default: the refused recipient is recorded as a keyed token, not the address.
    expect(stdout).toMatch(/send_email\s+user:4711\s+refused: denied by mail\.internal-only\s+0\s+\{"to":"\[email:[0-9a-f]{12}\]"/);
    // The trace id, and the command to check it with npx.
    expect(stdout).toMatch(/\ntrace [0-9a-f]{32}\n/);
    expect(stdout).toMatch(/\nCheck it yourself: npx tooltrail verify --dir \S+ --stream [0-9a-f-]{36} --public-key /);
    expect(stdout).not.toContain('"to":"audit-archive@exfil-mail.net"');
    expect(stdout).toContain('recipient domain "exfil-mail.net" is outside acme-support.example');
    // The honest verdicts: without keys nothing is claimed; with the public keys, everything is checked.
    expect(stdout).toMatch(/\n  without keys \(exit 3\): NOT AUTHENTICATED: no findings in what was checked, but authenticity was not established: no --public-key was given/);
    expect(stdout).toContain("\n  with the public keys (exit 0): OK: 1 stream(s), verified by trusted signatures and by the collector's seals: every stream is complete and unedited\n");
    // The keys: made under ~/.config/tooltrail-demo, readable by the user alone, outside the demo's folders.
    const keys = path.join(home, '.config', 'tooltrail-demo');
    expect(stdout).toContain(`keys: ${keys} (made now with tooltrail keygen; mode 0700, only you can read them)`);
    expect(statSync(keys).mode & 0o777).toBe(0o700);
    for (const f of ['tooltrail-signing.key', 'tooltrail-seal.key', 'integrity.key', 'writer.token', 'tokens.json']) {
      expect(statSync(path.join(keys, f)).mode & 0o777, f).toBe(0o600);
    }
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [e.name]));
    expect(walk(cwd).filter((f) => /\.(key|pub|token)$|tokens\.json/.test(f))).toEqual([]);

    const trail = await readTrail(path.join(cwd, 'audit-trail'));
    expect(trail.problems).toEqual([]);
    // No customer's email, phone or card, and not the outside address, in the stored bytes.
    const stored = trail.entries.map((e) => e.raw).join('\n');
    // Every line was written for the agent's token, and no key or token is in the trail.
    expect(new Set(trail.entries.map((e) => e.writer))).toEqual(new Set(['support-agent']));
    for (const f of ['writer.token', 'integrity.key']) expect(stored).not.toContain(readFileSync(path.join(keys, f), 'utf8').trim());
    for (const secret of ['audit-archive@exfil-mail.net', 'dana.whitfield@example.org', 'ravi.menon@example.net', '+1 415 555 0134', '4111 1111 1111 1111', '5555 5555 5555 4444']) {
      expect(stored).not.toContain(secret);
    }
    const runSpan = trail.records.find((r) => r.name === 'invoke_agent support-bot' && r.attributes['tooltrail.run.id'] === runId);
    expect(runSpan).toBeDefined();
    const mine = trail.records.filter((r) => r.traceId === runSpan!.traceId);
    const calls = mine.filter((r) => r.name.startsWith('execute_tool '));
    for (const c of calls) expect(c.attributes['tooltrail.run.id']).toBe(runId);
    expect(calls.map((r) => [r.attributes['gen_ai.tool.name'], r.attributes['tooltrail.outcome'], r.attributes['tooltrail.attempts']])).toEqual([
      ['list_open_tickets', 'ok', 1],
      ['lookup_customer', 'ok', 2],
      ['send_email', 'ok', 1],
      ['export_customers', 'ok', 1],
      ['send_email', 'denied', 0],
      ['send_email', 'ok', 1],
    ]);
    const denied = calls[4] as TrailRecord;
    expect(denied.attributes).toMatchObject({
      'user.id': 'user:4711',
      'tooltrail.principal.type': 'user',
      'gen_ai.agent.name': 'support-bot',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'mail.internal-only',
      'error.type': 'tooltrail.denied',
    });
    expect(denied.status.code).toBe(2);
    // The model's sloppy id and what actually executed, side by side.
    const lookup = calls[1] as TrailRecord;
    expect(lookup.attributes['gen_ai.tool.call.arguments']).toBe('{"customer_id":"C-17"}');
    expect(lookup.attributes['tooltrail.arguments.proposed']).toBe('{"customer_id":" c-17 "}');
    const attempts = mine.filter((r) => r.parentSpanId === lookup.spanId);
    expect(attempts.map((r) => [r.name, r.attributes['tooltrail.attempt'], r.status.code])).toEqual([
      ['tool_attempt lookup_customer', 1, 2],
      ['tool_attempt lookup_customer', 2, 1],
    ]);
    // run span + 6 calls + 2 attempts (only the retried call has attempt records: one per attempt)
    expect(mine).toHaveLength(9);
  });
});
