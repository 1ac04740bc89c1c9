import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditUnavailableError, createAuditor, setDefaultAuditor, type PayloadEncoder } from '../src/index.js';
import { killAll, readRecords, startCollector, tempDir } from './collector-harness.js';
import { alice, harness, rejection } from './helpers.js';

afterAll(() => killAll());

/** An exporter that keeps every span it was given (the SDK's in-memory one forgets at shutdown). */
function keeper() {
  const spans: ReadableSpan[] = [];
  return {
    spans,
    exporter: {
      export: (batch: ReadableSpan[], done: (r: { code: number }) => void) => (spans.push(...batch), done({ code: 0 })),
      shutdown: async () => undefined,
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const names = (spans: readonly ReadableSpan[]) => spans.map((s) => s.name);

describe('no body runs without its record: shutdown', () => {
  it('waits for calls in flight and writes their records before the sink closes; refuses new calls at once', async () => {
    const k = keeper();
    const h = harness({ exporter: k.exporter });
    let ran = 0;
    const slow = h.auditor.withAudit(async (ms: number) => (await sleep(ms), ++ran), { name: 'slow' });
    const inFlight = h.auditor.run(alice, () => Promise.all([slow(150), slow(250)]));
    await sleep(30);
    const shutdown = h.auditor.shutdown(10_000);
    expect(h.auditor.isShutdown).toBe(true);
    // Shutdown already began: a new call is refused and never runs.
    const refused = await h.auditor.run(alice, () => rejection(slow(1)));
    expect(refused).toBeInstanceOf(AuditUnavailableError);
    expect((refused as AuditUnavailableError).code).toBe('TOOLTRAIL_SHUT_DOWN');
    expect(h.auditor.shutdown(1)).toBe(shutdown); // the same promise, whatever the second deadline
    expect(await shutdown).toBe(true);
    expect(await inFlight).toEqual([1, 2]);
    expect(ran).toBe(2);
    const calls = k.spans.filter((s) => s.name === 'execute_tool slow');
    expect(calls.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['ok', 'ok']);
    // The stream ends after the last record.
    const last = k.spans[k.spans.length - 1]!;
    expect(last.name).toBe('tooltrail.checkpoint');
    expect(last.attributes['tooltrail.checkpoint.final']).toBe(true);
    const maxSeq = Math.max(...k.spans.filter((s) => s.name !== 'tooltrail.checkpoint').map((s) => Number(s.attributes['tooltrail.seq'])));
    expect(last.attributes['tooltrail.checkpoint.seq_end']).toBe(maxSeq);
    expect(h.auditor.stats()).toMatchObject({ dropped: 0, unfinishedCalls: 0, recordErrors: 0 });
  });

  it('records a body still running at the deadline as unfinished, returns false, and ends the stream after that record', async () => {
    const k = keeper();
    const h = harness({ exporter: k.exporter });
    const release: (() => void)[] = [];
    const stuck = h.auditor.withAudit(async (_: { to: string }) => new Promise<string>((r) => release.push(() => r('done'))), { name: 'stuck' });
    const call = h.auditor.run(alice, () => stuck({ to: 'x' }));
    await sleep(20);
    const started = Date.now();
    expect(await h.auditor.shutdown(300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
    const unfinished = k.spans.filter((s) => s.name === 'tool_intent stuck');
    expect(unfinished).toHaveLength(1);
    expect(unfinished[0]!.attributes).toMatchObject({
      'tooltrail.record': 'unfinished',
      'tooltrail.attempts': 1,
      'gen_ai.tool.name': 'stuck',
      'gen_ai.tool.call.arguments': '{"to":"x"}',
      'tooltrail.decision': 'allow',
      'user.id': 'user:42',
    });
    // The run that was still going is recorded too, as unfinished.
    const run = k.spans.find((s) => s.name === 'invoke_agent support-bot');
    expect(run?.attributes['tooltrail.run.unfinished']).toBe(true);
    const final = k.spans.find((s) => s.attributes['tooltrail.checkpoint.final'] === true)!;
    expect(final.attributes['tooltrail.checkpoint.seq_end']).toBe(Number(unfinished[0]!.attributes['tooltrail.seq']) + 1);
    expect(h.auditor.stats().unfinishedCalls).toBe(1);
    // The body finishes later: its result still reaches the caller; its record cannot be kept (counted).
    release[0]!();
    expect(await call).toBe('done');
    // Its call record (one attempt: no attempt record): not appended after the stream end
    // (that is what a forgery looks like).
    expect(h.auditor.stats().lateRecords).toBe(1);
    expect(h.warnings.filter((w) => w.includes('finished after the stream ended'))).toHaveLength(1);
    expect(names(k.spans)).not.toContain('execute_tool stuck');
  });

  it('cuts a retry back-off short: the call ends with its failure, recorded, and the body runs once', async () => {
    const k = keeper();
    const h = harness({ exporter: k.exporter });
    let ran = 0;
    const flaky = h.auditor.withAudit(
      async () => {
        ran++;
        throw new Error('upstream 503');
      },
      { name: 'flaky', retry: { attempts: 5, backoffMs: 20_000 } },
    );
    const call = h.auditor.run(alice, () => rejection(flaky()));
    await sleep(30);
    const started = Date.now();
    expect(await h.auditor.shutdown(5_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(((await call) as Error).message).toBe('upstream 503');
    expect(ran).toBe(1);
    const [span] = k.spans.filter((s) => s.name === 'execute_tool flaky');
    expect(span!.attributes).toMatchObject({ 'tooltrail.outcome': 'error', 'tooltrail.attempts': 1, 'tooltrail.retry.cancelled': true, 'error.type': 'Error' });
    expect(k.spans.filter((s) => s.name === 'tool_attempt flaky')).toHaveLength(1);
  });

  it('an error of the record path is never taken for the tool\'s: no retry, the body runs once, the result is returned', async () => {
    const throwing: PayloadEncoder = {
      json: (v, ctx) => {
        if (ctx.field === 'result') throw new Error('encoder bug');
        return JSON.stringify(v) ?? 'null';
      },
      text: (v) => v,
    };
    const h = harness({ encoder: throwing });
    let ran = 0;
    const tool = h.auditor.withAudit(async () => ({ n: ++ran }), { name: 'r', retry: { attempts: 3, backoffMs: 1 } });
    expect(await h.auditor.run(alice, () => tool())).toEqual({ n: 1 });
    expect(ran).toBe(1);
    const [span] = await h.toolSpans();
    expect(span!.attributes['gen_ai.tool.call.result']).toBe('"[MASKING_FAILED]"');
    expect(span!.attributes['tooltrail.outcome']).toBe('ok');
  });

  it('a record the pipeline cannot store is counted and warned about; under failMode closed the call fails, the body having run once', async () => {
    // An encoder returning what no span can hold: storing the call record throws in the chain.
    const bad: PayloadEncoder = {
      json: (v, ctx) => (ctx.field === 'result' ? (10n as unknown as string) : (JSON.stringify(v) ?? 'null')),
      text: (v) => v,
    };
    for (const failMode of ['open', 'closed'] as const) {
      const h = harness({ encoder: bad, failMode });
      let ran = 0;
      const tool = h.auditor.withAudit(async () => ++ran, { name: 'r', retry: { attempts: 3, backoffMs: 1 } });
      const outcome = await h.auditor.run(alice, () => tool().then((v) => ({ v }), (e: unknown) => ({ e })));
      expect(ran).toBe(1);
      if (failMode === 'open') expect(outcome).toEqual({ v: 1 });
      else {
        const err = (outcome as { e: AuditUnavailableError & { result: unknown } }).e;
        expect(err).toBeInstanceOf(AuditUnavailableError);
        expect(err.message).toMatch(/the tool ran, but its final record could not be written; the call was refused/);
        expect(err.result).toBe(1);
      }
      expect(h.auditor.stats().recordErrors).toBe(1);
      expect(h.warnings.filter((w) => w.startsWith('an audit record could not be written'))).toEqual([expect.stringMatching(/BigInt.*1 lost this way so far/)]);
    }
    // invokeWith() attributes a span cannot hold are left out rather than break the record.
    const h = harness();
    expect(await h.auditor.run(alice, () => h.auditor.withAudit(async () => 'ok', { name: 's' }).invokeWith({ attributes: { 'x.big': 5n as never, 'x.ok': 'yes' } }))).toBe('ok');
    const [s] = await h.toolSpans();
    expect(s!.attributes['x.ok']).toBe('yes');
    expect(s!.attributes).not.toHaveProperty('x.big');
    expect(h.auditor.stats().recordErrors).toBe(0);
  });

  it('a wrapped call never throws synchronously, and an encoder that throws records markers, never values', async () => {
    const broken: PayloadEncoder = {
      json: () => {
        throw new Error('x');
      },
      text: () => {
        throw new Error('masking bug');
      },
    };
    const h = harness({ encoder: broken });
    let ran = 0;
    const tool = h.auditor.withAudit(async (_: { secret: string }) => ++ran, { name: 'b' });
    expect(await h.auditor.run(alice, () => tool({ secret: 'do-not-record' }))).toBe(1);
    const spans = await h.spans();
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('do-not-record');
    // The tool name is scanned like every value: a broken encoder records the marker for it too.
    const [call] = spans.filter((s) => s.name === 'execute_tool [MASKING_FAILED]' && s.attributes['tooltrail.outcome'] === 'ok');
    expect(call!.attributes).toMatchObject({ 'user.id': '[MASKING_FAILED]', 'gen_ai.tool.call.arguments': '"[MASKING_FAILED]"', 'tooltrail.outcome': 'ok' });
    // A callId function that throws: a rejected promise, not a synchronous throw; the body never ran.
    const badId = h.auditor.withAudit(async () => ++ran, {
      name: 'c',
      callId: () => {
        throw new Error('bad id function');
      },
    });
    const p = h.auditor.run(alice, () => {
      const r = badId();
      expect(r).toBeInstanceOf(Promise);
      return rejection(r);
    });
    expect(((await p) as Error).message).toBe('bad id function');
    expect(ran).toBe(1);
  });

  it('strict mode never reports a record durable that was not: a body that outlives shutdown fails with AuditUnavailableError', async () => {
    const collector = await startCollector();
    const warnings: string[] = [];
    const auditor = createAuditor({
      serviceName: 'strict-shutdown',
      endpoint: collector.url,
      spoolDir: tempDir('strict-spool'),
      durability: 'strict',
      logger: { warn: (m) => warnings.push(m) },
    });
    setDefaultAuditor(undefined);
    const release: (() => void)[] = [];
    const slow = auditor.withAudit(async (tag: string) => new Promise<string>((r) => release.push(() => r(tag))), { name: 'slow' });
    const quick = auditor.withAudit(async (tag: string) => (await sleep(50), tag), { name: 'quick' });
    const [late, early] = await auditor.run(alice, async () => {
      const l = slow('late').then((v) => ({ v }), (e: unknown) => ({ e }));
      const e = quick('early');
      await sleep(10);
      expect(await auditor.shutdown(400)).toBe(false);
      release[0]!();
      return [await l, await e];
    });
    expect(early).toBe('early');
    const err = (late as { e: AuditUnavailableError }).e;
    expect(err).toBeInstanceOf(AuditUnavailableError);
    expect(err.message).toMatch(/final record could not be made durable/);
    expect((err as AuditUnavailableError & { result: unknown }).result).toBe('late');
    await collector.kill();
    const records = readRecords(collector.dir);
    const byName = (n: string) => records.filter((r) => r.name === n);
    expect(byName('execute_tool quick')).toHaveLength(1);
    expect(byName('tool_intent slow').map((r) => r.attributes['tooltrail.record']).sort()).toEqual(['intent', 'unfinished']);
    expect(byName('execute_tool slow')).toHaveLength(0);
    const final = records.filter((r) => r.attributes['tooltrail.checkpoint.final'] === true);
    expect(final).toHaveLength(1);
  });
});
