import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  AuditConfigError,
  AuditDeniedError,
  AuditUnavailableError,
  deny,
  auditRun,
  auditTools,
  createAuditor,
  setDefaultAuditor,
  withAudit,
  type AuditedFunction,
} from '../src/index.js';
import { alice, harness, rejection } from './helpers.js';

describe('withAudit wrapper', () => {
  it('wraps sync tools; the wrapped one returns a promise of the result', async () => {
    const h = harness();
    const add = h.auditor.withAudit((a: number, b: number) => a + b, { name: 'add' });
    const p = h.auditor.run(alice, () => add(2, 3));
    expect(await p).toBe(5);
    const [span] = await h.toolSpans();
    expect(span!.attributes['gen_ai.tool.call.arguments']).toBe('[2,3]');
    expect(span!.attributes['gen_ai.tool.call.result']).toBe('5');
  });

  it('records a synchronous throw as an error and rethrows it', async () => {
    const h = harness();
    const bad = h.auditor.withAudit(
      (): number => {
        throw new SyntaxError('sync boom');
      },
      { name: 'bad' },
    );
    const err = await h.auditor.run(alice, () => rejection(bad()));
    expect(err).toBeInstanceOf(SyntaxError);
    const [span] = await h.toolSpans();
    expect(span!.attributes['error.type']).toBe('SyntaxError');
  });

  it('keeps `this` for methods and for registries', async () => {
    const h = harness();
    class Mailer {
      sent: string[] = [];
      async send(to: string) {
        this.sent.push(to);
        return this.sent.length;
      }
    }
    const mailer = new Mailer();
    const send = h.auditor.withAudit(mailer.send, { name: 'send' });
    expect(await h.auditor.run(alice, () => send.call(mailer, 'a@example.com'))).toBe(1);
    const registry = {
      prefix: 'ticket-',
      open(id: number) {
        return `${this.prefix}${id}`;
      },
    };
    const audited = h.auditor.auditTools(registry);
    expect(await h.auditor.run(alice, () => audited.open(7))).toBe('ticket-7');
    expect(audited.prefix).toBe('ticket-');
    expect(mailer.sent).toEqual(['a@example.com']);
  });

  it('keeps parameter and return types', () => {
    const h = harness();
    const tool = h.auditor.withAudit(async (a: { id: string }, n: number): Promise<{ ok: boolean }> => ({ ok: a.id.length > n }), {
      name: 't',
    });
    expectTypeOf(tool).parameters.toEqualTypeOf<[{ id: string }, number]>();
    expectTypeOf(tool).returns.toEqualTypeOf<Promise<{ ok: boolean }>>();
    const sync = h.auditor.withAudit((s: string) => s.length, { name: 's' });
    expectTypeOf(sync).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(sync).toMatchTypeOf<AuditedFunction<(s: string) => number>>();
  });

  it('types a tool\'s own policy rules by its argument', async () => {
    const h = harness();
    const send = h.auditor.withAudit(async (a: { to: string }) => a.to, {
      name: 'send',
      // call.args is { to: string } here, no cast needed
      policy: [(call) => (call.args.to.endsWith('.io') ? deny(`external ${call.args.to.length}`, { rule: 'typed' }) : undefined)],
    });
    const err = (await h.auditor.run(alice, () => rejection(send({ to: 'x@evil.io' })))) as AuditDeniedError;
    expect(err.rule).toBe('typed');
  });

    it('names the tool after the function, strips "bound ", and refuses nameless tools clearly', () => {
    const h = harness();
    function lookupCustomer() {
      return 1;
    }
    expect(h.auditor.withAudit(lookupCustomer).toolName).toBe('lookupCustomer');
    expect(h.auditor.withAudit(lookupCustomer.bind(null)).toolName).toBe('lookupCustomer');
    expect(() => h.auditor.withAudit((() => () => 1)())).toThrow(AuditConfigError);
    expect(() => h.auditor.withAudit((() => () => 1)())).toThrow(/needs a tool name/);
    expect(() => h.auditor.withAudit(42 as never)).toThrow(/needs a function/);
    expect(() => h.auditor.withAudit(lookupCustomer, { schema: {} as never })).toThrow(/safeParse/);
  });

  it('auditTools wraps every function under its key, with per-tool options', async () => {
    const h = harness();
    const tools = h.auditor.auditTools(
      { send_email: async (a: { to: string }) => `sent to ${a.to}`, lookup: async (id: string) => ({ id }) },
      { tools: { send_email: { description: 'Send an email' } } },
    );
    await h.auditor.run(alice, async () => {
      await tools.send_email({ to: 'b@example.com' });
      await tools.lookup('c-1');
    });
    const spans = await h.toolSpans();
    expect(spans.map((s) => [s.attributes['gen_ai.tool.name'], s.attributes['gen_ai.tool.description']])).toEqual([
      ['send_email', 'Send an email'],
      ['lookup', undefined],
    ]);
    expect(() => h.auditor.auditTools(null as never)).toThrow(AuditConfigError);
  });

  it('refuses calls after shutdown: the body never runs unaudited', async () => {
    const h = harness();
    let ran = 0;
    const tool = h.auditor.withAudit(async () => ran++, { name: 't' });
    await h.auditor.shutdown();
    const err = await h.auditor.run(alice, () => rejection(tool()));
    expect(err).toBeInstanceOf(AuditUnavailableError);
    expect((err as AuditUnavailableError).code).toBe('TOOLTRAIL_SHUT_DOWN');
    expect(ran).toBe(0);
  });

  it('counts calls by outcome in stats()', async () => {
    const h = harness();
    const ok = h.auditor.withAudit(async () => 1, { name: 'ok' });
    const bad = h.auditor.withAudit(async () => Promise.reject(new Error('x')), { name: 'bad' });
    await h.auditor.run(alice, async () => {
      await ok();
      await rejection(bad());
    });
    await rejection(ok());
    await h.auditor.flush();
    const stats = h.auditor.stats();
    expect(stats.calls).toEqual({ ok: 1, error: 1, denied: 1, invalid: 0 });
    expect(stats.recorded).toBe(stats.exported);
    expect(stats.dropped).toBe(0);
  });
});

describe('the default auditor', () => {
  it('delegates top-level withAudit at call time, so tools can be wrapped before any auditor exists', async () => {
    setDefaultAuditor(undefined);
    let ran = 0;
    const early = withAudit(async function early() {
      ran++;
      return 'ok';
    });
    const err = await rejection(early());
    expect(err).toBeInstanceOf(AuditConfigError);
    expect((err as AuditConfigError).code).toBe('TOOLTRAIL_NO_AUDITOR');
    expect(String((err as Error).message)).toMatch(/no auditor exists/);
    expect(ran).toBe(0);
    await expect(auditRun(alice, () => 1)).rejects.toThrow(/no auditor exists/);

    const h = harness();
    setDefaultAuditor(h.auditor);
    expect(await auditRun(alice, () => early())).toBe('ok');
    const tools = auditTools({ ping: async () => 'pong' });
    expect(await auditRun(alice, () => tools.ping())).toBe('pong');
    const spans = await h.toolSpans();
    expect(spans.map((s) => s.attributes['gen_ai.tool.name'])).toEqual(['early', 'ping']);
    setDefaultAuditor(undefined);
  });

  it('makes the first auditor created the default, and replaces a shut-down default', async () => {
    setDefaultAuditor(undefined);
    const opts = () => ({ serviceName: 'x', exporter: new InMemorySpanExporter(), logger: { warn() {} } });
    const a = createAuditor(opts());
    const b = createAuditor(opts());
    const tool = withAudit(async () => 1, { name: 't' });
    await auditRun(alice, () => tool());
    expect(a.stats().calls.ok).toBe(1);
    expect(b.stats().calls.ok).toBe(0);
    await a.shutdown();
    const c = createAuditor(opts());
    await auditRun(alice, () => tool());
    expect(c.stats().calls.ok).toBe(1);
    setDefaultAuditor(undefined);
    await Promise.all([b.shutdown(), c.shutdown()]);
    expect(() => setDefaultAuditor({} as never)).toThrow(AuditConfigError);
  });

  it('rejects bad auditor options with typed, readable errors', () => {
    expect(() => createAuditor({ serviceName: '' })).toThrow(/serviceName must be a non-empty string/);
    expect(() => createAuditor({ serviceName: 'x', endpoint: 'ftp://nope' })).toThrow(/endpoint must be an http\(s\) URL/);
    expect(() => createAuditor({ serviceName: 'x', policy: ['deny'] as never })).toThrow(AuditConfigError);
    expect(() => createAuditor(undefined as never)).toThrow(AuditConfigError);
  });
});
