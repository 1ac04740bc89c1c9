/**
 * tooltrail against a real Jaeger v2 (`npm run test:jaeger`; Jaeger is built and started by
 * scripts/jaeger.sh from the global setup). The built package exports over OTLP/HTTP to
 * Jaeger, and the spans are read back through Jaeger's query API and compared, attribute by
 * attribute, with what the tools did. docs/span-schema.md is the contract checked here.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AuditDeniedError,
  AuditValidationError,
  createAuditor,
  currentCall,
  deny,
  setDefaultAuditor,
  type AuditorOptions,
  type ToolCall,
} from '@tooltrail/core';
import { JAEGER_OTLP_ENDPOINT, JaegerQuery, otlpAttributesToMap, type Attributes, type Span, type Trace } from './jaeger/jaeger-query.js';

const jaeger = new JaegerQuery();
const coreVersion = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

class MailboxFullError extends Error {}
class Flaky extends Error {}

/** A service name no other test (or earlier run against the same Jaeger) uses. */
function uniqueService(label: string): string {
  return `tooltrail-jaeger-${label}-${randomUUID().slice(0, 8)}`;
}

const spoolDirs: string[] = [];
afterAll(() => {
  for (const dir of spoolDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function auditorFor(serviceName: string, options: Partial<AuditorOptions> = {}) {
  const warnings: string[] = [];
  // A spool of its own: the default (./.tooltrail-spool) is shared with every other process
  // started in the same folder, and would replay their leftovers into this test's Jaeger.
  const spoolDir = mkdtempSync(path.join(tmpdir(), 'tooltrail-jaeger-spool-'));
  spoolDirs.push(spoolDir);
  // Masking off unless a test turns it on: payloads are then recorded as the tools saw them,
  // so they can be compared exactly. The integrity chain is off too: this suite checks the span
  // contract; the chain (its attributes and checkpoint spans) is verified through this same
  // Jaeger by packages/cli/test/verify.jaeger.test.ts.
  const auditor = createAuditor({
    serviceName,
    endpoint: JAEGER_OTLP_ENDPOINT,
    logger: { warn: (m) => warnings.push(m) },
    spoolDir,
    masking: false,
    integrity: false,
    ...options,
  });
  setDefaultAuditor(undefined);
  return { auditor, warnings };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

function childrenOf(spans: readonly Span[], parent: Span): Span[] {
  return spans.filter((s) => s.parentSpanId === parent.spanId);
}

const identity = (runId: string) => ({
  runId,
  principal: { id: 'user:42', type: 'user' },
  agent: { name: 'support-bot', id: 'bot-7' },
  conversationId: 'conv-1',
  attributes: { tenant: 'acme', shard: 2, ratio: 0.5, beta: true },
});

/** The run's identity as every span of the run carries it. */
const runAttributes = (runId: string): Attributes => ({
  'tooltrail.run.id': runId,
  'user.id': 'user:42',
  'tooltrail.principal.type': 'user',
  'gen_ai.agent.name': 'support-bot',
  'gen_ai.agent.id': 'bot-7',
  'gen_ai.conversation.id': 'conv-1',
  'tooltrail.run.attr.tenant': 'acme',
  'tooltrail.run.attr.shard': 2,
  'tooltrail.run.attr.ratio': 0.5,
  'tooltrail.run.attr.beta': true,
});

describe('one run through every outcome, read back from Jaeger', () => {
  const service = uniqueService('outcomes');
  const runId = `run-${randomUUID()}`;
  const resourceAttributes = { 'deployment.environment.name': 'ci', 'service.version': '1.2.3' };
  // What every auditor detects (docs/span-schema.md, "Resource").
  const detected = {
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': expect.any(String),
    'telemetry.distro.name': 'tooltrail',
    'telemetry.distro.version': coreVersion,
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'host.name': hostname(),
    'host.arch': process.arch === 'x64' ? 'amd64' : expect.any(String),
    'os.type': process.platform === 'win32' ? 'windows' : process.platform,
  };

  // What the tools did, recorded by the tools themselves (or the errors the caller got).
  const did = {
    ok: { callId: '', received: undefined as unknown, result: undefined as unknown },
    error: { callId: '', thrown: undefined as unknown },
    denied: undefined as unknown,
    invalid: undefined as unknown,
    retried: { callIds: [] as string[], attempts: [] as number[], result: undefined as unknown },
    framework: { callIds: [] as string[], attempts: [] as number[], first: undefined as unknown, second: undefined as unknown },
  };
  let warnings: string[] = [];
  let trace: Trace;
  let spans: Span[];
  let calls: Span[];

  beforeAll(async () => {
    const internalOnly = (c: ToolCall) =>
      c.tool === 'send_email' && !String((c.args as { to: string }).to).endsWith('@example.com')
        ? deny('recipient outside the company', { rule: 'mail.internal-only' })
        : undefined;
    const a = auditorFor(service, { policy: [internalOnly], resourceAttributes });
    const { auditor } = a;
    warnings = a.warnings;

    const sendEmail = auditor.withAudit(
      async (args: { to: string; subject: string; priority?: number }) => {
        did.ok.callId = currentCall()!.callId;
        did.ok.received = structuredClone(args);
        return { queued: true, to: args.to };
      },
      {
        name: 'send_email',
        description: 'Send an email',
        schema: z.object({ to: z.string().email(), subject: z.string(), priority: z.number().default(3) }),
      },
    );
    const deliver = auditor.withAudit(
      async (_: { to: string }) => {
        did.error.callId = currentCall()!.callId;
        throw new MailboxFullError('mailbox of bob is full');
      },
      { name: 'deliver' },
    );
    const fetchPage = auditor.withAudit(
      async (_: { url: string }) => {
        const call = currentCall()!;
        did.retried.callIds.push(call.callId);
        did.retried.attempts.push(call.attempt);
        if (call.attempt < 3) throw new Flaky(`try ${call.attempt} failed`);
        return { status: 200 };
      },
      { name: 'fetch_page', retry: { attempts: 5, backoffMs: 1 } },
    );
    const search = auditor.withAudit(
      async (q: string) => {
        const call = currentCall()!;
        did.framework.callIds.push(call.callId);
        did.framework.attempts.push(call.attempt);
        if (call.attempt === 1) throw new Flaky('timeout');
        return q.toUpperCase();
      },
      { name: 'search' },
    );

    await auditor.run(identity(runId), async () => {
      did.ok.result = await sendEmail({ to: 'bob@example.com', subject: 'hi' }); // ok; the schema adds priority
      did.error.thrown = await rejection(deliver({ to: 'bob@example.com' })); // error
      did.denied = await rejection(sendEmail({ to: 'mallory@evil.io', subject: 'hi' })); // denied by policy
      did.invalid = await rejection(sendEmail({ to: 'not-an-address', subject: 'hi' })); // invalid by schema
      did.retried.result = await fetchPage({ url: 'https://example.com/a' }); // 3 attempts
      did.framework.first = await rejection(search.invokeWith({ callId: 'toolu_01' }, 'abc')); // framework retry:
      did.framework.second = await search.invokeWith({ callId: 'toolu_01' }, 'abc'); // same call id again
    });
    expect(await auditor.shutdown(10_000)).toBe(true);

    // 1 invoke_agent + 7 execute_tool + 4 tool_attempt (0 + 0 + 0 + 0 + 3 + 0 + 1): a call with one
    // attempt has no attempt record; the retried tool and the framework's re-invocation keep theirs.
    const traces = await jaeger.waitForSpans({ service }, 12);
    expect(traces).toHaveLength(1);
    trace = traces[0]!;
    spans = trace.spans;
    calls = spans.filter((s) => s.name.startsWith('execute_tool '));
  });

  const call = (callId: string, outcome?: string): Span => {
    const found = calls.filter((s) => s.attributes['gen_ai.tool.call.id'] === callId && (!outcome || s.attributes['tooltrail.outcome'] === outcome));
    expect(found, `execute_tool span of ${callId} ${outcome ?? ''}`).toHaveLength(1);
    return found[0]!;
  };

  it('exports without a warning, in one trace: invoke_agent -> execute_tool -> tool_attempt', async () => {
    expect(warnings).toEqual([]);
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.warnings).toEqual([]);
    expect(spans).toHaveLength(12);
    for (const s of spans) {
      expect(s.traceId).toBe(trace.traceId);
      expect(s.kind).toBe('internal');
      expect(s.service).toBe(service);
      expect(s.resource).toEqual({ ...detected, ...resourceAttributes });
      expect(s.scope).toEqual({ name: '@tooltrail/core', version: coreVersion });
      expect(s.warnings).toEqual([]);
    }

    const roots = spans.filter((s) => s.parentSpanId === undefined);
    expect(roots.map((s) => s.name)).toEqual(['invoke_agent support-bot']);
    const run = roots[0]!;
    expect(run.attributes).toEqual({ 'gen_ai.operation.name': 'invoke_agent', ...runAttributes(runId) });
    expect(run.status).toEqual({ code: 'OK' });

    // Every call is a child of the run span, in the order the calls were made.
    expect(childrenOf(spans, run)).toEqual(calls);
    expect(calls.map((s) => s.name)).toEqual([
      'execute_tool send_email',
      'execute_tool deliver',
      'execute_tool send_email',
      'execute_tool send_email',
      'execute_tool fetch_page',
      'execute_tool search',
      'execute_tool search',
    ]);
    // Every attempt is a child of its call span, with the call's id, inside its time window.
    const attempts = spans.filter((s) => s.name.startsWith('tool_attempt '));
    expect(attempts).toHaveLength(4);
    for (const attempt of attempts) {
      const parent = calls.find((c) => c.spanId === attempt.parentSpanId);
      expect(parent, `parent of ${attempt.name}`).toBeDefined();
      expect(attempt.name).toBe(parent!.name.replace('execute_tool ', 'tool_attempt '));
      expect(attempt.attributes['gen_ai.tool.call.id']).toBe(parent!.attributes['gen_ai.tool.call.id']);
      expect(attempt.startTimeUs).toBeGreaterThanOrEqual(parent!.startTimeUs);
      // Jaeger keeps microseconds; allow one for rounding.
      expect(attempt.startTimeUs + attempt.durationUs).toBeLessThanOrEqual(parent!.startTimeUs + parent!.durationUs + 1);
    }
    for (const c of calls) expect(c.startTimeUs + c.durationUs).toBeLessThanOrEqual(run.startTimeUs + run.durationUs + 1);

    // The trace by id is the same trace.
    const byId = await jaeger.getTrace(trace.traceId);
    expect(byId).toEqual(trace);
  });

  it('ok: records the arguments as the tool received them (schema default applied), the proposal and the result', () => {
    expect(did.ok.received).toEqual({ to: 'bob@example.com', subject: 'hi', priority: 3 });
    const span = call(did.ok.callId);
    expect(did.ok.callId).toMatch(/^call_[0-9a-f]{24}$/);
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'send_email',
      'gen_ai.tool.call.id': did.ok.callId,
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.description': 'Send an email',
      'gen_ai.tool.call.arguments': JSON.stringify(did.ok.received),
      'tooltrail.arguments.proposed': '{"to":"bob@example.com","subject":"hi"}',
      'tooltrail.arguments.mutated': true,
      'gen_ai.tool.call.result': JSON.stringify(did.ok.result),
      'tooltrail.outcome': 'ok',
      'tooltrail.decision': 'allow',
      'tooltrail.attempts': 1,
      ...runAttributes(runId),
    });
    expect(span.attributes['gen_ai.tool.call.arguments']).toBe('{"to":"bob@example.com","subject":"hi","priority":3}');
    expect(span.attributes['gen_ai.tool.call.result']).toBe('{"queued":true,"to":"bob@example.com"}');
    expect(span.status).toEqual({ code: 'OK' });
    expect(span.events).toEqual([]);
    // One attempt, no retry configured: the call span is the execution's record.
    expect(childrenOf(spans, span)).toEqual([]);
  });

  it('error: records the thrown class as error.type, the message as status, and an exception event', () => {
    const thrown = did.error.thrown as MailboxFullError;
    expect(thrown).toBeInstanceOf(MailboxFullError);
    const span = call(did.error.callId);
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'deliver',
      'gen_ai.tool.call.id': did.error.callId,
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.arguments': '{"to":"bob@example.com"}',
      'tooltrail.arguments.mutated': false,
      'tooltrail.outcome': 'error',
      'error.type': 'MailboxFullError',
      'tooltrail.decision': 'allow',
      'tooltrail.attempts': 1,
      ...runAttributes(runId),
    });
    expect(span.status).toEqual({ code: 'ERROR', message: thrown.message });
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
    expect(span.events[0]!.attributes).toEqual({
      'exception.type': 'MailboxFullError',
      'exception.message': 'mailbox of bob is full',
      'exception.stacktrace': expect.stringContaining('core.jaeger.test.ts'),
    });
    // One attempt: its failure is on the call span itself (above), with no attempt record.
    expect(childrenOf(spans, span)).toEqual([]);
  });

  it('denied: records the refused arguments, the rule and the reason, and no attempt', () => {
    const err = did.denied as AuditDeniedError;
    expect(err).toBeInstanceOf(AuditDeniedError);
    expect(err.rule).toBe('mail.internal-only');
    const span = call(err.callId);
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'send_email',
      'gen_ai.tool.call.id': err.callId,
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.description': 'Send an email',
      'gen_ai.tool.call.arguments': '{"to":"mallory@evil.io","subject":"hi","priority":3}',
      'tooltrail.arguments.proposed': '{"to":"mallory@evil.io","subject":"hi"}',
      'tooltrail.arguments.mutated': true,
      'tooltrail.outcome': 'denied',
      'error.type': 'tooltrail.denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'mail.internal-only',
      'tooltrail.policy.reason': 'recipient outside the company',
      'tooltrail.attempts': 0,
      ...runAttributes(runId),
    });
    expect(span.status).toEqual({ code: 'ERROR', message: err.message });
    expect(span.events).toEqual([]);
    expect(childrenOf(spans, span)).toEqual([]);
  });

  it('invalid: records the arguments as given and the schema issues, and no attempt', () => {
    const err = did.invalid as AuditValidationError;
    expect(err).toBeInstanceOf(AuditValidationError);
    const span = call(err.callId);
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'send_email',
      'gen_ai.tool.call.id': err.callId,
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.description': 'Send an email',
      'gen_ai.tool.call.arguments': '{"to":"not-an-address","subject":"hi"}',
      'tooltrail.arguments.mutated': false,
      'tooltrail.outcome': 'invalid',
      'error.type': 'tooltrail.invalid_arguments',
      'tooltrail.validation.issues': JSON.stringify(err.issues),
      'tooltrail.attempts': 0,
      ...runAttributes(runId),
    });
    expect(JSON.parse(String(span.attributes['tooltrail.validation.issues']))).toEqual([
      { path: ['to'], code: 'invalid_format', message: expect.any(String) },
    ]);
    expect(span.status).toEqual({ code: 'ERROR', message: err.message });
    expect(childrenOf(spans, span)).toEqual([]);
  });

  it('retried: one call span with 3 attempts, each a child span with its number, error and back-off', () => {
    expect(did.retried.attempts).toEqual([1, 2, 3]);
    const callId = did.retried.callIds[0]!;
    expect(new Set(did.retried.callIds)).toEqual(new Set([callId]));
    const span = call(callId);
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'fetch_page',
      'gen_ai.tool.call.id': callId,
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.arguments': '{"url":"https://example.com/a"}',
      'gen_ai.tool.call.result': JSON.stringify(did.retried.result),
      'tooltrail.arguments.mutated': false,
      'tooltrail.outcome': 'ok',
      'tooltrail.decision': 'allow',
      'tooltrail.attempts': 3,
      ...runAttributes(runId),
    });
    expect(span.status).toEqual({ code: 'OK' });
    const attempts = childrenOf(spans, span);
    // Attempts carry no gen_ai.operation.name (docs/span-schema.md): a GenAI backend counts the call once.
    const base = { 'gen_ai.tool.name': 'fetch_page', 'gen_ai.tool.call.id': callId };
    expect(attempts.map((a) => a.attributes)).toEqual([
      { ...base, 'tooltrail.attempt': 1, 'error.type': 'Flaky', 'tooltrail.retry.delay_ms': 1 },
      { ...base, 'tooltrail.attempt': 2, 'error.type': 'Flaky', 'tooltrail.retry.delay_ms': 2 },
      { ...base, 'tooltrail.attempt': 3 },
    ]);
    expect(attempts.map((a) => a.status)).toEqual([
      { code: 'ERROR', message: 'try 1 failed' },
      { code: 'ERROR', message: 'try 2 failed' },
      { code: 'OK' },
    ]);
    expect(attempts.map((a) => a.events.map((e) => e.name))).toEqual([['exception'], ['exception'], []]);
  });

  it('framework retry: the same call id twice is two call spans, attempts numbered 1 then 2', () => {
    expect(did.framework.callIds).toEqual(['toolu_01', 'toolu_01']);
    expect(did.framework.attempts).toEqual([1, 2]);
    expect(did.framework.first).toBeInstanceOf(Flaky);
    expect(did.framework.second).toBe('ABC');
    const failed = call('toolu_01', 'error');
    const succeeded = call('toolu_01', 'ok');
    const base = {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'search',
      'gen_ai.tool.call.id': 'toolu_01',
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.arguments': '"abc"',
      'tooltrail.arguments.mutated': false,
      'tooltrail.decision': 'allow',
      'tooltrail.attempts': 1,
      ...runAttributes(runId),
    };
    expect(failed.attributes).toEqual({ ...base, 'tooltrail.outcome': 'error', 'error.type': 'Flaky' });
    expect(succeeded.attributes).toEqual({ ...base, 'tooltrail.outcome': 'ok', 'gen_ai.tool.call.result': '"ABC"' });
    expect(failed.status).toEqual({ code: 'ERROR', message: 'timeout' });
    expect(succeeded.status).toEqual({ code: 'OK' });
    expect(failed.startTimeUs).toBeLessThanOrEqual(succeeded.startTimeUs);
    const attemptOf = (s: Span) => childrenOf(spans, s).map((a) => a.attributes);
    const attemptBase = { 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.id': 'toolu_01' };
    // The first invocation of the call id had one attempt (no record); the re-invocation has its own.
    expect(attemptOf(failed)).toEqual([]);
    expect(attemptOf(succeeded)).toEqual([{ ...attemptBase, 'tooltrail.attempt': 2 }]);
  });

  it('is found by the searches docs/jaeger.md tells an auditor to run', async () => {
    const find = async (q: { operation?: string; tags?: Record<string, string> }) => {
      const traces = await jaeger.findTraces({ service, ...q });
      return traces.map((t) => t.traceId);
    };
    expect(await find({ operation: 'execute_tool send_email' })).toEqual([trace.traceId]);
    expect(await find({ tags: { 'tooltrail.outcome': 'denied' } })).toEqual([trace.traceId]);
    expect(await find({ tags: { 'error.type': 'MailboxFullError' } })).toEqual([trace.traceId]);
    expect(await find({ tags: { 'user.id': 'user:42', 'tooltrail.run.id': runId } })).toEqual([trace.traceId]);
    expect(await find({ tags: { 'gen_ai.tool.call.id': 'toolu_01' } })).toEqual([trace.traceId]);
    expect(await find({ tags: { 'tooltrail.outcome': 'denied', 'gen_ai.tool.name': 'deliver' } })).toEqual([]);
    expect(await find({ tags: { 'user.id': 'user:nobody' } })).toEqual([]);
    expect(await jaeger.services()).toContain(service);
  });

  it('serves the same spans as OTLP JSON through the v3 API: kinds, status codes, parents, attributes', async () => {
    const otlp = await jaeger.getTraceOtlp(trace.traceId);
    expect(otlp).toBeDefined();
    // One resourceSpans entry per batch Jaeger received; all of them this auditor's resource.
    expect(otlp!.resourceSpans.length).toBeGreaterThanOrEqual(1);
    for (const rs of otlp!.resourceSpans) {
      expect(otlpAttributesToMap(rs.resource.attributes)).toEqual({ ...detected, 'service.name': service, ...resourceAttributes });
      for (const ss of rs.scopeSpans) expect(ss.scope).toEqual({ name: '@tooltrail/core', version: coreVersion });
    }
    const otlpSpans = otlp!.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    expect(otlpSpans).toHaveLength(spans.length);
    const statusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
    for (const s of spans) {
      const o = otlpSpans.find((x) => x.spanId === s.spanId);
      expect(o, s.spanId).toBeDefined();
      expect(o!.name).toBe(s.name);
      expect(o!.kind).toBe(1); // SPAN_KIND_INTERNAL
      expect(o!.parentSpanId || undefined).toBe(s.parentSpanId);
      expect(o!.status?.code ?? 0).toBe(statusCode[s.status.code]);
      expect(o!.status?.message).toBe(s.status.message);
      expect(otlpAttributesToMap(o!.attributes)).toEqual(s.attributes);
    }
  });
});

describe('a call outside any run', () => {
  it('is denied by tooltrail.require-identity and lands in Jaeger as a lone execute_tool span without identity', async () => {
    const service = uniqueService('no-run');
    const { auditor, warnings } = auditorFor(service);
    let ran = 0;
    const lookup = auditor.withAudit(async (id: string) => ran++ + id.length, { name: 'lookup', type: 'datastore' });
    const err = (await rejection(lookup('c-1'))) as AuditDeniedError;
    expect(await auditor.shutdown(10_000)).toBe(true);
    expect(warnings).toEqual([]);
    expect(err).toBeInstanceOf(AuditDeniedError);
    expect(ran).toBe(0);

    const [trace, ...others] = await jaeger.waitForSpans({ service }, 1);
    expect(others).toEqual([]);
    const [span] = trace!.spans;
    expect(span!.name).toBe('execute_tool lookup');
    expect(span!.parentSpanId).toBeUndefined();
    expect(span!.kind).toBe('internal');
    expect(span!.status).toEqual({ code: 'ERROR', message: err.message });
    expect(span!.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'lookup',
      'gen_ai.tool.call.id': err.callId,
      'gen_ai.tool.type': 'datastore',
      'gen_ai.tool.call.arguments': '"c-1"',
      'tooltrail.arguments.mutated': false,
      'tooltrail.outcome': 'denied',
      'error.type': 'tooltrail.denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'tooltrail.require-identity',
      'tooltrail.policy.reason': err.reason,
      'tooltrail.attempts': 0,
    });
  });
});

describe('with masking on (the default)', () => {
  it('sends no raw email to Jaeger, and the span says how much was masked', async () => {
    const service = uniqueService('masked');
    const runId = `run-${randomUUID()}`;
    const { auditor } = auditorFor(service, { masking: undefined } as Partial<AuditorOptions>);
    let received: unknown;
    const send = auditor.withAudit(
      async (args: { to: string; subject: string }) => {
        received = structuredClone(args);
        return { sentTo: args.to };
      },
      { name: 'send_email' },
    );
    await auditor.run(identity(runId), () => send({ to: 'bob@example.com', subject: 'hi' }));
    expect(await auditor.shutdown(10_000)).toBe(true);
    // The tool itself saw the real address; only the record is masked.
    expect(received).toEqual({ to: 'bob@example.com', subject: 'hi' });

    // The run span and the call (one attempt: no attempt record).
    const [trace] = await jaeger.waitForSpans({ service }, 2);
    expect(JSON.stringify(trace)).not.toContain('bob@example.com');
    const span = trace!.spans.find((s) => s.name === 'execute_tool send_email')!;
    expect(span.attributes['tooltrail.outcome']).toBe('ok');
    expect(span.attributes['tooltrail.run.id']).toBe(runId);
    expect(String(span.attributes['gen_ai.tool.call.arguments'])).toContain('"subject":"hi"');
    expect(span.attributes['tooltrail.mask.count']).toBeGreaterThan(0);
    const raw = await jaeger.getTraceOtlp(trace!.traceId);
    expect(JSON.stringify(raw)).not.toContain('bob@example.com');
    // tooltrail.mask.kinds is an array attribute: an array in OTLP, its JSON as a string tag in
    // Jaeger's own API (which has no array tags).
    const otlpSpan = raw!.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).find((s) => s.spanId === span.spanId)!;
    const kinds = otlpAttributesToMap(otlpSpan.attributes)['tooltrail.mask.kinds'];
    expect(Array.isArray(kinds) && kinds.length > 0).toBe(true);
    expect(JSON.parse(String(span.attributes['tooltrail.mask.kinds']))).toEqual(kinds);
  });
});
