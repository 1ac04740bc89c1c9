import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditUnavailableError, createAuditor, currentCall, setDefaultAuditor, type AuditorOptions } from '../src/index.js';
import { agentScript, freePort, killAll, readRecords, startCollector, startFaultProxy, tempDir, track } from './collector-harness.js';
import { callMany, expectAllArrived } from './delivery-harness.js';

const who = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'export-bot' } };
const quiet = { warn() {} };

afterEach(() => {
  killAll();
  setDefaultAuditor(undefined);
});

function auditorFor(endpoint: string, extra: Partial<AuditorOptions> = {}) {
  const warnings: string[] = [];
  const auditor = createAuditor({
    serviceName: 'export-test',
    endpoint,
    spoolDir: tempDir('spool'),
    logger: { warn: (m) => warnings.push(m) },
    ...extra,
    export: { initialBackoffMs: 20, maxBackoffMs: 200, timeoutMs: 1_000, warnAfterMs: 0, ...extra.export },
  });
  const tool = auditor.withAudit(async (n: number) => ({ n, callId: currentCall()!.callId }), { name: 'step' });
  return { auditor, tool, warnings };
}

describe('durable export to a real collector process', () => {
  it('delivers every call of a burst of 20,000 made as fast as the code can make them', async () => {
    const collector = await startCollector();
    // The exporter's default timeoutMs (10 s), not this file's 1 s: on a loaded machine the
    // collector took over 1 s to answer a request of the burst's size; the exporter then sent it
    // again and its calls arrived twice (27,118 records), which this test does not allow.
    const { auditor, tool, warnings } = auditorFor(collector.url, { export: { maxBatch: 512, timeoutMs: 10_000 } });
    const ids = await auditor.run(who, () => callMany(tool, 20_000));
    expect(await auditor.shutdown(60_000)).toBe(true);
    const { duplicates } = expectAllArrived(collector.dir, ids);
    const stats = auditor.stats();
    // 20,000 calls (each with an attempt record, or none where a first attempt that succeeds has
    // none: docs/span-schema.md), plus the run span and the integrity chain's own records.
    const records = readRecords(collector.dir);
    expect(records.filter((r) => r.name === 'execute_tool step'), warnings.join('\n')).toHaveLength(20_000);
    const attempts = records.filter((r) => r.name === 'tool_attempt step').length;
    expect([0, 20_000]).toContain(attempts);
    expect(stats.recorded).toBeGreaterThanOrEqual(20_001 + attempts);
    expect(stats.exported).toBe(stats.recorded);
    expect(stats.dropped).toBe(0);
    expect(stats.spoolBytes).toBe(0);
    expect(duplicates).toBe(0);
    expect(records).toHaveLength(stats.recorded);
  }, 120_000);

  it('holds records while the collector is down at start, and delivers them once it is up', async () => {
    const port = await freePort();
    const { auditor, tool, warnings } = auditorFor(`http://127.0.0.1:${port}`);
    const ids = await auditor.run(who, () => callMany(tool, 300));
    await new Promise((r) => setTimeout(r, 300));
    const before = auditor.stats();
    expect(before.exported).toBe(0);
    expect(before.spooled).toBe(before.recorded);
    expect(before.spoolBytes).toBeGreaterThan(0);
    expect(before.collectorUp).toBe(false);
    expect(warnings.some((w) => w.includes('unreachable'))).toBe(true);
    const collector = await startCollector({ port });
    expect(await auditor.shutdown(20_000)).toBe(true);
    expectAllArrived(collector.dir, ids);
    // + the stream-end checkpoint written at shutdown
    const after = auditor.stats();
    expect(after).toMatchObject({ exported: after.recorded, dropped: 0, spoolBytes: 0, queueDepth: 0, left: 0 });
    expect(readRecords(collector.dir)).toHaveLength(after.recorded);
  });

  it('survives the collector being killed mid-run and restarted', async () => {
    const first = await startCollector();
    const { auditor, tool } = auditorFor(first.url);
    const ids = await auditor.run(who, async () => {
      const a = await callMany(tool, 500);
      await auditor.flush(5_000);
      await first.kill('SIGKILL');
      const b = await callMany(tool, 500);
      await new Promise((r) => setTimeout(r, 200));
      const second = await startCollector({ port: first.port, dir: first.dir });
      const c = await callMany(tool, 500);
      expect(await auditor.flush(20_000)).toBe(true);
      await second.kill();
      return [...a, ...b, ...c];
    });
    await auditor.shutdown(5_000);
    const { duplicates } = expectAllArrived(first.dir, ids);
    expect(auditor.stats().dropped).toBe(0);
    expect(duplicates).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ['500', { status: 500, count: 3 }],
    ['429 with Retry-After', { status: 429, count: 2, retryAfter: '1', maxBackoffMs: 5_000 }],
    ['503 with Retry-After', { status: 503, count: 2, retryAfter: '0' }],
    ['a hang past the timeout', { hang: true, count: 2 }],
  ])('retries through %s and loses nothing', async (_name, faults) => {
    const collector = await startCollector();
    const proxy = await startFaultProxy(collector.url);
    await proxy.set(faults);
    const { auditor, tool } = auditorFor(proxy.url, { export: { timeoutMs: 500, maxBackoffMs: 'maxBackoffMs' in faults ? faults.maxBackoffMs : 200 } });
    const started = Date.now();
    const ids = await auditor.run(who, () => callMany(tool, 200));
    expect(await auditor.shutdown(30_000)).toBe(true);
    const { duplicates } = expectAllArrived(collector.dir, ids);
    const s = await proxy.stats();
    expect(s.failed + s.hung).toBe(faults.count);
    // Every failed export is an injected one, or one the exporter gave up on at timeoutMs (on a
    // loaded machine a request the proxy forwarded can take longer than 500 ms): the proxy counts
    // both, so a failure counted twice, or not at all, still fails here.
    expect(auditor.stats().failedExports).toBe(faults.count + s.gaveUp);
    expect(auditor.stats().dropped).toBe(0);
    if ('retryAfter' in faults && faults.retryAfter === '1') expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    // A hung request, or one given up on, may have reached the collector before the timeout: its
    // calls arrive twice, never lost. Without one, nothing may arrive twice.
    if (!('hang' in faults) && s.gaveUp === 0) expect(duplicates).toBe(0);
  });

  it('a 400 for a request of many records splits it rather than dropping it: once accepted, nothing is lost', async () => {
    const collector = await startCollector();
    const proxy = await startFaultProxy(collector.url);
    await proxy.set({ status: 400, count: 1 });
    // 10 s (the default), not 1 s: a request given up on under load would be one more failed
    // export and one more forward, and the counts below are exact.
    const { auditor, tool } = auditorFor(proxy.url, { export: { timeoutMs: 10_000 } });
    const ids = await auditor.run(who, () => callMany(tool, 10));
    expect(await auditor.shutdown(10_000)).toBe(true);
    expectAllArrived(collector.dir, ids);
    // The one rejected request was split in two; both halves were accepted.
    expect(auditor.stats()).toMatchObject({ dropped: 0, quarantined: 0, failedExports: 1, left: 0 });
    expect((await proxy.stats()).forwarded).toBe(2);
  });
});

describe('crash safety of the spool', () => {
  async function runAgent(env: Record<string, string>): Promise<{ lines: Record<string, unknown>[]; proc: ReturnType<typeof spawn> }> {
    const proc = track(spawn(process.execPath, [agentScript], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }));
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    return { lines, proc };
  }

  it('ships at the next start what an agent killed with SIGKILL left in the spool', async () => {
    const spool = tempDir('crash-spool');
    const down = await freePort();
    const a = await runAgent({ MODE: 'spool-then-wait', CALLS: '250', ENDPOINT: `http://127.0.0.1:${down}`, SPOOL_DIR: spool });
    while (!a.lines.some((l) => 'spooled' in l)) {
      if (a.proc.exitCode !== null) throw new Error('agent exited early');
      await new Promise((r) => setTimeout(r, 20));
    }
    a.proc.kill('SIGKILL');
    await once(a.proc, 'exit');
    const ids = a.lines.filter((l) => 'returned' in l).map((l) => String(l.returned));
    expect(ids).toHaveLength(250);
    expect(readdirSync(spool).filter((f) => !f.endsWith('.lineage.json'))).toHaveLength(1);

    const collector = await startCollector();
    const b = await runAgent({ MODE: 'drain', ENDPOINT: collector.url, SPOOL_DIR: spool });
    await once(b.proc, 'exit');
    const drained = b.lines.find((l) => 'drained' in l) as { drained: boolean; stats: { replayed: number; dropped: number } };
    expect(drained.drained).toBe(true);
    // Every record the killed agent had spooled (250 calls and their attempt records, if any; the chain's own records).
    const spooled = Number((a.lines.find((l) => 'spooled' in l) as { spooled: number }).spooled);
    expect(spooled).toBeGreaterThanOrEqual(250);
    expect(drained.stats.replayed).toBe(spooled);
    expect(drained.stats.dropped).toBe(0);
    expectAllArrived(collector.dir, ids);
    // Delivered spools are removed (the lineage file beside them stays).
    expect(readdirSync(spool).filter((f) => !f.endsWith('.lineage.json'))).toEqual([]);
  });

  it('strict: every call that returned before SIGKILL is in the trail after the next start', async () => {
    const spool = tempDir('strict-spool');
    const down = await freePort();
    const a = await runAgent({ MODE: 'loop', DURABILITY: 'strict', ENDPOINT: `http://127.0.0.1:${down}`, SPOOL_DIR: spool });
    while (a.lines.length < 100) await new Promise((r) => setTimeout(r, 10));
    a.proc.kill('SIGKILL');
    await once(a.proc, 'exit');
    const ids = a.lines.map((l) => String(l.returned));

    const collector = await startCollector();
    const b = await runAgent({ MODE: 'drain', ENDPOINT: collector.url, SPOOL_DIR: spool });
    await once(b.proc, 'exit');
    expectAllArrived(collector.dir, ids, false);
    const intents = readRecords(collector.dir).filter((r) => r.name === 'tool_intent step');
    const intentIds = new Set(intents.map((r) => String(r.attributes['gen_ai.tool.call.id'])));
    for (const id of ids) expect(intentIds.has(id)).toBe(true);
    expect(intents[0]!.attributes['tooltrail.record']).toBe('intent');
    expect(intents[0]!.attributes['user.id']).toBe('user:crash');
  });
});

describe('fail modes', () => {
  function unwritableSpool(): string {
    // A path below a regular file can never be created, whatever the user's privileges.
    const dir = tempDir('blocked');
    writeFileSync(path.join(dir, 'file'), 'x');
    return path.join(dir, 'file', 'spool');
  }

  it('strict + closed: with the collector down and the spool unwritable, calls are refused and the body never runs', async () => {
    const down = await freePort();
    let ran = 0;
    const auditor = createAuditor({
      serviceName: 'strict-closed',
      endpoint: `http://127.0.0.1:${down}`,
      durability: 'strict',
      spoolDir: unwritableSpool(),
      logger: quiet,
      export: { timeoutMs: 200, initialBackoffMs: 10 },
    });
    const tool = auditor.withAudit(async () => ++ran, { name: 'pay' });
    const err = await auditor.run(who, () => tool().catch((e: unknown) => e));
    expect(err).toBeInstanceOf(AuditUnavailableError);
    expect((err as AuditUnavailableError).code).toBe('TOOLTRAIL_UNAVAILABLE');
    expect(ran).toBe(0);
    await auditor.shutdown(100);
  });

  it('buffered + closed: refused once the collector is known down and the spool is unwritable', async () => {
    const down = await freePort();
    let ran = 0;
    const auditor = createAuditor({
      serviceName: 'buffered-closed',
      endpoint: `http://127.0.0.1:${down}`,
      failMode: 'closed',
      spoolDir: unwritableSpool(),
      logger: quiet,
      export: { timeoutMs: 200, initialBackoffMs: 10, flushIntervalMs: 1 },
    });
    const tool = auditor.withAudit(async () => ++ran, { name: 'pay' });
    // The first call runs (collector state unknown, memory holds the record); after a failed
    // delivery the auditor knows records can be neither delivered nor kept.
    await auditor.run(who, () => tool());
    await auditor.flush(300);
    const err = await auditor.run(who, () => tool().catch((e: unknown) => e));
    expect(err).toBeInstanceOf(AuditUnavailableError);
    expect(ran).toBe(1);
    await auditor.shutdown(100);
  });

  it('open: calls run, and every record lost is counted and warned about', async () => {
    const down = await freePort();
    const warnings: string[] = [];
    const auditor = createAuditor({
      serviceName: 'open',
      endpoint: `http://127.0.0.1:${down}`,
      spoolDir: unwritableSpool(),
      logger: { warn: (m) => warnings.push(m) },
      export: { timeoutMs: 200, initialBackoffMs: 10, memoryCacheBytes: 2_000, flushIntervalMs: 1, maxBatch: 4 },
    });
    const tool = auditor.withAudit(async (n: number) => n, { name: 'step' });
    let ran = 0;
    await auditor.run(who, async () => {
      for (let i = 0; i < 50; i++) ran += (await tool(i)) >= 0 ? 1 : 0;
    });
    expect(ran).toBe(50);
    await auditor.shutdown(200);
    const s = auditor.stats();
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.calls.ok).toBe(50);
    expect(s.recorded).toBeGreaterThanOrEqual(51);
    expect(s.exported + s.dropped).toBe(s.recorded);
    expect(warnings.some((w) => w.includes('unwritable'))).toBe(true);
    expect(warnings.some((w) => /audit record\(s\) lost/.test(w))).toBe(true);
  });

  it('caps the spool: past maxSpoolBytes nothing more is spooled, and strict refuses', async () => {
    const down = await freePort();
    const spoolDir = tempDir('capped');
    const auditor = createAuditor({
      serviceName: 'capped',
      endpoint: `http://127.0.0.1:${down}`,
      durability: 'strict',
      spoolDir,
      logger: quiet,
      export: { timeoutMs: 200, initialBackoffMs: 10, maxSpoolBytes: 20_000 },
    });
    let ran = 0;
    const tool = auditor.withAudit(async () => ++ran, { name: 'step' });
    const results = await auditor.run(who, async () => {
      const out: unknown[] = [];
      for (let i = 0; i < 60; i++) out.push(await tool().catch((e: unknown) => e));
      return out;
    });
    const refused = results.filter((r) => r instanceof AuditUnavailableError);
    expect(refused.length).toBeGreaterThan(0);
    // Refused before the body (intent not durable) vs after it (final record not durable: the
    // error carries the tool's result).
    const before = refused.filter((e) => !('result' in (e as object)));
    expect(before.length).toBeGreaterThan(0);
    expect(ran).toBe(60 - before.length);
    expect(auditor.stats().spoolBytes).toBeLessThanOrEqual(20_000);
    await auditor.shutdown(100);
  });

  it('rejects strict durability with a custom exporter, clearly', () => {
    expect(() => createAuditor({ serviceName: 'x', durability: 'strict', exporter: { export() {}, shutdown: async () => {} } })).toThrow(
      /durability "strict" needs the built-in OTLP pipeline/,
    );
  });

  it('leaves nothing behind in the spool folder after a clean delivery', async () => {
    const collector = await startCollector();
    const spoolDir = tempDir('clean');
    mkdirSync(spoolDir, { recursive: true });
    const auditor = createAuditor({ serviceName: 'clean', endpoint: collector.url, spoolDir, logger: quiet });
    const tool = auditor.withAudit(async () => 1, { name: 't' });
    await auditor.run(who, () => tool());
    expect(await auditor.shutdown(5_000)).toBe(true);
    // Only the integrity chain's lineage file stays beside the (removed) spool folder.
    expect(readdirSync(spoolDir).filter((f) => !f.endsWith('.lineage.json'))).toEqual([]);
  });
});
