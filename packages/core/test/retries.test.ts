import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { AuditDeniedError, currentCall, deny } from '../src/index.js';
import { alice, childrenOf, harness, rejection } from './helpers.js';

class Flaky extends Error {}

describe('retries', () => {
  it('records each attempt as a child span and the parent with the count', async () => {
    const h = harness();
    let calls = 0;
    const seen: number[] = [];
    const tool = h.auditor.withAudit(
      async () => {
        calls++;
        seen.push(currentCall()!.attempt);
        if (calls < 3) throw new Flaky(`try ${calls} failed`);
        return 'done';
      },
      { name: 'flaky', retry: { attempts: 5, backoffMs: 1 } },
    );
    expect(await h.auditor.run(alice, () => tool())).toBe('done');
    expect(seen).toEqual([1, 2, 3]);
    const spans = await h.spans();
    const [parent] = spans.filter((s) => s.name === 'execute_tool flaky');
    expect(parent!.attributes['tooltrail.attempts']).toBe(3);
    expect(parent!.attributes['tooltrail.outcome']).toBe('ok');
    expect(parent!.status.code).toBe(SpanStatusCode.OK);
    const attempts = childrenOf(spans, parent!);
    expect(attempts.map((a) => a.attributes['tooltrail.attempt'])).toEqual([1, 2, 3]);
    expect(attempts.map((a) => a.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR, SpanStatusCode.OK]);
    expect(attempts.map((a) => a.attributes['error.type'])).toEqual(['Flaky', 'Flaky', undefined]);
    // Exponential back-off: 1 ms before attempt 2, 2 ms before attempt 3.
    expect(attempts.map((a) => a.attributes['tooltrail.retry.delay_ms'])).toEqual([1, 2, undefined]);
    expect(attempts.every((a) => a.attributes['gen_ai.tool.call.id'] === parent!.attributes['gen_ai.tool.call.id'])).toBe(true);
  });

  it('stops when attempts are exhausted and rethrows the last error', async () => {
    const h = harness();
    const errors = [new Flaky('1'), new Flaky('2')];
    let i = 0;
    const tool = h.auditor.withAudit(
      async () => {
        throw errors[i++];
      },
      { name: 'always_fails', retry: { attempts: 2, backoffMs: 0 } },
    );
    const err = await h.auditor.run(alice, () => rejection(tool()));
    expect(err).toBe(errors[1]);
    const spans = await h.spans();
    const [parent] = spans.filter((s) => s.name === 'execute_tool always_fails');
    expect(parent!.attributes['tooltrail.attempts']).toBe(2);
    expect(parent!.attributes['tooltrail.outcome']).toBe('error');
    expect(parent!.attributes['error.type']).toBe('Flaky');
    expect(childrenOf(spans, parent!)).toHaveLength(2);
  });

  it('does not retry when retryOn says no, and a throwing retryOn does not loop', async () => {
    const h = harness();
    let calls = 0;
    const tool = h.auditor.withAudit(
      async () => {
        calls++;
        throw new TypeError('bad');
      },
      { name: 'no_retry', retry: { attempts: 4, backoffMs: 0, retryOn: (e) => !(e instanceof TypeError) } },
    );
    await h.auditor.run(alice, () => rejection(tool()));
    expect(calls).toBe(1);
    let calls2 = 0;
    const tool2 = h.auditor.withAudit(
      async () => {
        calls2++;
        throw new Error('x');
      },
      {
        name: 'broken_predicate',
        retry: {
          attempts: 4,
          backoffMs: 0,
          retryOn: () => {
            throw new Error('predicate bug');
          },
        },
      },
    );
    await h.auditor.run(alice, () => rejection(tool2()));
    expect(calls2).toBe(1);
  });

  it('never retries a denied call', async () => {
    const h = harness({ policy: [() => deny('no')] });
    let calls = 0;
    const tool = h.auditor.withAudit(async () => calls++, { name: 'denied', retry: { attempts: 3, backoffMs: 0 } });
    expect(await h.auditor.run(alice, () => rejection(tool()))).toBeInstanceOf(AuditDeniedError);
    expect(calls).toBe(0);
  });

  it('numbers framework retries under one call id: 1, then 2, each its own execute_tool span', async () => {
    const h = harness();
    let fail = true;
    const tool = h.auditor.withAudit(
      async (q: string) => {
        if (fail) {
          fail = false;
          throw new Flaky('timeout');
        }
        return q.toUpperCase();
      },
      { name: 'search' },
    );
    await h.auditor.run(alice, async () => {
      await rejection(tool.invokeWith({ callId: 'toolu_01' }, 'abc'));
      expect(await tool.invokeWith({ callId: 'toolu_01' }, 'abc')).toBe('ABC');
    });
    const spans = await h.spans();
    const parents = spans.filter((s) => s.name === 'execute_tool search');
    expect(parents).toHaveLength(2);
    expect(parents.map((p) => p.attributes['gen_ai.tool.call.id'])).toEqual(['toolu_01', 'toolu_01']);
    expect(parents.map((p) => p.attributes['tooltrail.outcome'])).toEqual(['error', 'ok']);
    expect(parents.map((p) => p.attributes['tooltrail.attempts'])).toEqual([1, 1]);
    // The first attempt of a call id has no attempt record (one attempt, no retry configured);
    // the framework's re-invocation has one, numbered 2, so the trail shows it was a retry.
    expect(parents.map((p) => childrenOf(spans, p).map((a) => a.attributes['tooltrail.attempt']))).toEqual([[], [2]]);
  });

  it('counts attempts per run: the same call id in another run starts again at attempt 1', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => currentCall()!.attempt, { name: 't' });
    const seen = [
      await h.auditor.run({ ...alice, runId: 'run-a' }, () => tool.invokeWith({ callId: '0' })),
      await h.auditor.run({ ...alice, runId: 'run-b' }, () => tool.invokeWith({ callId: '0' })),
      await h.auditor.run({ ...alice, runId: 'run-b' }, () => tool.invokeWith({ callId: '0' })),
    ];
    expect(seen).toEqual([1, 1, 2]);
    const spans = await h.spans();
    // Only the re-invocation (attempt 2 in run-b) has an attempt record.
    const attempts = spans.filter((s) => s.name === 'tool_attempt t').map((s) => s.attributes['tooltrail.attempt']);
    expect(attempts).toEqual([2]);
  });

    it('reads a call id from the arguments when the tool says where it is', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async (args: { id: string; q: string }) => args.q, {
      name: 'search',
      callId: (args) => args.id,
    });
    await h.auditor.run(alice, () => tool({ id: 'fw-9', q: 'x' }));
    const [span] = await h.toolSpans();
    expect(span!.attributes['gen_ai.tool.call.id']).toBe('fw-9');
  });
});
