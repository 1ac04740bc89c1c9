import { createHmac } from 'node:crypto';
import { SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AuditConfigError, deny, rewrite, sensitive, toSafeJson, type ToolCall } from '../src/index.js';
import { resetProcessKeyForTests } from '../src/payload/masking/tokens.js';
import { alice, harness, rejection } from './helpers.js';

const KEY = 'wrapper-test-hmac-key-0123456789';
const hex = (value: string) => createHmac('sha256', KEY).update(value).digest('hex').slice(0, 12);
const email = 'dana.whitfield@example.org';
const emailTok = `[email:${hex(email)}]`;
const card = '4111 1111 1111 1111';

const masked = () => harness({ masking: { hashKey: KEY } });

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

describe('masking through withAudit', () => {
  it('masks arguments and result, tallies exactly, and leaves the raw values to policy and the tool', async () => {
    const h = masked();
    const seenByPolicy: unknown[] = [];
    const seenByTool: unknown[] = [];
    const rule = (c: ToolCall) => {
      seenByPolicy.push(structuredClone(c.args));
      return undefined;
    };
    const send = h.auditor.withAudit(
      async (a: { to: string; password: string; note: string }) => {
        seenByTool.push(structuredClone(a));
        return { queued: true, echo: a.to };
      },
      { name: 'send', policy: [rule] },
    );
    const args = deepFreeze({ to: email, password: 'correct horse battery staple', note: `card ${card} on file` });
    expect(await h.auditor.run(alice, () => send(args))).toEqual({ queued: true, echo: email });
    expect(seenByPolicy).toEqual([args]);
    expect(seenByTool).toEqual([args]);
    const [span] = await h.toolSpans();
    expect(span!.attributes).toMatchObject({
      'gen_ai.tool.call.arguments': `{"to":"${emailTok}","password":"[REDACTED:password]","note":"card ****1111 on file"}`,
      'gen_ai.tool.call.result': `{"queued":true,"echo":"${emailTok}"}`,
      'tooltrail.arguments.mutated': false,
      'tooltrail.mask.count': 4,
      'tooltrail.mask.kinds': ['card', 'email', 'password'],
    });
    expect(span!.attributes).not.toHaveProperty('tooltrail.arguments.proposed');
  });

  it('records mask.count 0 when nothing was masked, and no mask attributes with masking: false', async () => {
    const h = masked();
    const t = h.auditor.withAudit(async (n: number) => n * 2, { name: 'double' });
    await h.auditor.run(alice, () => t(21));
    const [span] = await h.toolSpans();
    expect(span!.attributes['tooltrail.mask.count']).toBe(0);
    expect(span!.attributes).not.toHaveProperty('tooltrail.mask.kinds');

    const off = harness({ masking: false });
    const echo = off.auditor.withAudit(async (s: string) => s, { name: 'echo' });
    await off.auditor.run({ principal: { id: email } }, () => echo(email));
    const [raw] = await off.toolSpans();
    expect(raw!.attributes['gen_ai.tool.call.arguments']).toBe(JSON.stringify(email));
    expect(raw!.attributes['user.id']).toBe(email);
    expect(Object.keys(raw!.attributes).filter((k) => k.startsWith('tooltrail.mask'))).toEqual([]);
  });

  it('masks thrown error messages in the exception events, stack traces and span status', async () => {
    const h = masked();
    const boom = h.auditor.withAudit(
      async (_: { to: string }) => {
        throw new Error(`mailbox of ${email} is full; key ghp_${'a'.repeat(36)}`);
      },
      { name: 'send', retry: { attempts: 2, backoffMs: 1 } },
    );
    await h.auditor.run(alice, () => rejection(boom({ to: 'ops@example.org' })));
    const spans = await h.spans();
    const text = JSON.stringify(spans.map((s) => ({ a: s.attributes, e: s.events, st: s.status })));
    expect(text).not.toContain(email);
    expect(text).not.toContain('a'.repeat(36));
    const call = spans.find((s) => s.name === 'execute_tool send')!;
    const expectedMessage = `mailbox of ${emailTok} is full; key [REDACTED:github_token]`;
    expect(call.status).toEqual({ code: SpanStatusCode.ERROR, message: expectedMessage });
    const [event] = call.events;
    expect(event!.attributes!['exception.message']).toBe(expectedMessage);
    expect(String(event!.attributes!['exception.stacktrace'])).toContain(`Error: ${expectedMessage}`);
    for (const attempt of spans.filter((s) => s.name === 'tool_attempt send')) {
      expect(attempt.status.message).toBe(expectedMessage);
      expect(attempt.events[0]!.attributes!['exception.message']).toBe(expectedMessage);
    }
    // On the call span: arguments (1) + status, exception message and stack trace (2 each).
    expect(call.attributes['tooltrail.mask.count']).toBe(7);
    expect(call.attributes['tooltrail.mask.kinds']).toEqual(['email', 'github_token']);
  });

  it('masks policy deny reasons (attribute and status) and rule errors', async () => {
    const outside = (c: ToolCall) => deny(`recipient ${(c.args as { to: string }).to} is outside the company`, { rule: 'mail.internal' });
    const h = harness({ masking: { hashKey: KEY }, policy: [outside] });
    const send = h.auditor.withAudit(async (_: { to: string }) => 1, { name: 'send' });
    await h.auditor.run(alice, () => rejection(send({ to: email })));
    const broken = () => {
      throw new Error(`lookup failed for ${email}`);
    };
    const h2 = harness({ masking: { hashKey: KEY }, policy: [broken] });
    const send2 = h2.auditor.withAudit(async (_: { to: string }) => 1, { name: 'send' });
    await h2.auditor.run(alice, () => rejection(send2({ to: 'x' })));
    const [denied] = await h.toolSpans();
    expect(denied!.attributes['tooltrail.policy.reason']).toBe(`recipient ${emailTok} is outside the company`);
    expect(denied!.status.message).toContain(`recipient ${emailTok} is outside`);
    expect(denied!.attributes['tooltrail.mask.count']).toBe(3);
    const [failed] = await h2.toolSpans();
    expect(JSON.stringify(failed!.attributes) + JSON.stringify(failed!.events) + failed!.status.message).not.toContain(email);
    expect(failed!.attributes['tooltrail.policy.error']).toBe(`lookup failed for ${emailTok}`);
  });

  it('masks identity that holds personal data, never the run id, agent or principal type', async () => {
    const h = masked();
    const t = h.auditor.withAudit(async () => 'ok', { name: 't' });
    await h.auditor.run(
      {
        principal: { id: email, type: 'user' },
        agent: { name: 'support-bot', id: 'bot-7' },
        runId: 'run-dana-1',
        conversationId: 'conv-1',
        attributes: { tenant: 'acme', shard: 2, api_token: 'plain-words', cvv: 737, contact: `+44 20 7946 0958` },
      },
      () => t(),
    );
    const spans = await h.spans();
    for (const s of spans.filter((x) => x.name !== 'tool_attempt t' && x.name !== 'tooltrail.stream_start')) {
      expect(s.attributes).toMatchObject({
        'user.id': emailTok,
        'tooltrail.run.id': 'run-dana-1',
        'tooltrail.principal.type': 'user',
        'gen_ai.agent.name': 'support-bot',
        'gen_ai.agent.id': 'bot-7',
        'gen_ai.conversation.id': 'conv-1',
        'tooltrail.run.attr.tenant': 'acme',
        'tooltrail.run.attr.shard': 2,
        'tooltrail.run.attr.api_token': '[REDACTED:token]',
        'tooltrail.run.attr.cvv': '[REDACTED:cvv]',
        'tooltrail.run.attr.contact': `[phone:${hex('+442079460958')}]`,
      });
    }
    // Identity is masked once per run and is not part of a call's tally.
    expect(spans.find((s) => s.name === 'execute_tool t')!.attributes['tooltrail.mask.count']).toBe(0);
  });

  it('masks secrets in Map values, Error arguments, circular values and JSON held in strings', async () => {
    const h = masked();
    const circular: Record<string, unknown> = { contact: { password: 'pw-1', mail: email } };
    circular.self = circular;
    const t = h.auditor.withAudit(async (_: unknown) => new Map<string, unknown>([['token', 'tok-1'], ['to', email]]), { name: 't' });
    await h.auditor.run(alice, () => t({ circular, err: new TypeError(`bad card ${card}`), raw: '{"password":"pw-2","n":[1,2]}', big: 10n }));
    const [span] = await h.toolSpans();
    expect(JSON.parse(String(span!.attributes['gen_ai.tool.call.arguments']))).toEqual({
      circular: { contact: { password: '[REDACTED:password]', mail: emailTok }, self: '[Circular]' },
      err: { '[Error]': 'TypeError', message: 'bad card ****1111' },
      raw: '{"password":"[REDACTED:password]","n":[1,2]}',
      big: '10n',
    });
    expect(span!.attributes['gen_ai.tool.call.result']).toBe(`{"[Map]":[["token","[REDACTED:token]"],["to","${emailTok}"]]}`);
    expect(span!.attributes['tooltrail.mask.count']).toBe(6);
    expect(span!.attributes['tooltrail.mask.kinds']).toEqual(['card', 'email', 'password', 'token']);
  });

  it('cuts a payload over the cap to valid JSON, after masking, recording the original size and a keyed hash', async () => {
    const h = harness({ masking: { hashKey: KEY, maxPayloadBytes: 1024 } });
    const t = h.auditor.withAudit(async (_: unknown) => 'ok', { name: 't' });
    const big = { head: `to ${email}`, items: Array.from({ length: 200 }, (_, i) => ({ i, mail: `user${i}@example.org`, body: 'x'.repeat(50) })) };
    await h.auditor.run(alice, () => t(big));
    const [span] = await h.toolSpans();
    const recorded = String(span!.attributes['gen_ai.tool.call.arguments']);
    expect(Buffer.byteLength(recorded)).toBeLessThanOrEqual(1024);
    const parsed = JSON.parse(recorded) as { head: string; items: unknown[] };
    expect(parsed.head).toBe(`to ${emailTok}`);
    expect(parsed.items.at(-1)).toMatch(/^\[\+\d+ items\]$/);
    expect(recorded).not.toMatch(/user\d+@example\.org/);
    const raw = toSafeJson(big);
    expect(span!.attributes).toMatchObject({
      'tooltrail.payload.truncated': ['arguments'],
      'tooltrail.payload.arguments.size': Buffer.byteLength(raw),
      'tooltrail.payload.arguments.hash': createHmac('sha256', KEY).update(raw).digest('hex'),
    });
    // Every address was masked, including those cut away afterwards.
    expect(span!.attributes['tooltrail.mask.count']).toBe(201);
  });

  it('records a digest-only result as its size and keyed hash', async () => {
    const h = masked();
    const doc = { title: 'Contract', body: 'confidential terms '.repeat(20) };
    const fetchDoc = h.auditor.withAudit(async (_: string) => doc, { name: 'fetch_doc', masking: { result: 'digest' } });
    await h.auditor.run(alice, () => fetchDoc('doc-1'));
    const [span] = await h.toolSpans();
    const raw = JSON.stringify(doc);
    expect(span!.attributes).toMatchObject({
      'gen_ai.tool.call.result': '"[Digest]"',
      'tooltrail.payload.result.size': Buffer.byteLength(raw),
      'tooltrail.payload.result.hash': createHmac('sha256', KEY).update(raw).digest('hex'),
    });
    expect(span!.attributes).not.toHaveProperty('tooltrail.payload.truncated');
  });

  it('applies per-tool options over the auditor defaults', async () => {
    const h = harness({ masking: { hashKey: KEY, keys: ['account_ref'] } });
    const a = h.auditor.withAudit(async (_: unknown) => 1, { name: 'a', masking: { keys: ['recipient'], disable: ['email'], strategies: { card: 'redact' } } });
    const b = h.auditor.withAudit(async (_: unknown) => 1, { name: 'b' });
    const args = { recipient: 'Dana', cc: email, account_ref: 'ar-1', note: card };
    await h.auditor.run(alice, async () => {
      await a(args);
      await b(args);
    });
    const [sa, sb] = await h.toolSpans();
    expect(sa!.attributes['gen_ai.tool.call.arguments']).toBe(`{"recipient":"[REDACTED:recipient]","cc":"${email}","account_ref":"[REDACTED:account_ref]","note":"[REDACTED:card]"}`);
    expect(sb!.attributes['gen_ai.tool.call.arguments']).toBe(`{"recipient":"Dana","cc":"${emailTok}","account_ref":"[REDACTED:account_ref]","note":"****1111"}`);
    expect(() => h.auditor.withAudit(async () => 1, { name: 'c', masking: { disable: ['nope'] } })).toThrow(AuditConfigError);
    expect(() => h.auditor.withAudit(async () => 1, { name: 'c', masking: false as never })).toThrow(/whole auditor/);
    expect(() => harness({ masking: {}, encoder: { json: () => '', text: () => '' } })).toThrow(/either masking options or a custom encoder/);
  });

  it('masks fields a zod schema marks sensitive, in executed and proposed arguments', async () => {
    const h = masked();
    const schema = z.object({
      ssn: sensitive(z.string()),
      profile: z.object({ nickname: z.string().meta({ sensitive: true }), city: z.string() }).optional(),
      cards: z.array(z.object({ holder: sensitive(z.string(), { kind: 'holder', strategy: 'hash' }), last4: z.string() })),
      tags: z.record(z.string(), sensitive(z.string()).optional()),
      level: z.number().default(1),
    });
    const seen: unknown[] = [];
    const t = h.auditor.withAudit(async (a: z.input<typeof schema>) => seen.push(a), { name: 'kyc', schema });
    await h.auditor.run(alice, () =>
      t({ ssn: '536221234', profile: { nickname: 'Dee', city: 'Leeds' }, cards: [{ holder: 'Dana Whitfield', last4: '1111' }], tags: { a: 'x' } }),
    );
    expect(seen).toEqual([{ ssn: '536221234', profile: { nickname: 'Dee', city: 'Leeds' }, cards: [{ holder: 'Dana Whitfield', last4: '1111' }], tags: { a: 'x' }, level: 1 }]);
    const [span] = await h.toolSpans();
    const executed = {
      ssn: '[REDACTED:sensitive]',
      profile: { nickname: '[REDACTED:sensitive]', city: 'Leeds' },
      cards: [{ holder: `[holder:${hex('Dana Whitfield')}]`, last4: '1111' }],
      tags: { a: '[REDACTED:sensitive]' },
    };
    expect(JSON.parse(String(span!.attributes['gen_ai.tool.call.arguments']))).toEqual({ ...executed, level: 1 });
    expect(JSON.parse(String(span!.attributes['tooltrail.arguments.proposed']))).toEqual(executed);
    expect(span!.attributes['tooltrail.mask.count']).toBe(8);
    expect(span!.attributes['tooltrail.mask.kinds']).toEqual(['holder', 'sensitive']);
  });

  it('still sees a rewrite that only changed a redacted value as a mutation', async () => {
    const swap = (c: ToolCall) => rewrite({ ...(c.args as object), password: 'rotated-by-policy' }, 'rotate');
    const h = harness({ masking: { hashKey: KEY }, policy: [swap] });
    const t = h.auditor.withAudit(async (_: { user: string; password: string }) => 1, { name: 'login' });
    await h.auditor.run(alice, () => t({ user: 'dana', password: 'original-secret' }));
    const [span] = await h.toolSpans();
    expect(span!.attributes).toMatchObject({
      'gen_ai.tool.call.arguments': '{"user":"dana","password":"[REDACTED:password]"}',
      'tooltrail.arguments.proposed': '{"user":"dana","password":"[REDACTED:password]"}',
      'tooltrail.arguments.mutated': true,
      'tooltrail.mask.count': 2,
    });
  });

  it('masks a framework proposal given as raw JSON text', async () => {
    const h = masked();
    const t = h.auditor.withAudit(async (_: { to: string }) => 1, { name: 'send' });
    await h.auditor.run(alice, () => t.invokeWith({ proposedArgs: `{"to":"${email}","token":"tok-9"}` }, { to: email }));
    const [span] = await h.toolSpans();
    expect(span!.attributes['tooltrail.arguments.proposed']).toBe(JSON.stringify(`{"to":"${emailTok}","token":"[REDACTED:token]"}`));
  });
});

describe('fail closed', () => {
  it('records [MASKING_FAILED] instead of a payload whose masking throws, counts it, and warns once without the value', async () => {
    const h = harness({
      masking: {
        hashKey: KEY,
        detectors: [
          {
            id: 'fragile',
            pattern: /EXPLODE/,
            validate: (m) => {
              throw new Error(`cannot validate ${m} near ${email}`);
            },
          },
        ],
      },
    });
    const t = h.auditor.withAudit(async (a: { note: string }) => ({ echoed: a.note }), { name: 't' });
    await h.auditor.run(alice, async () => {
      await t({ note: `EXPLODE ${email}` });
      await t({ note: 'EXPLODE again' });
      await t({ note: 'fine' });
    });
    const spans = await h.toolSpans();
    expect(spans[0]!.attributes).toMatchObject({
      'gen_ai.tool.call.arguments': '"[MASKING_FAILED]"',
      'gen_ai.tool.call.result': '"[MASKING_FAILED]"',
      'tooltrail.mask.failed': 2,
      'tooltrail.mask.count': 0,
    });
    expect(spans[2]!.attributes['gen_ai.tool.call.arguments']).toBe('{"note":"fine"}');
    expect(h.auditor.stats().maskingFailures).toBe(4);
    const masking = h.warnings.filter((w) => w.includes('masking failed'));
    expect(masking).toEqual(['masking failed (Error) on the arguments of tool "t"; recorded as [MASKING_FAILED]. Later failures are only counted: auditor.stats().maskingFailures']);
    expect(h.warnings.join('\n')).not.toContain(email);
  });
});

describe('the HMAC key', () => {
  const saved = process.env.TOOLTRAIL_MASK_KEY;
  afterEach(() => {
    if (saved === undefined) delete process.env.TOOLTRAIL_MASK_KEY;
    else process.env.TOOLTRAIL_MASK_KEY = saved;
    resetProcessKeyForTests();
  });

  it('comes from TOOLTRAIL_MASK_KEY, else a random per-process key with exactly one warning', async () => {
    process.env.TOOLTRAIL_MASK_KEY = KEY;
    const fromEnv = harness();
    const t = fromEnv.auditor.withAudit(async (_: string) => 1, { name: 't' });
    await fromEnv.auditor.run(alice, () => t(email));
    expect((await fromEnv.toolSpans())[0]!.attributes['gen_ai.tool.call.arguments']).toBe(JSON.stringify(emailTok));
    expect(fromEnv.warnings).toEqual([]);

    delete process.env.TOOLTRAIL_MASK_KEY;
    resetProcessKeyForTests();
    const first = harness();
    const second = harness();
    expect(first.warnings).toHaveLength(1);
    expect(first.warnings[0]).toMatch(/no HMAC key configured .*random key for this process/);
    expect(second.warnings).toEqual([]);
    const a = first.auditor.withAudit(async (_: string) => 1, { name: 't' });
    const b = second.auditor.withAudit(async (_: string) => 1, { name: 't' });
    await first.auditor.run(alice, () => a(email));
    await second.auditor.run(alice, () => b(email));
    const tokA = (await first.toolSpans())[0]!.attributes['gen_ai.tool.call.arguments'];
    const tokB = (await second.toolSpans())[0]!.attributes['gen_ai.tool.call.arguments'];
    // One random key per process: auditors in it still correlate, but not with the env key.
    expect(tokA).toBe(tokB);
    expect(tokA).not.toBe(JSON.stringify(emailTok));
    expect(() => harness({ masking: { hashKey: 'too-short' } })).toThrow(/at least 16 bytes/);
  });
});
