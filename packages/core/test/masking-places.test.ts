import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { errorCauses, MAX_CAUSE_DEPTH, MAX_CAUSES } from '../src/call/exception.js';
import { ATTR_EXCEPTION_CAUSES, CORRELATION_ATTRIBUTES } from '../src/contract/semconv.js';
import { createMaskingEncoder } from '../src/payload/masking/encoder.js';
import { EncodeReport } from '../src/payload/encode-report.js';
import { harness } from './helpers.js';

// Every place a record can carry call data is masked (issue 12, part E): object keys with the
// key=value rule, run attribute keys, adapter attributes, correlation identifiers (value
// detectors only, never a key-name rule), and error causes and AggregateError members.

const EMAIL = 'dana.whitfield@example.org';
const hashKey = 'places-test-hmac-key-0123456789abcdef';
const identity = { principal: { id: 'user:1' } };

function attrsOf(span: ReadableSpan): Record<string, unknown> {
  return span.attributes as Record<string, unknown>;
}

function causesOf(span: ReadableSpan): { at: string; type: string; message: string }[] {
  const ev = span.events.find((e) => e.name === 'exception');
  return JSON.parse(String(ev?.attributes?.[ATTR_EXCEPTION_CAUSES])) as { at: string; type: string; message: string }[];
}

describe('object keys', () => {
  const enc = createMaskingEncoder({ hashKey });
  const json = (v: unknown) => enc.json(v, { tool: 't', field: 'arguments', report: new EncodeReport() });

  it('get the key=value rule as well as the value detectors', () => {
    const out = json({
      'Server=db;User Id=app;Password=hunter2-horse': 1,
      'Cookie: sid=velvet-moon-23': 2,
      'jdbc:postgresql://db:5432/x?user=app&password=Tr0ub4dor-9': 3,
      [EMAIL]: 4,
    });
    expect(out).not.toContain('hunter2-horse');
    expect(out).not.toContain('velvet-moon-23');
    expect(out).not.toContain('Tr0ub4dor-9');
    expect(out).not.toContain(EMAIL);
    // The kind is whichever rule or detector names it first (a connection-string detector, say).
    expect(out).toMatch(/Server=db;User Id=app;Password=\[REDACTED:[a-z_]+\]/);
  });

  it('keeps ordinary keys, and keys with a colon or equals sign that name no secret', () => {
    const v = { 'a=b': 1, 'Content-Type: json': 2, max_tokens: 3, 'token_count=4': 4 };
    expect(json(v)).toBe(JSON.stringify(v));
  });
});

describe('run attributes', () => {
  it('have their keys scanned: a key holding an address or an assignment is masked', async () => {
    const h = harness({ masking: { hashKey } });
    const tool = h.auditor.withAudit(async () => 'ok', { name: 'noop' });
    await h.auditor.run({ ...identity, attributes: { [EMAIL]: 'x', 'password=hunter2-horse': 'y', plain: 'z' } }, () => tool());
    const a = attrsOf((await h.toolSpans())[0] as ReadableSpan);
    const keys = Object.keys(a).filter((k) => k.startsWith('tooltrail.run.attr.'));
    expect(keys.join('\n')).not.toContain(EMAIL);
    expect(keys.join('\n')).not.toContain('hunter2-horse');
    expect(a['tooltrail.run.attr.plain']).toBe('z');
    expect(keys).toHaveLength(3);
  });
});

describe('correlation identifiers', () => {
  it('are listed once, with the adapters\' own', () => {
    expect(CORRELATION_ATTRIBUTES).toEqual(expect.arrayContaining(['tooltrail.run.id', 'gen_ai.tool.call.id', 'gen_ai.tool.name', 'mcp.session.id', 'jsonrpc.request.id', 'mcp.method.name']));
  });

  it('stay readable under a key-name rule their name matches (mcp.session.id), yet a planted secret is masked', async () => {
    const h = harness({ masking: { hashKey } });
    const tool = h.auditor.withAudit(async () => 'ok', { name: 'noop' });
    await h.auditor.run(identity, () =>
      tool.invokeWith({ callId: 'call-abc-1', attributes: { 'mcp.session.id': 'sess-0c1d2e', 'jsonrpc.request.id': 17, 'mcp.method.name': 'tools/call' } }),
    );
    await h.auditor.run(identity, () => tool.invokeWith({ callId: `call ${EMAIL}`, attributes: { 'mcp.session.id': `s ${EMAIL}` } }));
    const [plain, planted] = (await h.toolSpans()).map(attrsOf) as Record<string, unknown>[];
    expect(plain).toMatchObject({ 'mcp.session.id': 'sess-0c1d2e', 'jsonrpc.request.id': 17, 'mcp.method.name': 'tools/call', 'gen_ai.tool.call.id': 'call-abc-1' });
    expect(JSON.stringify(planted)).not.toContain(EMAIL);
    expect(planted?.['mcp.session.id']).toMatch(/^s \[email:[0-9a-f]{12}\]$/);
    expect(planted?.['gen_ai.tool.call.id']).toMatch(/^call \[email:[0-9a-f]{12}\]$/);
  });

  it('run id, parent run id, agent name and id, tool name: value detectors only', async () => {
    const h = harness({ masking: { hashKey } });
    const tool = h.auditor.withAudit(async () => 'ok', { name: `lookup_${EMAIL}` });
    await h.auditor.run({ principal: { id: 'u' }, runId: `run ${EMAIL}`, agent: { name: `agent ${EMAIL}`, id: `token-7` } }, () =>
      h.auditor.run({ principal: { id: 'u' }, runId: 'inner-run' }, () => tool()),
    );
    const call = (await h.toolSpans())[0] as ReadableSpan;
    expect(JSON.stringify(call.attributes)).not.toContain(EMAIL);
    expect(call.name).not.toContain(EMAIL);
    expect(attrsOf(call)['tooltrail.run.id']).toBe('inner-run');
    expect(attrsOf(call)['tooltrail.run.parent_id']).toMatch(/^run \[email:/);
  });
});

describe('adapter attributes', () => {
  it('are masked: values by the detectors and by their name\'s rule, names scanned', async () => {
    const h = harness({ masking: { hashKey } });
    const tool = h.auditor.withAudit(async () => 'ok', { name: 'noop' });
    const attributes = { 'server.address': EMAIL, 'x.api_key': 'ak-amber-canyon-56', 'framework.step': 3, [`by.${EMAIL}`]: true, 'tags': ['a', EMAIL] };
    await h.auditor.run(identity, () => tool.invokeWith({ attributes }));
    const spans = await h.spans();
    for (const s of spans.filter((x) => x.name.startsWith('execute_tool'))) {
      const text = JSON.stringify(s.attributes);
      expect(text).not.toContain(EMAIL);
      expect(text).not.toContain('ak-amber-canyon-56');
      expect(attrsOf(s)['x.api_key']).toBe('[REDACTED:api_key]');
      expect(attrsOf(s)['framework.step']).toBe(3);
    }
  });

  it('of recordRefused are masked the same way', async () => {
    const h = harness({ masking: { hashKey } });
    const tool = h.auditor.withAudit(async () => 'ok', { name: 'noop' });
    await h.auditor.run(identity, async () => {
      tool.recordRefused({ reason: 'no', kind: 'denied', attributes: { 'server.address': EMAIL, 'mcp.session.id': 'sess-1' } });
    });
    const a = attrsOf((await h.toolSpans())[0] as ReadableSpan);
    expect(JSON.stringify(a)).not.toContain(EMAIL);
    expect(a['mcp.session.id']).toBe('sess-1');
  });
});

describe('error causes and AggregateError members', () => {
  it('are recorded on the exception event, masked', async () => {
    const h = harness({ masking: { hashKey } });
    const tool = h.auditor.withAudit(
      async () => {
        const root = new Error(`db refused ${EMAIL}`);
        throw new Error('lookup failed', { cause: new AggregateError([new TypeError('password=hunter2-horse'), 'plain string'], 'two failed', { cause: root }) });
      },
      { name: 'failing' },
    );
    await h.auditor.run(identity, () => tool().catch(() => undefined));
    const span = (await h.toolSpans())[0] as ReadableSpan;
    const causes = causesOf(span);
    expect(causes.map((c) => c.at)).toEqual(['cause', 'cause.cause', 'cause.errors[0]', 'cause.errors[1]']);
    expect(causes.map((c) => c.type)).toEqual(['AggregateError', 'Error', 'TypeError', '_OTHER']);
    const text = JSON.stringify(span.events);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain('hunter2-horse');
    const kinds = attrsOf(span)['tooltrail.mask.kinds'] as string[];
    expect(kinds).toContain('email');
    expect(kinds.some((k) => k.includes('password'))).toBe(true);
  });

  it('handle cycles, bound depth and count, and survive throwing getters', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(errorCauses(a)?.map((c) => c.at)).toEqual(['cause']);

    let deep = new Error('leaf');
    for (let i = 0; i < 20; i++) deep = new Error(`level ${i}`, { cause: deep });
    const chain = errorCauses(deep) ?? [];
    expect(chain.filter((c) => c.at !== '[truncated]')).toHaveLength(MAX_CAUSE_DEPTH);
    expect(chain.at(-1)?.at).toBe('[truncated]');

    const many = new AggregateError(Array.from({ length: 10_000 }, (_, i) => new Error(`m${i}`)), 'many');
    const members = errorCauses(many) ?? [];
    expect(members.filter((c) => c.at !== '[truncated]')).toHaveLength(MAX_CAUSES);

    const hostile = new Error('x');
    Object.defineProperty(hostile, 'cause', { get: () => { throw new Error('getter'); } });
    expect(errorCauses(hostile)).toBeUndefined();
    expect(errorCauses(new Error('no cause'))).toBeUndefined();
    expect(errorCauses('a string')).toBeUndefined();
  });

  it('stay under the payload cap', async () => {
    const h = harness({ masking: { hashKey, maxPayloadBytes: 1024 } });
    const big = new AggregateError(Array.from({ length: 40 }, (_, i) => new Error(`${i} `.repeat(200))), 'big');
    const tool = h.auditor.withAudit(async () => Promise.reject(big), { name: 'failing' });
    await h.auditor.run(identity, () => tool().catch(() => undefined));
    const ev = ((await h.toolSpans())[0] as ReadableSpan).events.find((e) => e.name === 'exception');
    const raw = String(ev?.attributes?.[ATTR_EXCEPTION_CAUSES]);
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(1024);
    expect(() => JSON.parse(raw)).not.toThrow();
  });
});
