import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditor, setDefaultAuditor } from '../src/index.js';
import { resolveTracesUrl } from '../src/auditor/config.js';
import { alice } from './helpers.js';
import { freePort } from './collector-harness.js';

const spoolDir = () => mkdtempSync(path.join(tmpdir(), 'tooltrail-spool-'));
const receiverPath = new URL('./fixtures/otlp-receiver.mjs', import.meta.url).pathname;
const children: ChildProcess[] = [];

async function startReceiver(env: Record<string, string> = {}): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [receiverPath], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { port: (JSON.parse(line.toString()) as { port: number }).port, proc };
}


interface Received {
  posts: number;
  bodies: { resourceSpans: { resource: { attributes: { key: string; value: Record<string, unknown> }[] }; scopeSpans: { scope: { name: string }; spans: Record<string, unknown>[] }[] }[] }[];
}

async function received(port: number): Promise<Received> {
  const res = await fetch(`http://127.0.0.1:${port}/received`);
  return (await res.json()) as Received;
}

function allSpans(r: Received) {
  return r.bodies.flatMap((b) => b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
}

function attr(span: Record<string, unknown>, key: string): unknown {
  const kv = (span.attributes as { key: string; value: Record<string, unknown> }[]).find((a) => a.key === key);
  return kv ? Object.values(kv.value)[0] : undefined;
}

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
  setDefaultAuditor(undefined);
});

describe('OTLP/HTTP export to a receiver in another process', () => {
  it('delivers execute_tool spans as OTLP/JSON the receiver can read back', async () => {
    const { port } = await startReceiver();
    const auditor = createAuditor({ serviceName: 'otlp-agent', endpoint: `http://127.0.0.1:${port}`, logger: { warn() {} }, spoolDir: spoolDir() });
    const send = auditor.withAudit(async (a: { to: string }) => ({ ok: a.to }), { name: 'send_email' });
    await auditor.run({ ...alice, runId: 'otlp-run' }, async () => {
      await send({ to: 'bob@example.com' });
      await send({ to: 'carol@example.com' });
    });
    expect(await auditor.shutdown(10_000)).toBe(true);
    const r = await received(port);
    const spans = allSpans(r);
    // the stream start, run span, 2 calls, their attempts (where a first attempt that succeeds has
    // a record: docs/span-schema.md), the stream-end checkpoint
    const attempts = spans.filter((s) => s.name === 'tool_attempt send_email').length;
    expect([0, 2]).toContain(attempts);
    expect(spans).toHaveLength(5 + attempts);
    const tools = spans.filter((s) => s.name === 'execute_tool send_email');
    // Masked by default: two different recipients, two different keyed tokens.
    const recorded = tools.map((s) => String(attr(s, 'gen_ai.tool.call.arguments')));
    for (const a of recorded) expect(a).toMatch(/^\{"to":"\[email:[0-9a-f]{12}\]"\}$/);
    expect(recorded[0]).not.toBe(recorded[1]);
    for (const s of tools) {
      expect(s.kind).toBe(1); // SPAN_KIND_INTERNAL
      expect(s.status).toEqual({ code: 1 });
      expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(String(s.startTimeUnixNano)).toMatch(/^\d{19}$/);
      expect(attr(s, 'tooltrail.run.id')).toBe('otlp-run');
      expect(attr(s, 'user.id')).toBe('user:42');
      expect(attr(s, 'tooltrail.attempts')).toBe('1');
      expect(attr(s, 'tooltrail.arguments.mutated')).toBe(false);
    }
    const resource = r.bodies[0]!.resourceSpans[0]!.resource.attributes;
    expect(resource.find((a) => a.key === 'service.name')?.value).toEqual({ stringValue: 'otlp-agent' });
    expect(auditor.stats()).toMatchObject({ recorded: 5 + attempts, exported: 5 + attempts, dropped: 0, queueDepth: 0 });
  });

  it('retries through 500 and 429 answers and loses nothing', async () => {
    for (const status of ['500', '429']) {
      const { port } = await startReceiver({ FAIL_FIRST: '2', FAIL_STATUS: status });
      const auditor = createAuditor({
        serviceName: 'retrying',
        endpoint: `http://127.0.0.1:${port}`,
        logger: { warn() {} },
        spoolDir: spoolDir(),
        export: { flushIntervalMs: 5, initialBackoffMs: 10 },
      });
      const t = auditor.withAudit(async (n: number) => n, { name: 't' });
      await auditor.run(alice, () => Promise.all([1, 2, 3].map((n) => t(n))));
      expect(await auditor.shutdown(10_000)).toBe(true);
      const r = await received(port);
      expect(r.posts).toBeGreaterThanOrEqual(3);
      expect(allSpans(r).filter((s) => String(s.name).startsWith('execute_tool'))).toHaveLength(3);
      const attempts = allSpans(r).filter((s) => String(s.name).startsWith('tool_attempt')).length;
      expect([0, 3]).toContain(attempts);
      expect(auditor.stats()).toMatchObject({ exported: 6 + attempts, spooled: 6 + attempts, dropped: 0, failedExports: 2, spoolBytes: 0 });
    }
  });

  it('holds records while the receiver is down and delivers them when it comes up', async () => {
    const port = await freePort();
    const warnings: string[] = [];
    const auditor = createAuditor({
      serviceName: 'late-collector',
      endpoint: `http://127.0.0.1:${port}`,
      logger: { warn: (m) => warnings.push(m) },
      spoolDir: spoolDir(),
      export: { flushIntervalMs: 5, initialBackoffMs: 20, maxBackoffMs: 100, warnAfterMs: 0 },
    });
    const t = auditor.withAudit(async () => 'ok', { name: 't' });
    await auditor.run(alice, () => t());
    await new Promise((r) => setTimeout(r, 150));
    expect(auditor.stats().exported).toBe(0);
    expect(auditor.stats().failedExports).toBeGreaterThan(0);
    expect(warnings.some((w) => w.includes(`collector http://127.0.0.1:${port} unreachable`))).toBe(true);
    await startReceiver({ PORT: String(port) });
    expect(await auditor.shutdown(10_000)).toBe(true);
    const r = await received(port);
    const names = allSpans(r).map((s) => s.name).sort();
    expect(names.filter((n) => n !== 'tool_attempt t')).toEqual(['execute_tool t', 'invoke_agent support-bot', 'tooltrail.checkpoint', 'tooltrail.stream_start']);
    expect(names.filter((n) => n === 'tool_attempt t').length).toBeLessThanOrEqual(1);
  });
});

describe('endpoint resolution', () => {
  it('follows the OTel exporter environment variables', () => {
    expect(resolveTracesUrl('http://c:4318/', {})).toBe('http://c:4318/v1/traces');
    expect(resolveTracesUrl(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:1/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:2' })).toBe(
      'http://t:1/custom',
    );
    expect(resolveTracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:2' })).toBe('http://b:2/v1/traces');
    expect(resolveTracesUrl(undefined, {})).toBe('http://localhost:4318/v1/traces');
  });
});
