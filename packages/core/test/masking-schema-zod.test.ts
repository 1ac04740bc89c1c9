import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { z as z3 } from 'zod/v3';
import { AuditConfigError, encodeTraceRequest, sensitive } from '../src/index.js';
import { alice, harness } from './helpers.js';

const KEY = 'masking-schema-test-key-0123456789';
const SECRETS = ['536-22-1234', 'Dana Whitfield', 'hunter2-but-longer', 'Leeds Road 12', 'mother-maiden', 'tagged-secret', 'set-secret', 'map-secret'];

/** Every string an exporter would send for these spans, OTLP/JSON as the collector receives it. */
function exported(spans: readonly ReadableSpan[]): string {
  return encodeTraceRequest(spans);
}

async function callWith(schema: { safeParse(v: unknown): unknown }, args: unknown): Promise<{ body: string; span: ReadableSpan }> {
  const h = harness({ masking: { hashKey: KEY } });
  const tool = h.auditor.withAudit(async (a: unknown) => ({ ok: true, echo: a }), { name: 'kyc', schema: schema as never, masking: { result: 'digest' } });
  await h.auditor.run(alice, () => tool(args));
  const spans = await h.spans();
  const span = spans.find((s) => s.name === 'execute_tool kyc');
  expect(span?.attributes['tooltrail.outcome']).toBe('ok');
  return { body: exported(spans), span: span! };
}

describe('sensitive() with zod 3 schemas (zod/v3)', () => {
  it('masks every marked field, and none appears in clear in the exported spans', async () => {
    const schema = z3.object({
      ssn: sensitive(z3.string().regex(/^\d{3}-\d{2}-\d{4}$/)),
      holder: sensitive(z3.string()).optional(),
      login: z3.object({ user: z3.string(), secret: sensitive(z3.string().min(8)) }),
      addresses: z3.array(z3.object({ line: sensitive(z3.string()), city: z3.string() })),
      answers: z3.record(z3.string(), sensitive(z3.string())),
      tagged: z3.union([z3.object({ kind: z3.literal('a'), v: sensitive(z3.string()) }), z3.object({ kind: z3.literal('b') })]),
      checked: sensitive(z3.string()).refine((s) => s.length > 3),
      level: z3.number().default(1),
    });
    const { body, span } = await callWith(schema, {
      ssn: '536-22-1234',
      holder: 'Dana Whitfield',
      login: { user: 'dana', secret: 'hunter2-but-longer' },
      addresses: [{ line: 'Leeds Road 12', city: 'Leeds' }],
      answers: { q1: 'mother-maiden' },
      tagged: { kind: 'a', v: 'tagged-secret' },
      checked: 'tagged-secret',
    });
    for (const secret of SECRETS) expect(body).not.toContain(secret);
    const r = '[REDACTED:sensitive]';
    expect(JSON.parse(String(span.attributes['gen_ai.tool.call.arguments']))).toEqual({
      ssn: r,
      holder: r,
      login: { user: 'dana', secret: r },
      addresses: [{ line: r, city: 'Leeds' }],
      answers: { q1: r },
      tagged: { kind: 'a', v: r },
      checked: r,
      level: 1,
    });
    expect(span.attributes['tooltrail.mask.kinds']).toEqual(['sensitive']);
  });

  it('keeps the mark through chained methods, and masks a Set or Map holding a marked value whole', async () => {
    const schema = z3.object({
      pin: sensitive(z3.string()).min(4).describe('the PIN'),
      set: z3.set(sensitive(z3.string())),
      map: z3.map(z3.string(), sensitive(z3.string())),
    });
    const { body, span } = await callWith(schema, { pin: '9999-0000', set: new Set(['set-secret']), map: new Map([['k', 'map-secret']]) });
    expect(body).not.toContain('9999-0000');
    expect(body).not.toContain('set-secret');
    expect(body).not.toContain('map-secret');
    expect(JSON.parse(String(span.attributes['gen_ai.tool.call.arguments']))).toEqual({
      pin: '[REDACTED:sensitive]',
      set: '[REDACTED:sensitive]',
      map: '[REDACTED:sensitive]',
    });
  });

  it('masks the whole value of a transform whose input holds a marked field (its output has no known paths)', async () => {
    const z3schema = z3.object({ ssn: sensitive(z3.string()), n: z3.number() }).transform((o) => ({ id: o.ssn, n: o.n }));
    const z4schema = z.object({ ssn: sensitive(z.string()), n: z.number() }).transform((o) => ({ id: o.ssn, n: o.n }));
    for (const schema of [z3schema, z4schema]) {
      const { body, span } = await callWith(schema, { ssn: '536-22-1234', n: 1 });
      expect(body).not.toContain('536-22-1234');
      expect(span.attributes['gen_ai.tool.call.arguments']).toBe('"[REDACTED:sensitive]"');
    }
  });

  it('validates zod 3 async refinements (safeParseAsync) and records their issues', async () => {
    const schema = z3.object({ code: sensitive(z3.string()).refine(async (s) => s.startsWith('ok'), 'code must start with ok') });
    const h = harness({ masking: { hashKey: KEY } });
    let ran = 0;
    const tool = h.auditor.withAudit(async (_: unknown) => ran++, { name: 'kyc', schema });
    await h.auditor.run(alice, async () => {
      await tool({ code: 'ok-1234-secret' });
      await tool({ code: 'bad-1234-secret' }).catch(() => undefined);
    });
    const spans = await h.toolSpans();
    expect(spans.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['ok', 'invalid']);
    expect(ran).toBe(1);
    expect(exported(spans)).not.toMatch(/1234-secret/);
    expect(JSON.parse(String(spans[1]!.attributes['tooltrail.validation.issues']))).toEqual([{ path: ['code'], code: 'custom', message: 'code must start with ok' }]);
  });
});

describe('sensitive() with zod 4 (classic and mini)', () => {
  it('masks marked fields of zod/mini schemas, and keeps marks through .check()/.describe()', async () => {
    const schema = zm.object({ ssn: sensitive(zm.string()).check(zm.minLength(5)), note: zm.string(), pin: sensitive(z.string()).min(4).describe('pin') });
    const { body, span } = await callWith(schema, { ssn: '536-22-1234', note: 'plain', pin: '4321-9' });
    expect(body).not.toContain('536-22-1234');
    expect(body).not.toContain('4321-9');
    expect(JSON.parse(String(span.attributes['gen_ai.tool.call.arguments']))).toEqual({ ssn: '[REDACTED:sensitive]', note: 'plain', pin: '[REDACTED:sensitive]' });
  });

  it('masks a z.set() / z.map() whose values are marked, whole', async () => {
    const schema = z.object({ ids: z.set(sensitive(z.string())), note: z.string() });
    const { body, span } = await callWith(schema, { ids: new Set(['set-secret']), note: 'n' });
    expect(body).not.toContain('set-secret');
    expect(JSON.parse(String(span.attributes['gen_ai.tool.call.arguments']))).toEqual({ ids: '[REDACTED:sensitive]', note: 'n' });
  });
});

describe('never a silent no-op', () => {
  it('a tool schema marked sensitive as a whole masks the whole arguments (zod 3 and 4)', async () => {
    for (const schema of [sensitive(z3.object({ pin: z3.string() })), sensitive(z.object({ pin: z.string() }))]) {
      const { body, span } = await callWith(schema, { pin: '4321-9876' });
      expect(body).not.toContain('4321-9876');
      expect(span.attributes['gen_ai.tool.call.arguments']).toBe('"[REDACTED:sensitive]"');
    }
  });

  it('refuses to mark a schema it could not find at wrap time', () => {
    const custom = { safeParse: (v: unknown) => ({ success: true as const, data: v }) };
    expect(() => sensitive(custom)).toThrow(AuditConfigError);
    expect(() => sensitive(custom)).toThrow(/takes a zod 3 or zod 4 schema/);
    expect(() => sensitive({} as object)).toThrow(/zod 3 or zod 4/);
  });

  it('fails the wrap when a mark sits inside a zod type it cannot follow', () => {
    const h = harness();
    const marked = sensitive(z.string());
    // A schema kind from a future zod, holding a marked field.
    const future = { _zod: { def: { type: 'future_container', inner: marked } }, safeParse: (v: unknown) => ({ success: true as const, data: v }) };
    const schema = z.object({ a: z.string() });
    (schema._zod.def.shape as Record<string, unknown>).b = future;
    expect(() => h.auditor.withAudit(async () => 1, { name: 'x', schema })).toThrow(/type "future_container", which tooltrail cannot follow/);
    // Without a mark inside, an unknown type is just a leaf.
    const plain = { _zod: { def: { type: 'future_container', inner: z.string() } }, safeParse: (v: unknown) => ({ success: true as const, data: v }) };
    const ok = z.object({ a: z.string() });
    (ok._zod.def.shape as Record<string, unknown>).b = plain;
    expect(() => h.auditor.withAudit(async () => 1, { name: 'y', schema: ok })).not.toThrow();
  });
});
