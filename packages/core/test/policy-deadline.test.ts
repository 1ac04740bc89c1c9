import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allow, AuditDeniedError, AuditValidationError, type PolicyRule } from '../src/index.js';
import { killAll, track } from './collector-harness.js';
import { alice, harness, rejection } from './helpers.js';

afterAll(() => killAll());
const agent = path.join(path.resolve(new URL('.', import.meta.url).pathname, '../../..'), 'packages/core/test/lifecycle-agent.ts');

/** Runs the deadline agent to its natural end; its stdout lines and how long it lived. */
async function runAgent(mode: string, timeoutMs: number): Promise<{ lines: Record<string, unknown>[]; ms: number; code: number | null }> {
  const started = Date.now();
  const proc = track(spawn(process.execPath, ['--import', 'tsx', agent], { env: { ...process.env, MODE: mode, POLICY_TIMEOUT_MS: String(timeoutMs) }, stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { lines: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), ms: Date.now() - started, code };
}

/** An exporter that keeps what it got (the SDK's in-memory one forgets at shutdown). */
function keeper(): { exporter: { export: (s: ReadableSpan[], done: (r: { code: number }) => void) => void; shutdown: () => Promise<void> }; names: string[] } {
  const names: string[] = [];
  return {
    names,
    exporter: { export: (spans, done) => (names.push(...spans.map((s) => s.name)), done({ code: 0 })), shutdown: async () => undefined },
  };
}

/** A promise the test settles by hand. */
function later<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('policy and schema deadline', () => {
  it('denies a call whose rule never settles, records tooltrail.policy-timeout, and never runs the body when the rule settles later', async () => {
    const h = harness({ policyTimeoutMs: 80 });
    const gate = later<ReturnType<typeof allow>>();
    const slowRule: PolicyRule = function approvalService() {
      return gate.promise;
    };
    let ran = 0;
    const tool = h.auditor.withAudit(async (_: unknown) => ran++, { name: 'pay', policy: [slowRule] });
    const started = Date.now();
    const err = await h.auditor.run(alice, () => rejection(tool({ amount: 5 })));
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(AuditDeniedError);
    expect((err as AuditDeniedError).rule).toBe('tooltrail.policy-timeout');
    expect(took).toBeGreaterThanOrEqual(70);
    expect(took).toBeLessThan(5_000);
    // The rule answers "allow" after its deadline: too late, nothing runs.
    gate.resolve(allow('finally'));
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toBe(0);
    const [span, ...rest] = await h.toolSpans();
    expect(rest).toHaveLength(0);
    expect(span!.attributes).toMatchObject({
      'tooltrail.outcome': 'denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'tooltrail.policy-timeout',
      'tooltrail.policy.reason': 'policy rule approvalService did not decide within 80 ms; call denied (fail closed)',
      'tooltrail.attempts': 0,
      'error.type': 'tooltrail.denied',
    });
    expect((await h.spans()).filter((s) => s.name.startsWith('tool_attempt'))).toHaveLength(0);
  });

  it('records a schema that never settles as invalid with a schema_timeout issue; a tool can have its own deadline', async () => {
    const h = harness({ policyTimeoutMs: 10_000 });
    const never = { safeParse: () => new Promise(() => undefined) };
    let ran = 0;
    const tool = h.auditor.withAudit(async (_: unknown) => ran++, { name: 'lookup', schema: never as never, policyTimeoutMs: 60 });
    const started = Date.now();
    const err = await h.auditor.run(alice, () => rejection(tool('x')));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(AuditValidationError);
    expect((err as AuditValidationError).issues).toEqual([
      { path: [], code: 'schema_timeout', message: 'schema did not settle within 60 ms; the call was not run' },
    ]);
    expect(ran).toBe(0);
    const [span] = await h.toolSpans();
    expect(span!.attributes['tooltrail.outcome']).toBe('invalid');
    expect(JSON.parse(String(span!.attributes['tooltrail.validation.issues']))).toEqual([
      { path: [], code: 'schema_timeout', message: 'schema did not settle within 60 ms; the call was not run' },
    ]);
  });

  it('gives the schema and the rules one deadline together (zod async refinement, then an async rule)', async () => {
    const h = harness({ policyTimeoutMs: 150 });
    const schema = z.object({ id: z.string().refine(async () => (await new Promise((r) => setTimeout(r, 100)), true)) });
    const rule: PolicyRule = async function slowCheck() {
      await new Promise((r) => setTimeout(r, 100));
      return undefined;
    };
    let ran = 0;
    const tool = h.auditor.withAudit(async (_: unknown) => ran++, { name: 'two', schema, policy: [rule] });
    const err = await h.auditor.run(alice, () => rejection(tool({ id: 'a' })));
    expect((err as AuditDeniedError).rule).toBe('tooltrail.policy-timeout');
    expect((err as AuditDeniedError).reason).toBe('policy rule slowCheck did not decide within 150 ms; call denied (fail closed)');
    expect(ran).toBe(0);
    // Within the deadline, the same call runs.
    const h2 = harness({ policyTimeoutMs: 2_000 });
    const ok = h2.auditor.withAudit(async (_: unknown) => ran++, { name: 'two', schema, policy: [rule] });
    await h2.auditor.run(alice, () => ok({ id: 'a' }));
    expect(ran).toBe(1);
  });

  it('a rule that throws or a schema returning garbage is still recorded, not lost', async () => {
    const h = harness();
    const garbage = { safeParse: () => 42 };
    const tool = h.auditor.withAudit(async (_: unknown) => 1, { name: 'g', schema: garbage as never });
    const err = await h.auditor.run(alice, () => rejection(tool('x')));
    expect((err as AuditValidationError).issues[0]!.code).toBe('schema_error');
    const [span] = await h.toolSpans();
    expect(span!.attributes['tooltrail.outcome']).toBe('invalid');
  });

  it('shutdown decides pending rules at once: the call is denied and recorded before the sink closes', async () => {
    const k = keeper();
    const h = harness({ policyTimeoutMs: 60_000, exporter: k.exporter });
    let ran = 0;
    const tool = h.auditor.withAudit(async () => ran++, { name: 'pending', policy: [() => new Promise(() => undefined)] });
    const call = h.auditor.run(alice, () => tool()).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    const ok = await h.auditor.shutdown(400);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(ok).toBe(true);
    const err = await call;
    expect((err as AuditDeniedError).rule).toBe('tooltrail.policy-timeout');
    expect((err as AuditDeniedError).reason).toMatch(/the auditor shut down while policy rule policy\[0\] was still deciding/);
    expect(ran).toBe(0);
    expect(k.names.filter((n) => n !== 'invoke_agent support-bot')).toEqual(['tooltrail.stream_start', 'execute_tool pending', 'tooltrail.checkpoint']);
  });

  it('in a real process: a pending rule keeps it alive until the call is recorded; a settled one does not hold it for the deadline', async () => {
    // Without the deadline's timer the process would end at once, the call pending forever and never recorded.
    const pending = await runAgent('pending-rule', 1_500);
    expect(pending.code).toBe(0);
    expect(pending.lines).toContainEqual({ error: 'TOOLTRAIL_DENIED' });
    expect(pending.lines).toContainEqual({ span: 'execute_tool guarded', rule: 'tooltrail.policy-timeout', outcome: 'denied' });
    expect(pending.ms).toBeGreaterThanOrEqual(1_500);
    // A rule that settles clears its timer: the process ends long before a 60 s deadline.
    const quick = await runAgent('quick-rule', 60_000);
    expect(quick.code).toBe(0);
    expect(quick.lines).toContainEqual({ result: 'ran' });
    expect(quick.lines).toContainEqual({ span: 'execute_tool guarded', outcome: 'ok' });
    expect(quick.ms).toBeLessThan(20_000);
  });
});
