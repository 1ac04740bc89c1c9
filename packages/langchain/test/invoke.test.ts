import { ToolMessage } from '@langchain/core/messages';
import { RunnableLambda } from '@langchain/core/runnables';
import {
  DynamicStructuredTool,
  DynamicTool,
  StructuredTool,
  ToolInputParsingException,
  tool,
  type ToolRunnableConfig,
} from '@langchain/core/tools';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { SpanStatusCode } from '@opentelemetry/api';
import { AuditDeniedError, AuditValidationError, currentCall, currentRun, deny, rewrite, sensitive } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditLangChainTool, auditLangChainTools, isAuditedTool } from '../src/index.js';
import { alice, attr, harness } from './helpers.js';

const weatherSchema = z.object({
  city: z.string().trim(),
  days: z.coerce.number().int().min(1).max(7).default(3),
});

function weatherTool(seen: unknown[] = []) {
  return tool(
    async (args: z.output<typeof weatherSchema>) => {
      seen.push(args);
      return `${args.city}: sunny for ${args.days} days`;
    },
    { name: 'get_weather', description: 'Weather forecast for a city', schema: weatherSchema },
  );
}

describe('tool.invoke with a ToolCall', () => {
  it('records the ToolCall id, the proposed and the executed arguments, and returns the ToolMessage', async () => {
    const h = harness();
    const seen: unknown[] = [];
    const t = auditLangChainTool(weatherTool(seen), { auditor: h.auditor });
    const msg = await h.auditor.run(alice, () =>
      t.invoke({ type: 'tool_call', id: 'call_abc', name: 'get_weather', args: { city: '  Oslo ', days: '2' } }),
    );
    expect(msg).toBeInstanceOf(ToolMessage);
    expect(msg.tool_call_id).toBe('call_abc');
    expect(msg.status).toBe('success');
    expect(msg.content).toBe('Oslo: sunny for 2 days');
    expect(seen).toEqual([{ city: 'Oslo', days: 2 }]);

    const [span, ...rest] = await h.toolSpans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe('execute_tool get_weather');
    expect(span!.attributes).toMatchObject({
      'gen_ai.tool.call.id': 'call_abc',
      'gen_ai.tool.description': 'Weather forecast for a city',
      // What the body received (trimmed, coerced) beside what the model proposed.
      'gen_ai.tool.call.arguments': '{"city":"Oslo","days":2}',
      'tooltrail.arguments.proposed': '{"city":"  Oslo ","days":"2"}',
      'tooltrail.arguments.mutated': true,
      'gen_ai.tool.call.result': '"Oslo: sunny for 2 days"',
      'tooltrail.outcome': 'ok',
      'tooltrail.attempts': 1,
      'user.id': 'user:42',
      'gen_ai.agent.name': 'travel-bot',
    });
  });

  it('generates a call id and returns bare content when invoked with plain arguments', async () => {
    const h = harness();
    const t = auditLangChainTool(weatherTool(), { auditor: h.auditor });
    const out = await h.auditor.run(alice, () => t.invoke({ city: 'Rome' }));
    expect(out).toBe('Rome: sunny for 3 days');
    const [span] = await h.toolSpans();
    expect(attr(span, 'gen_ai.tool.call.id')).toMatch(/^call_[0-9a-f]{24}$/);
    expect(attr(span, 'gen_ai.tool.call.arguments')).toBe('{"city":"Rome","days":3}');
    expect(attr(span, 'tooltrail.arguments.proposed')).toBe('{"city":"Rome"}');
  });

  it('takes the call id from config.toolCall when the arguments come bare (as some executors pass them)', async () => {
    const h = harness();
    const t = auditLangChainTool(weatherTool(), { auditor: h.auditor });
    const toolCall = { type: 'tool_call' as const, id: 'call_cfg', name: 'get_weather', args: { city: 'Rome' } };
    const msg = await h.auditor.run(alice, () => t.invoke({ city: 'Rome' }, { toolCall }));
    expect(msg).toBeInstanceOf(ToolMessage);
    expect((msg as ToolMessage).tool_call_id).toBe('call_cfg');
    expect(attr((await h.toolSpans())[0], 'gen_ai.tool.call.id')).toBe('call_cfg');
  });

  it('runs the body inside the run and the attempt: identity, call and RunnableConfig reach it', async () => {
    const h = harness();
    let inside: unknown;
    const t = auditLangChainTool(
      tool(
        async ({ q }: { q: string }, config: ToolRunnableConfig) => {
          // A nested runnable: LangChain's own AsyncLocalStorage and tooltrail's must both survive.
          const nested = await RunnableLambda.from(async () => currentRun()?.principal.id).invoke(undefined, config);
          inside = {
            q,
            user: currentRun()?.principal.id,
            callId: currentCall()?.callId,
            attempt: currentCall()?.attempt,
            tenant: config.configurable?.tenant,
            toolCallId: config.toolCall?.id,
            nested,
          };
          return 'ok';
        },
        { name: 'probe', description: 'probe', schema: z.object({ q: z.string() }) },
      ),
      { auditor: h.auditor },
    );
    await h.auditor.run(alice, () =>
      t.invoke({ type: 'tool_call', id: 'call_p1', name: 'probe', args: { q: 'x' } }, { configurable: { tenant: 'acme' } }),
    );
    expect(inside).toEqual({ q: 'x', user: 'user:42', callId: 'call_p1', attempt: 1, tenant: 'acme', toolCallId: 'call_p1', nested: 'user:42' });
  });
});

describe('refusals reach the model as tool error results', () => {
  it('turns invalid arguments into an error ToolMessage and an invalid span; the body never runs', async () => {
    const h = harness();
    const seen: unknown[] = [];
    const t = auditLangChainTool(weatherTool(seen), { auditor: h.auditor });
    const msg = await h.auditor.run(alice, () =>
      t.invoke({ type: 'tool_call', id: 'call_bad', name: 'get_weather', args: { city: 'Oslo', days: 30 } }),
    );
    expect(msg).toBeInstanceOf(ToolMessage);
    expect(msg.status).toBe('error');
    expect(msg.tool_call_id).toBe('call_bad');
    expect(msg.name).toBe('get_weather');
    expect(msg.content).toMatch(/^Error: invalid arguments for tool "get_weather": days: .*7.*It was not executed/);
    expect(seen).toEqual([]);
    const [span] = (await h.spans()).filter((s) => s.name !== 'tooltrail.stream_start');
    expect(span!.name).toBe('execute_tool get_weather');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes).toMatchObject({
      'gen_ai.tool.call.id': 'call_bad',
      'tooltrail.outcome': 'invalid',
      'error.type': 'tooltrail.invalid_arguments',
      'tooltrail.attempts': 0,
      'gen_ai.tool.call.arguments': '{"city":"Oslo","days":30}',
    });
    expect(JSON.parse(String(attr(span, 'tooltrail.validation.issues')))).toMatchObject([{ path: ['days'], code: 'too_big' }]);
  });

  it('turns a policy denial into an error ToolMessage and a denied span; the body never runs', async () => {
    const h = harness();
    const seen: unknown[] = [];
        // Rules see the arguments typed by the tool's schema.
    const t = auditLangChainTool(weatherTool(seen), {
      auditor: h.auditor,
      policy: [(call) => (call.args.city === 'Moscow' ? deny('travel ban', { rule: 'travel.ban' }) : undefined)],
    });
    const msg = await h.auditor.run(alice, () =>
      t.invoke({ type: 'tool_call', id: 'call_d1', name: 'get_weather', args: { city: 'Moscow' } }),
    );
    expect(msg.status).toBe('error');
    expect(msg.content).toBe(
      'Error: the call to tool "get_weather" was denied by policy rule travel.ban: travel ban. It was not executed. Do not retry it unchanged.',
    );
    expect(seen).toEqual([]);
    const [span] = await h.toolSpans();
    expect(span!.attributes).toMatchObject({
      'gen_ai.tool.call.id': 'call_d1',
      'tooltrail.outcome': 'denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'travel.ban',
      'tooltrail.attempts': 0,
    });
  });

  it('denies calls outside a run (requireIdentity) the same way, and returns the text for plain invocations', async () => {
    const h = harness();
    const t = auditLangChainTool(weatherTool(), { auditor: h.auditor });
    const out = await t.invoke({ city: 'Oslo' });
    expect(out).toMatch(/^Error: the call to tool "get_weather" was denied by policy rule tooltrail.require-identity/);
    const [span] = await h.toolSpans();
    expect(attr(span, 'tooltrail.outcome')).toBe('denied');
  });

  it('throws instead when asked: AuditDeniedError, and ToolInputParsingException caused by AuditValidationError', async () => {
    const h = harness();
    const t = auditLangChainTool(weatherTool(), {
      auditor: h.auditor,
      onRefusal: 'throw',
      policy: [(c) => (c.args.city === 'Moscow' ? deny('travel ban') : undefined)],
    });
    await h.auditor.run(alice, async () => {
      await expect(t.invoke({ type: 'tool_call', id: 'c1', name: 'get_weather', args: { city: 'Moscow' } })).rejects.toBeInstanceOf(AuditDeniedError);
      const err = await t.invoke({ type: 'tool_call', id: 'c2', name: 'get_weather', args: { city: 'Oslo', days: 0 } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ToolInputParsingException);
      expect((err as Error).cause).toBeInstanceOf(AuditValidationError);
    });
    expect((await h.toolSpans()).map((s) => attr(s, 'tooltrail.outcome'))).toEqual(['denied', 'invalid']);
  });

  it('lets a custom formatter write the message', async () => {
    const h = harness();
    const t = auditLangChainTool(weatherTool(), { auditor: h.auditor, formatRefusal: (e) => `nope: ${e.code}` });
    const msg = await t.invoke({ type: 'tool_call', id: 'c1', name: 'get_weather', args: { city: 'Oslo' } });
    expect(msg.content).toBe('nope: TOOLTRAIL_DENIED');
  });

  it("does not mistake a denial inside the body (a nested audited call) for the tool's own", async () => {
    const h = harness();
    const inner = h.auditor.withAudit(async function inner(_x: string) {
      return 1;
    }, { policy: [() => deny('inner refused')] });
    const t = auditLangChainTool(
      tool(async ({ x }: { x: string }) => inner(x), { name: 'outer', description: 'outer', schema: z.object({ x: z.string() }) }),
      { auditor: h.auditor },
    );
    const err = await h.auditor.run(alice, () => t.invoke({ type: 'tool_call', id: 'c1', name: 'outer', args: { x: 'a' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditDeniedError);
    expect((err as AuditDeniedError).tool).toBe('inner');
    const spans = await h.toolSpans();
    expect(spans.map((s) => [s.name, attr(s, 'tooltrail.outcome'), attr(s, 'error.type')])).toEqual([
      ['execute_tool inner', 'denied', 'tooltrail.denied'],
      ['execute_tool outer', 'error', 'AuditDeniedError'],
    ]);
  });
});

describe('arguments, errors and retries', () => {
  it('records a policy rewrite: the body gets the rewritten arguments, the model proposal stays beside them', async () => {
    const h = harness();
    const seen: unknown[] = [];
    const t = auditLangChainTool(weatherTool(seen), {
      auditor: h.auditor,
      policy: [(c) => (c.args.days > 5 ? rewrite({ ...c.args, days: 5 }, 'forecasts stop at 5 days', { rule: 'weather.cap' }) : undefined)],
    });
    const msg = await h.auditor.run(alice, () => t.invoke({ type: 'tool_call', id: 'c1', name: 'get_weather', args: { city: 'Oslo', days: 7 } }));
    expect(msg.content).toBe('Oslo: sunny for 5 days');
    expect(seen).toEqual([{ city: 'Oslo', days: 5 }]);
    const [span] = await h.toolSpans();
    expect(span!.attributes).toMatchObject({
      'gen_ai.tool.call.arguments': '{"city":"Oslo","days":5}',
      'tooltrail.arguments.proposed': '{"city":"Oslo","days":7}',
      'tooltrail.decision': 'rewrite',
      'tooltrail.policy.rule': 'weather.cap',
    });
  });

  it("rethrows the tool's own error unchanged and records it", async () => {
    const h = harness();
    class QuotaError extends Error {}
    const boom = new QuotaError('quota exceeded');
    const t = auditLangChainTool(
      tool(async () => {
        throw boom;
      }, { name: 'flaky', description: 'flaky', schema: z.object({}) }),
      { auditor: h.auditor },
    );
    await h.auditor.run(alice, async () => {
      await expect(t.invoke({ type: 'tool_call', id: 'c1', name: 'flaky', args: {} })).rejects.toBe(boom);
    });
    const [span] = await h.toolSpans();
    expect(span!.attributes).toMatchObject({ 'tooltrail.outcome': 'error', 'error.type': 'QuotaError', 'tooltrail.attempts': 1 });
  });

  it('counts a framework retry (withRetry, same ToolCall id) as attempt 2', async () => {
    const h = harness();
    let calls = 0;
    const t = auditLangChainTool(
      tool(async () => {
        calls++;
        if (calls === 1) throw new Error('transient');
        return 'done';
      }, { name: 'flaky', description: 'flaky', schema: z.object({}) }),
      { auditor: h.auditor },
    );
    const retrying = t.withRetry({ stopAfterAttempt: 2, onFailedAttempt: () => undefined });
    const msg = await h.auditor.run(alice, () => retrying.invoke({ type: 'tool_call', id: 'c7', name: 'flaky', args: {} }));
    expect((msg as ToolMessage).content).toBe('done');
    const spans = await h.spans();
    const attempts = spans.filter((s) => s.name === 'tool_attempt flaky').map((s) => attr(s, 'tooltrail.attempt'));
    expect(attempts).toEqual([2]); // the first attempt of a call id has no attempt record; the re-invocation does
    expect((await h.toolSpans()).map((s) => [attr(s, 'gen_ai.tool.call.id'), attr(s, 'tooltrail.outcome')])).toEqual([
      ['c7', 'error'],
      ['c7', 'ok'],
    ]);
  });

  it('drains a streaming tool inside the attempt and records its return value', async () => {
    const h = harness();
    const events: unknown[] = [];
    const t = auditLangChainTool(
      tool(
        async function* ({ n }: { n: number }) {
          for (let i = 1; i <= n; i++) yield { progress: i, user: currentRun()?.principal.id };
          return `counted to ${n}`;
        },
        { name: 'count', description: 'count', schema: z.object({ n: z.number() }) },
      ),
      { auditor: h.auditor },
    );
    const msg = await h.auditor.run(alice, () =>
      t.invoke({ type: 'tool_call', id: 'c1', name: 'count', args: { n: 2 } }, { callbacks: [{ handleToolEvent: (chunk: unknown) => void events.push(chunk) }] }),
    );
    expect(msg.content).toBe('counted to 2');
    expect(events).toEqual([{ progress: 1, user: 'user:42' }, { progress: 2, user: 'user:42' }]);
    expect(attr((await h.toolSpans())[0], 'gen_ai.tool.call.result')).toBe('"counted to 2"');
  });

  it('masks fields the zod schema marks sensitive', async () => {
    const h = harness({ masking: {} });
    const t = auditLangChainTool(
      tool(async ({ user }: { user: string; motto: string }) => `hello ${user}`, {
        name: 'login',
        description: 'login',
        // `motto` is no secret-looking key and no detectable value: only the schema's mark masks it.
        schema: z.object({ user: z.string(), motto: sensitive(z.string()) }),
      }),
      { auditor: h.auditor },
    );
    await h.auditor.run(alice, () => t.invoke({ type: 'tool_call', id: 'c1', name: 'login', args: { user: 'kim', motto: 'purple elephant' } }));
    const args = String(attr((await h.toolSpans())[0], 'gen_ai.tool.call.arguments'));
    expect(args).toContain('"user":"kim"');
    expect(args).not.toContain('purple');
    expect(args).toMatch(/"motto":"\[REDACTED:sensitive\]"/);
  });
});

describe('every kind of LangChain tool stays what it was', () => {
  class Lookup extends StructuredTool {
    name = 'lookup';
    description = 'Look up a customer';
    schema = z.object({ id: z.string().toUpperCase() });
    #table = new Map([['C-1', 'gold']]);
    protected async _call({ id }: { id: string }): Promise<string> {
      return this.#table.get(id) ?? 'unknown';
    }
  }

  it('keeps class, name, description and schema for tool(), DynamicStructuredTool, DynamicTool and subclasses', async () => {
    const h = harness();
    const dynamic = new DynamicStructuredTool({
      name: 'add',
      description: 'Add two numbers',
      schema: z.object({ a: z.number(), b: z.number() }),
      func: async ({ a, b }) => String(a + b),
    });
    const shout = new DynamicTool({ name: 'shout', description: 'Shout text', func: async (s: string) => s.toUpperCase() });
    const originals = [weatherTool(), dynamic, shout, new Lookup()] as const;
    const audited = auditLangChainTools(originals, { auditor: h.auditor });
    for (const [i, t] of audited.entries()) {
      const o = originals[i]!;
      expect(Object.getPrototypeOf(t)).toBe(o);
      expect(t).toBeInstanceOf(StructuredTool);
      expect(t).toBeInstanceOf(o.constructor);
      expect([t.name, t.description, t.schema]).toEqual([o.name, o.description, o.schema]);
      expect(convertToOpenAITool(t)).toEqual(convertToOpenAITool(o));
      expect(isAuditedTool(t)).toBe(true);
      expect(isAuditedTool(o)).toBe(false);
    }
    // A framework model binds them like the originals.
    expect(() => new FakeListChatModel({ responses: ['hi'] }).bindTools([...audited])).not.toThrow();

    const [, add, shoutA, lookup] = audited;
    const results = await h.auditor.run(alice, () =>
      Promise.all([
        add.invoke({ type: 'tool_call', id: 'c-add', name: 'add', args: { a: 1, b: 2 } }),
        shoutA.invoke({ type: 'tool_call', id: 'c-shout', name: 'shout', args: { input: 'hey' } }),
        // A subclass with a private field: the body runs on the original instance.
        lookup.invoke({ type: 'tool_call', id: 'c-look', name: 'lookup', args: { id: 'c-1' } }),
      ]),
    );
    expect(results.map((m) => m.content)).toEqual(['3', 'HEY', 'gold']);
    const byId = new Map((await h.toolSpans()).map((s) => [attr(s, 'gen_ai.tool.call.id'), s]));
    // A string tool's body receives the string; the model proposed { input }.
    expect(attr(byId.get('c-shout'), 'gen_ai.tool.call.arguments')).toBe('"hey"');
    expect(attr(byId.get('c-shout'), 'tooltrail.arguments.proposed')).toBe('{"input":"hey"}');
    expect(attr(byId.get('c-look'), 'gen_ai.tool.call.arguments')).toBe('{"id":"C-1"}');
    expect(attr(byId.get('c-add'), 'tooltrail.arguments.mutated')).toBe(false);
    expect(() => auditLangChainTool(add)).toThrow(/already audited/);
  });

  it('validates JSON-schema tools as LangChain does and records failures as invalid', async () => {
    const h = harness();
    const t = auditLangChainTool(
      new DynamicStructuredTool({
        name: 'book',
        description: 'Book a room',
        schema: { type: 'object', properties: { nights: { type: 'integer', minimum: 1 } }, required: ['nights'] },
        func: async (args: Record<string, unknown>) => `booked ${String(args.nights)}`,
      }),
      { auditor: h.auditor },
    );
    const [ok, bad] = await h.auditor.run(alice, () =>
      Promise.all([
        t.invoke({ type: 'tool_call', id: 'c1', name: 'book', args: { nights: 2 } }),
        t.invoke({ type: 'tool_call', id: 'c2', name: 'book', args: { nights: 0 } }),
      ]),
    );
    expect([ok.content, ok.status, bad.status]).toEqual(['booked 2', 'success', 'error']);
    const spans = await h.toolSpans();
    const invalid = spans.find((s) => attr(s, 'gen_ai.tool.call.id') === 'c2');
    expect(attr(invalid, 'tooltrail.outcome')).toBe('invalid');
    expect(JSON.parse(String(attr(invalid, 'tooltrail.validation.issues')))).toContainEqual(expect.objectContaining({ path: ['nights'], code: 'minimum' }));
  });

  it('uses the default auditor, looked up at call time, when none is given', async () => {
    const h = harness();
    const t = auditLangChainTool(weatherTool()); // wrapped before any default exists
    const { setDefaultAuditor } = await import('@tooltrail/core');
    setDefaultAuditor(h.auditor);
    try {
      await h.auditor.run(alice, () => t.invoke({ type: 'tool_call', id: 'c-def', name: 'get_weather', args: { city: 'Oslo' } }));
    } finally {
      setDefaultAuditor(undefined);
    }
    expect(attr((await h.toolSpans())[0], 'gen_ai.tool.call.id')).toBe('c-def');
  });
});
