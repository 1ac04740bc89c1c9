import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditor, deny, setDefaultAuditor, type ToolCall } from '../src/index.js';
import { allNeedles, BY_KEY, DETECTED } from './fixtures/secrets-corpus.js';
import { filled } from './masking-forms.js';

// The acceptance test: the bytes that leave the process over OTLP hold none of the
// planted secrets, wherever they were planted. Checked on the raw request bodies a receiver in
// another process got, not on span objects.

const receiverPath = new URL('./fixtures/otlp-receiver.mjs', import.meta.url).pathname;
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
  setDefaultAuditor(undefined);
});

async function startReceiver(): Promise<number> {
  const proc = spawn(process.execPath, [receiverPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  return (JSON.parse(line.toString()) as { port: number }).port;
}

function nest(value: unknown, depth: number): unknown {
  let v = value;
  for (let i = 0; i < depth; i++) v = { [`level${i}`]: v };
  return v;
}

/** The forms a needle can take in a body: as is, JSON-escaped once (a string) or twice (JSON in a string). */
function forms(needle: string): string[] {
  const once = JSON.stringify(needle).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1);
  return [...new Set([needle, once, twice])];
}

describe('no secret leaves the process over OTLP', () => {
  it('masks every corpus value in keys, at depth 10, in arrays, in prose, in results, errors, deny reasons and identity', async () => {
    const port = await startReceiver();
    const auditor = createAuditor({
      serviceName: 'masking-otlp',
      endpoint: `http://127.0.0.1:${port}`,
      spoolDir: mkdtempSync(path.join(tmpdir(), 'tooltrail-mask-spool-')),
      logger: { warn() {} },
      masking: { hashKey: 'otlp-test-hmac-key-0123456789abcdef' },
    });
    const guard = (c: ToolCall) => (c.tool === 'guarded' ? deny(`refusing to send to ${JSON.stringify(c.args)}`, { rule: 'guard' }) : undefined);
    const echo = auditor.withAudit(async (a: unknown) => ({ echoed: a, summary: `done for ${JSON.stringify(a)}` }), { name: 'echo' });
    const thrower = auditor.withAudit(
      async (v: string) => {
        throw new Error(`upstream rejected ${v} (see logs)`);
      },
      { name: 'thrower' },
    );
    const guarded = auditor.withAudit(async (_: { to: string }) => 'sent', { name: 'guarded', policy: [guard] });

    const byKey = Object.fromEntries(BY_KEY.map((k) => [k.key, k.value]));
    let calls = 0;
    await auditor.run(
      {
        principal: { id: 'dana.whitfield@example.org', type: 'user' },
        agent: { name: 'leaky-agent' },
        conversationId: 'conv-1',
        attributes: { session_token: 'tok-blue-harbor-77', contact: '+44 20 7946 0958' },
      },
      async () => {
        for (const p of DETECTED) {
          const v = filled(p);
          await echo({ note: v, deep: nest(v, 10), list: [v, [v, { inner: [v] }]], prose: `Please use ${v} for this, thanks.` });
          await thrower(v).catch(() => undefined);
          await guarded({ to: v }).catch(() => undefined);
          calls += 3;
        }
        await echo({ secrets: byKey, deep: nest(byKey, 10), list: [byKey, [byKey]] });
        await echo(new Map(Object.entries(byKey)));
        calls += 2;
      },
    );
    expect(await auditor.shutdown(15_000)).toBe(true);

    const res = await fetch(`http://127.0.0.1:${port}/raw`);
    const { bodies } = (await res.json()) as { bodies: string[] };
    const all = bodies.join('\n');
    // Everything arrived: one execute_tool span per call.
    expect(all.split('"name":"execute_tool ').length - 1).toBe(calls);
    expect(all).toContain('[REDACTED:github_token]');
    expect(all).toContain('[REDACTED:password]');
    const leaked = allNeedles().filter((n) => forms(n).some((f) => all.includes(f)));
    expect(leaked).toEqual([]);
    // The principal's address and the run attributes' secrets are masked too.
    expect(all).not.toContain('dana.whitfield@example.org');
    expect(all).not.toContain('tok-blue-harbor-77');
    expect(all).toMatch(/"key":"user\.id","value":\{"stringValue":"\[email:[0-9a-f]{12}\]"\}/);
  });
});
