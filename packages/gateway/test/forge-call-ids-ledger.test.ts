import { describe, expect, it } from 'vitest';
import { CallIds, callIdProblem, claimedText } from '../src/audit/call-ids.js';

/** The gateway's memory of call ids (call-ids.ts), without processes: fresh ids, owners, its bound. */

const FRESH = /^call_[0-9a-f]{24}$/;

describe('CallIds', () => {
  it('gives a fresh id to a call without one, and refuses it to another run that claims it later', () => {
    const ids = new CallIds();
    const fresh = ids.decide({}, 'alice\u0000run-1');
    expect(fresh).toEqual({ callId: expect.stringMatching(FRESH), attributes: {} });
    // alice learnt it (a refusal result names it) and sends it again: her run, her call
    expect(ids.decide({ 'tooltrail/callId': fresh.callId }, 'alice\u0000run-1')).toEqual({ callId: fresh.callId, attributes: {} });
    const bob = ids.decide({ 'tooltrail/callId': fresh.callId }, 'bob\u0000run-2');
    expect(bob.callId).toMatch(FRESH);
    expect(bob.callId).not.toBe(fresh.callId);
    expect(bob.attributes).toEqual({ 'tooltrail.call_id.claimed': JSON.stringify(fresh.callId), 'tooltrail.call_id.rejected': 'reused' });
    // the same principal in another run is another run
    expect(ids.decide({ 'tooltrail/callId': fresh.callId }, 'alice\u0000run-3').attributes['tooltrail.call_id.rejected']).toBe('reused');
  });

  it('reads the id only from a plain _meta object', () => {
    const ids = new CallIds();
    for (const meta of [undefined, null, 'tooltrail/callId', ['x'], 7]) expect(ids.decide(meta, 'o')).toEqual({ callId: expect.stringMatching(FRESH), attributes: {} });
    // inherited keys are not the agent's claim
    expect(ids.decide(Object.create({ 'tooltrail/callId': 'proto-id' }), 'o').callId).toMatch(FRESH);
  });

  it('forgets the oldest ids past its capacity, and a retry refreshes an id', () => {
    const ids = new CallIds(2);
    ids.decide({ 'tooltrail/callId': 'one' }, 'a');
    ids.decide({ 'tooltrail/callId': 'two' }, 'a');
    ids.decide({ 'tooltrail/callId': 'one' }, 'a');
    ids.decide({ 'tooltrail/callId': 'three' }, 'a');
    // 'two' was the oldest: forgotten, so another run may use it; 'one' was refreshed and is still a's
    expect(ids.decide({ 'tooltrail/callId': 'one' }, 'b').attributes['tooltrail.call_id.rejected']).toBe('reused');
    expect(ids.decide({ 'tooltrail/callId': 'two' }, 'b')).toEqual({ callId: 'two', attributes: {} });
  });

  it('accepts 1 to 128 characters of letters, digits and . _ : - + = / @', () => {
    for (const ok of ['call_0123456789abcdef01234567', 'toolu_01A09q90qw90lq917835lq9', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'YWJj+/=', 'a', 'x'.repeat(128)]) {
      expect(callIdProblem(ok)).toBeUndefined();
    }
    expect(callIdProblem('x'.repeat(129))).toBe('too_long');
    expect(callIdProblem('')).toBe('empty');
    expect(callIdProblem(1)).toBe('not_string');
    for (const bad of ['a b', 'a\tb', 'a\u2028b', 'é', 'a"b', 'a\\b', '<x>']) expect(callIdProblem(bad)).toBe('charset');
  });

  it('keeps a claim as escaped JSON text of at most 128 characters', () => {
    expect(claimedText('a\nb')).toBe('"a\\nb"');
    expect(claimedText(undefined)).toBe('undefined');
    expect(claimedText(10n)).toBe('[bigint]');
    expect(claimedText({ deep: 'x'.repeat(500) })).toHaveLength(128);
    expect(claimedText('\u0000'.repeat(100))).toBe(`"${'\\u0000'.repeat(21)}…`);
  });
});
