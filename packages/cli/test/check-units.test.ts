import { createMaskingEncoder } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { canaryArgs, fakeAwsKeyId, fakeCardNumber, luhnCheckDigit, planCanary } from '../src/review/check/canary.js';
import { serviceAccountShape } from '../src/review/check/principals.js';
import { findSecrets, type SecretHit } from '../src/review/check/read-back.js';

const luhnOk = (digits: string) => luhnCheckDigit([...digits.slice(0, -1)].map(Number)) === Number(digits.at(-1));

describe('the canary', () => {
  it('makes fresh fake secrets of the shapes the default masking catches', () => {
    const a = planCanary();
    const b = planCanary();
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.secrets[0]!.value).not.toBe(b.secrets[0]!.value);
    for (let i = 0; i < 50; i++) {
      expect(fakeAwsKeyId()).toMatch(/^AKIA[A-Z2-7]{16}$/);
      const card = fakeCardNumber();
      expect(card).toMatch(/^4\d{15}$/);
      expect(luhnOk(card)).toBe(true);
    }
    expect(luhnOk('4111111111111111')).toBe(true);
    expect(luhnOk('4111111111111112')).toBe(false);
    // The default masking encoder leaves neither value in the recorded arguments.
    const text = createMaskingEncoder({ hashKey: 'check-units-masking-key-0123456789' }).json(a.runs[0]!.args, { tool: a.tool, field: 'arguments' });
    for (const s of a.secrets) expect(text).not.toContain(s.value);
  });

  it('two runs, two principals of type user, distinct run and call ids', () => {
    const p = planCanary();
    const [a, b] = p.runs;
    expect(a.principal).toEqual({ id: `tooltrail-check:canary-a-${p.nonce}`, type: 'user' });
    expect(b.principal.id).toBe(`tooltrail-check:canary-b-${p.nonce}`);
    expect(a.runId).not.toBe(b.runId);
    expect(a.callId).not.toBe(b.callId);
    expect(p.tool).toBe('tooltrail_canary_exfiltrate');
  });

  it('--args: placeholders are filled; without a secret placeholder a note field carries the secrets', () => {
    const secrets = [
      { kind: 'aws_access_key_id' as const, value: 'AKIAAAAAAAAAAAAAAAAA' },
      { kind: 'card_number' as const, value: '4000000000000002' },
    ];
    expect(canaryArgs({ to: ['x@y.z'], body: '{{aws_key}}/{{card}}', n: { ref: '{{nonce}}' }, k: 3 }, 'abc', secrets, 'a')).toEqual({
      to: ['x@y.z'],
      body: 'AKIAAAAAAAAAAAAAAAAA/4000000000000002',
      n: { ref: 'abc' },
      k: 3,
    });
    const noted = canaryArgs({ to: 'x@y.z', ref: '{{nonce}}' }, 'abc', secrets, 'b') as Record<string, string>;
    expect(noted.ref).toBe('abc');
    expect(noted.tooltrail_canary_note).toContain('AKIAAAAAAAAAAAAAAAAA');
    expect(noted.tooltrail_canary_note).toContain('4000000000000002');
  });
});

describe('the raw-bytes search', () => {
  it('finds every occurrence with its line', () => {
    const hits: SecretHit[] = [];
    const bytes = Buffer.from('one\ntwo SECRET\nthree\nSECRET and SECRET\n');
    findSecrets(bytes, [{ kind: 'card_number', value: 'SECRET' }], (l) => `f:${l}`, hits);
    expect(hits.map((h) => h.where)).toEqual(['f:2', 'f:4', 'f:4']);
  });
});

describe('principals shaped like a shared credential', () => {
  it.each([
    ['svc-support', undefined],
    ['service-account-42', undefined],
    ['system:serviceaccount:prod:agent', undefined],
    ['agent@my-project.iam.gserviceaccount.com', undefined],
    ['dependabot[bot]', undefined],
    ['support-bot', undefined],
    ['sk_live_abcdef', undefined],
    ['tt_3f9a1c0d2b7e', undefined],
    ['AKIAABCDEFGHIJKLMNOP', undefined],
    ['9fQ2xLmN4pR7sT1vW3yZ5bC8dE', undefined],
    ['user:alice', 'service'],
  ])('%s (type %s) is flagged', (id, type) => {
    expect(serviceAccountShape(id, type)).toBeDefined();
  });

  it.each([
    ['user:alice', 'user'],
    ['alice@example.com', undefined],
    ['user_2aBcDeFgHiJkLmNoPqRsTuVwXyZ', undefined],
    ['0aeb4c22-4962-4648-a556-68e931db7b11', undefined],
    ['robot-arm-operator', undefined],
    ['abbott', undefined],
  ])('%s (type %s) is not', (id, type) => {
    expect(serviceAccountShape(id, type)).toBeUndefined();
  });
});
