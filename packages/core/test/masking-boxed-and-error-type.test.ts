import { describe, expect, it } from 'vitest';
import { createMaskingEncoder, toSafeJson } from '../src/index.js';
import { alice, harness } from './helpers.js';

// Two places a secret was recorded whole (found by the masking hunt): a boxed string, written by
// toSafeJson one property per character, so no detector saw the secret; and error.type /
// exception.type, taken from a thrower-chosen name and never masked.

const STRIPE = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc9x2Y';

describe('boxed primitives', () => {
  it('are written as the value inside', () => {
    expect(toSafeJson({ s: new String('abc'), n: new Number(4), b: new Boolean(false), i: Object(12n) })).toBe('{"s":"abc","n":4,"b":false,"i":"12n"}');
    // Only the prototype of a String: an object, walked as one.
    expect(toSafeJson({ f: Object.create(String.prototype) })).toBe('{"f":{}}');
  });

  it('a secret in a String object is masked', () => {
    const encoder = createMaskingEncoder({ hashKey: 'boxed-test-key-0123456789abcdef' });
    const out = encoder.json({ note: new String(`key ${STRIPE}`), list: [new String('dana.whitfield@example.org')] }, { tool: 't', field: 'arguments' });
    expect(out).not.toContain(STRIPE);
    expect(out).not.toContain('dana.whitfield');
    expect(out).not.toContain('"0":');
  });
});

describe('error.type', () => {
  it('a thrower-chosen name holding a secret is masked on the call, its exception event and the run; plain class names stay', async () => {
    const h = harness();
    const leaky = h.auditor.withAudit(async () => {
      const e = new Error('no');
      Object.defineProperty(e, 'constructor', { value: Object });
      e.name = `AuthError ${STRIPE}`;
      throw e;
    }, { name: 'leaky' });
    const plain = h.auditor.withAudit(async () => {
      throw new TypeError('bad');
    }, { name: 'plain' });
    await expect(h.auditor.run(alice, () => leaky())).rejects.toThrow('no');
    await expect(h.auditor.run(alice, () => plain())).rejects.toThrow('bad');
    const spans = await h.spans();
    const all = JSON.stringify(spans.map((s) => ({ a: s.attributes, e: s.events.map((ev) => ev.attributes) })));
    expect(all).not.toContain(STRIPE);
    const leakyCall = spans.find((s) => s.attributes['gen_ai.tool.name'] === 'leaky' && s.name.startsWith('execute_tool'))!;
    expect(String(leakyCall.attributes['error.type'])).toMatch(/^AuthError \[REDACTED:stripe_key\]$|^AuthError \[stripe_key:[0-9a-f]+\]$/);
    const plainCall = spans.find((s) => s.attributes['gen_ai.tool.name'] === 'plain' && s.name.startsWith('execute_tool'))!;
    expect(plainCall.attributes['error.type']).toBe('TypeError');
    expect(plainCall.events.find((e) => e.name === 'exception')!.attributes!['exception.type']).toBe('TypeError');
  });
});
