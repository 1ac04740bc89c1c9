import { describe, expect, it } from 'vitest';
import { toSafeJson } from '../src/index.js';
import { alice, harness, rejection } from './helpers.js';

describe('toSafeJson', () => {
  it('encodes values JSON cannot hold, deterministically and without throwing', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const shared = { v: 1 };
    const value = {
      big: 12345678901234567890n,
      fn: function namedFn() {},
      arrow: () => 1,
      sym: Symbol('tag'),
      map: new Map<unknown, unknown>([
        ['a', 1],
        [{ k: 1 }, new Set([1, 2])],
      ]),
      set: new Set(['x']),
      buf: Buffer.from('secret bytes'),
      u8: new Uint8Array(4),
      date: new Date(Date.UTC(2026, 10, 21, 12, 0, 0)),
      bad: new Date(NaN),
      err: Object.assign(new TypeError('bad type', { cause: 'root cause' }), { code: 'E_TYPE' }),
      undef: undefined,
      arr: [undefined, NaN, Infinity, -Infinity, null],
      circular,
      twice: [shared, shared],
    };
    const json = toSafeJson(value);
    expect(JSON.parse(json)).toEqual({
      big: '12345678901234567890n',
      fn: '[Function namedFn]',
      arrow: '[Function arrow]',
      sym: '[Symbol(tag)]',
      map: { '[Map]': [['a', 1], [{ k: 1 }, { '[Set]': [1, 2] }]] },
      set: { '[Set]': ['x'] },
      buf: '[Buffer 12 bytes]',
      u8: '[Uint8Array 4 bytes]',
      date: '2026-11-21T12:00:00.000Z',
      bad: '[Invalid Date]',
      err: { '[Error]': 'TypeError', message: 'bad type', code: 'E_TYPE', cause: 'root cause' },
      arr: ['[undefined]', 'NaN', 'Infinity', '-Infinity', null],
      circular: { name: 'loop', self: '[Circular]' },
      twice: [{ v: 1 }, { v: 1 }],
    });
    expect(toSafeJson(value)).toBe(json);
    expect(json).not.toContain('secret bytes');
  });

  it('survives throwing getters, throwing toJSON, revoked proxies and deep nesting', () => {
    const getter = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter exploded');
      },
    });
    const toJson = { toJSON: () => { throw new Error('toJSON exploded'); } };
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    let deep: unknown = 'bottom';
    for (let i = 0; i < 500; i++) deep = { d: deep };
    expect(JSON.parse(toSafeJson(getter))).toEqual({ boom: '[Unserializable: getter exploded]' });
    expect(JSON.parse(toSafeJson(toJson))).toBe('[Unserializable: toJSON exploded]');
    expect(() => JSON.parse(toSafeJson(proxy))).not.toThrow();
    const parsed = toSafeJson(deep);
    expect(parsed).toContain('[MaxDepth]');
    expect(() => JSON.parse(parsed)).not.toThrow();
    expect(toSafeJson(undefined)).toBe('"[undefined]"');
    expect(toSafeJson({ toJSON: () => ({ iso: 'x' }) })).toBe('{"iso":"x"}');
  });
});

describe('ugly values through a wrapped call', () => {
  it('never breaks the call: circular arguments, BigInt results, huge payloads', async () => {
    const h = harness();
    const circular: Record<string, unknown> = { id: 1 };
    circular.me = circular;
    const tool = h.auditor.withAudit(async (_: unknown) => ({ total: 10n ** 30n, items: new Map([['k', 1]]) }), { name: 'ugly' });
    const result = await h.auditor.run(alice, () => tool(circular));
    expect(result.total).toBe(10n ** 30n);
    const huge = 'x'.repeat(2_000_000);
    const echo = h.auditor.withAudit(async (s: string) => s.length, { name: 'echo' });
    expect(await h.auditor.run(alice, () => echo(huge))).toBe(2_000_000);
    const [a, b] = await h.toolSpans();
    expect(a!.attributes['gen_ai.tool.call.arguments']).toBe('{"id":1,"me":"[Circular]"}');
    expect(a!.attributes['gen_ai.tool.call.result']).toBe('{"total":"1000000000000000000000000000000n","items":{"[Map]":[["k",1]]}}');
    // Over the 16 KiB cap: cut, still valid JSON, with the original size recorded.
    const cut = String(b!.attributes['gen_ai.tool.call.arguments']);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(16 * 1024);
    expect(JSON.parse(cut)).toMatch(/^x+…\[truncated\]$/);
    expect(b!.attributes['tooltrail.payload.arguments.size']).toBe(2_000_002);
    expect(b!.attributes['tooltrail.payload.truncated']).toEqual(['arguments']);
  });

  it('records throws of non-Error values as _OTHER and rethrows the very same value', async () => {
    const h = harness();
    const values: unknown[] = ['a string', 42, undefined, null, { code: 'E_OBJ' }, Symbol('s')];
    for (const v of values) {
      const tool = h.auditor.withAudit(
        async () => {
          throw v;
        },
        { name: 'thrower' },
      );
      const got = await h.auditor.run(alice, async () => {
        try {
          await tool();
        } catch (e) {
          return { e };
        }
        return undefined;
      });
      expect(got).toEqual({ e: v });
    }
    const spans = await h.toolSpans();
    expect(spans).toHaveLength(values.length);
    for (const s of spans) {
      expect(s.attributes['error.type']).toBe('_OTHER');
      expect(s.attributes['tooltrail.outcome']).toBe('error');
      expect(s.events.filter((e) => e.name === 'exception')).toHaveLength(1);
    }
    expect(spans[0]!.status.message).toBe('a string');
    expect(spans[4]!.status.message).toBe('{"code":"E_OBJ"}');
  });

  it('records an undefined result and a tool returning a rejected thenable', async () => {
    const h = harness();
    const v = h.auditor.withAudit(async () => undefined, { name: 'void' });
    await h.auditor.run(alice, () => v());
    const thenable = h.auditor.withAudit(() => ({ then: (_: unknown, reject: (e: unknown) => void) => reject(new RangeError('late')) }), {
      name: 'thenable',
    });
    expect(await h.auditor.run(alice, () => rejection(thenable()))).toBeInstanceOf(RangeError);
    const [a, b] = await h.toolSpans();
    expect(a!.attributes['gen_ai.tool.call.result']).toBe('"[undefined]"');
    expect(b!.attributes['error.type']).toBe('RangeError');
  });
});
