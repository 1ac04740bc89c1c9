import { describe, expect, it } from 'vitest';
import { currentCall, currentRun, type CallInfo, type RunIdentity } from '../src/index.js';
import { alice, childrenOf, harness } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('run identity', () => {
  it('gives the tool body its run and call, with a traceparent of the call span (one attempt: no attempt record)', async () => {
    const h = harness();
    let run: RunIdentity | undefined;
    let call: CallInfo | undefined;
    const tool = h.auditor.withAudit(
      async () => {
        run = currentRun();
        call = currentCall();
      },
      { name: 'whoami' },
    );
    expect(currentRun()).toBeUndefined();
    await h.auditor.run({ ...alice, runId: 'run-a' }, () => tool());
    expect(currentCall()).toBeUndefined();
    expect(run).toMatchObject({ runId: 'run-a', principal: { id: 'user:42', type: 'user' }, conversationId: 'conv-1' });
    const spans = await h.spans();
    const [parent] = spans.filter((s) => s.name === 'execute_tool whoami');
    expect(childrenOf(spans, parent!)).toEqual([]);
    // The traceparent names a span that is recorded: downstream spans hang under the call's record.
    const ctx = parent!.spanContext();
    expect(call).toMatchObject({ tool: 'whoami', attempt: 1, traceId: ctx.traceId, spanId: ctx.spanId });
    expect(call!.callId).toBe(parent!.attributes['gen_ai.tool.call.id']);
    expect(call!.traceparent).toBe(`00-${ctx.traceId}-${ctx.spanId}-01`);
    expect(call!.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(Object.isFrozen(call)).toBe(true);
  });

  it('with retries configured, gives each attempt the traceparent of its own attempt span', async () => {
    const h = harness();
    const calls: CallInfo[] = [];
    const tool = h.auditor.withAudit(
      async () => {
        calls.push(currentCall()!);
        if (calls.length === 1) throw new Error('once');
      },
      { name: 'whoami', retry: { attempts: 2, backoffMs: 0 } },
    );
    await h.auditor.run(alice, () => tool());
    const spans = await h.spans();
    const [parent] = spans.filter((s) => s.name === 'execute_tool whoami');
    const attempts = childrenOf(spans, parent!);
    expect(attempts.map((a) => a.name)).toEqual(['tool_attempt whoami', 'tool_attempt whoami']);
    expect(calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(calls.map((c) => c.spanId)).toEqual(attempts.map((a) => a.spanContext().spanId));
    expect(calls[1]!.traceparent).toBe(`00-${attempts[1]!.spanContext().traceId}-${attempts[1]!.spanContext().spanId}-01`);
  });

  it('generates a run id when absent, and freezes the identity', async () => {
    const h = harness();
    const run = await h.auditor.run({ principal: { id: 'svc:cron' } }, () => currentRun());
    expect(run!.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.isFrozen(run)).toBe(true);
    expect(Object.isFrozen(run!.principal)).toBe(true);
  });

  it('nested runs take the inner identity and remember the parent run', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => currentRun()!.principal.id, { name: 'who' });
    const seen: string[] = [];
    await h.auditor.run({ ...alice, runId: 'outer' }, async () => {
      seen.push(await tool());
      await h.auditor.run({ principal: { id: 'agent:sub', type: 'agent' }, agent: { name: 'sub-agent' }, runId: 'inner' }, async () => {
        seen.push(await tool());
      });
      seen.push(await tool());
    });
    expect(seen).toEqual(['user:42', 'agent:sub', 'user:42']);
    const spans = await h.spans();
    const tools = spans.filter((s) => s.name === 'execute_tool who');
    expect(tools.map((s) => s.attributes['tooltrail.run.id'])).toEqual(['outer', 'inner', 'outer']);
    expect(tools[1]!.attributes['tooltrail.run.parent_id']).toBe('outer');
    expect(tools[0]!.attributes).not.toHaveProperty('tooltrail.run.parent_id');
    const [inner] = spans.filter((s) => s.name === 'invoke_agent sub-agent');
    const [outer] = spans.filter((s) => s.name === 'invoke_agent support-bot');
    expect(inner!.parentSpanContext?.spanId).toBe(outer!.spanContext().spanId);
    expect(tools[1]!.parentSpanContext?.spanId).toBe(inner!.spanContext().spanId);
  });

  it('keeps 200 concurrent runs apart: no identity bleeds between them', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(
      async (expected: string) => {
        await sleep(Math.random() * 5);
        const run = currentRun();
        await sleep(Math.random() * 5);
        return { expected, got: run?.principal.id, call: currentCall()?.callId };
      },
      { name: 'probe' },
    );
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        h.auditor.run({ principal: { id: `user:${i}` }, runId: `run-${i}` }, async () => {
          await sleep(Math.random() * 3);
          const a = await tool(`user:${i}`);
          const b = await tool(`user:${i}`);
          return [a, b];
        }),
      ),
    );
    for (const pair of results) for (const r of pair) expect(r.got).toBe(r.expected);
    const tools = await h.toolSpans();
    expect(tools).toHaveLength(400);
    for (const s of tools) {
      const n = String(s.attributes['user.id']).slice(5);
      expect(s.attributes['tooltrail.run.id']).toBe(`run-${n}`);
      expect(s.attributes['gen_ai.tool.call.arguments']).toBe(JSON.stringify(`user:${n}`));
    }
  });

  it('keeps the run through async generators and timers inside the run', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => currentRun()?.runId, { name: 'id' });
    async function* steps() {
      for (let i = 0; i < 3; i++) {
        await sleep(1);
        yield await tool();
      }
    }
    const ids = await h.auditor.run({ ...alice, runId: 'gen-run' }, async () => {
      const out: (string | undefined)[] = [];
      for await (const id of steps()) out.push(id);
      out.push(await new Promise<string | undefined>((resolve) => setTimeout(() => void tool().then(resolve), 1)));
      return out;
    });
    expect(ids).toEqual(['gen-run', 'gen-run', 'gen-run', 'gen-run']);
  });

  it('records a run that throws as an error run span and rethrows', async () => {
    const h = harness();
    const boom = new Error('agent crashed');
    await expect(h.auditor.run(alice, () => Promise.reject(boom))).rejects.toBe(boom);
    const [runSpan] = (await h.spans()).filter((s) => s.name !== 'tooltrail.stream_start');
    expect(runSpan!.attributes['error.type']).toBe('Error');
    expect(runSpan!.status).toEqual({ code: 2, message: 'agent crashed' });
  });

  it('rejects a run without a principal id with a clear error', async () => {
    const h = harness();
    await expect(h.auditor.run({ principal: { id: '' } }, () => 1)).rejects.toThrow(/principal\.id must be a non-empty string/);
    await expect(h.auditor.run({} as never, () => 1)).rejects.toThrow(/invalid run identity/);
  });

  it('can skip run spans and still attribute every call', async () => {
    const h = harness({ runSpans: false });
    const tool = h.auditor.withAudit(async () => 1, { name: 't' });
    await h.auditor.run({ ...alice, runId: 'r' }, () => tool());
    const spans = await h.spans();
    expect(spans.map((s) => s.name).sort()).toEqual(['execute_tool t', 'tooltrail.stream_start']);
    expect(spans.find((s) => s.name === 'execute_tool t')!.attributes['tooltrail.run.id']).toBe('r');
  });
});
