// Hostile review of issue 13's approvals: an answer (or a carried approval) is read exactly once.
// A getter that says `approved` to the check and `rejected` to the record (or the reverse) must
// never let the record and what ran disagree.
import { describe, expect, it } from 'vitest';
import { ask, semconv as sc, type ApprovalRequest } from '../src/index.js';
import { alice, harness, rejection } from './helpers.js';

const needsOk = ask('wire transfers need a person', { rule: 'money.ask' });

function setup(handler?: (req: ApprovalRequest) => unknown) {
  const h = harness(handler === undefined ? {} : { approval: { handler: handler as never } });
  let ran = 0;
  const tool = h.auditor.withAudit(async (a: { to: string }) => `sent to ${a.to} #${++ran}`, {
    name: 'wire_money',
    policy: [() => needsOk],
  });
  return { h, tool, ran: () => ran };
}

/** An object whose `decision` answers differently each time it is read. */
function shifty(sequence: string[], extra: Record<string, unknown> = { by: 'user:alice' }): Record<string, unknown> {
  let i = 0;
  const o: Record<string, unknown> = { ...extra };
  Object.defineProperty(o, 'decision', { enumerable: true, get: () => sequence[Math.min(i++, sequence.length - 1)] });
  return o;
}

describe('hostile13: approval answers are read once', () => {
  it('a handler answer whose decision flips between reads: what is recorded is what happened', async () => {
    // checked 'approved', recorded 'rejected', then 'approved' again for the run decision.
    const { h, tool, ran } = setup(() => shifty(['approved', 'rejected', 'approved']));
    const settled = await h.auditor.run(alice, () => tool({ to: 'mallory' })).then(
      () => 'ran',
      () => 'refused',
    );
    const [span] = await h.toolSpans();
    const a = span!.attributes;
    if (settled === 'ran') {
      expect(ran()).toBe(1);
      expect(a[sc.ATTR_APPROVAL_DECISION]).toBe('approved');
      expect(a[sc.ATTR_OUTCOME]).toBe('ok');
    } else {
      expect(ran()).toBe(0);
      expect(a[sc.ATTR_OUTCOME]).toBe('denied');
    }
  });

  it('a handler answer whose decision getter throws: denied and recorded, never a lost record', async () => {
    const { h, tool, ran } = setup(() => {
      const o: Record<string, unknown> = { by: 'user:alice' };
      Object.defineProperty(o, 'decision', { enumerable: true, get: () => { throw 'boom'; } });
      return o;
    });
    await rejection(h.auditor.run(alice, () => tool({ to: 'mallory' })));
    expect(ran()).toBe(0);
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_OUTCOME]).toBe('denied');
    expect(span!.attributes[sc.ATTR_POLICY_RULE] ?? span!.attributes[sc.ATTR_APPROVAL_RULE]).toBeDefined();
  });

  it('a carried approval whose decision flips after the option check: never recorded rejected while it runs', async () => {
    const { h, tool, ran } = setup();
    // reads: 1 the invokeWith() option check, 2 the event, 3 the span attribute, 4 and 5 whether to run.
    const approval = shifty(['approved', 'approved', 'rejected', 'approved'], { by: 'user:alice' });
    const settled = await h.auditor
      .run(alice, () => tool.invokeWith({ callId: 'c-9', approval: approval as never }, { to: 'mallory' }))
      .then(() => 'ran', () => 'refused');
    const [span] = await h.toolSpans();
    const a = span!.attributes;
    if (settled === 'ran') {
      expect(ran()).toBe(1);
      expect(a[sc.ATTR_APPROVAL_DECISION]).toBe('approved');
      expect(a[sc.ATTR_OUTCOME]).toBe('ok');
    } else {
      expect(ran()).toBe(0);
      expect(a[sc.ATTR_OUTCOME]).toBe('denied');
    }
  });
});
