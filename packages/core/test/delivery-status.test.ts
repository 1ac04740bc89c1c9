import { afterEach, describe, expect, it } from 'vitest';
import { setDefaultAuditor } from '../src/index.js';
import { callsById, killAll, readRecords, startCollector, startFaultProxy } from './collector-harness.js';
import { auditorFor, callMany, expectAllArrived, quarantineLines, undeliveredSpoolBytes, who } from './delivery-harness.js';

/**
 * Every HTTP status the collector can answer has a handling, and none deletes a record
 * (docs/export.md, "What each answer does"). A real `tooltrail collect` behind a fault proxy.
 */

afterEach(() => {
  killAll();
  setDefaultAuditor(undefined);
});

async function setup(faults: Parameters<Awaited<ReturnType<typeof startFaultProxy>>['set']>[0], extra: Parameters<typeof auditorFor>[1] = {}) {
  const collector = await startCollector();
  const proxy = await startFaultProxy(collector.url);
  await proxy.set(faults);
  return { collector, proxy, ...auditorFor(proxy.url, extra) };
}

describe('answers that keep the records and warn with the fix', () => {
  it.each([
    [401, 'the collector refused our credentials'],
    [403, 'the collector refused our credentials'],
    [404, 'no OTLP/HTTP traces endpoint'],
    [405, 'no OTLP/HTTP traces endpoint'],
    [415, 'does not accept OTLP/JSON'],
    [418, 'HTTP 418'],
    [422, 'HTTP 422'],
    [307, 'redirect'],
  ])('HTTP %i: records stay in the spool, a loud warning names the fix, and they are delivered once the collector accepts', async (status, phrase) => {
    const { collector, proxy, auditor, tool, warnings, spoolDir } = await setup({ status, count: 3 });
    const ids = await auditor.run(who, () => callMany(tool, 10));
    expect(await auditor.shutdown(20_000)).toBe(true);
    expectAllArrived(collector.dir, ids);
    const s = auditor.stats();
    const p = await proxy.stats();
    // The injected answers, plus any request the exporter gave up on at timeoutMs (a loaded machine).
    expect(s).toMatchObject({ dropped: 0, quarantined: 0, damaged: 0, left: 0, failedExports: 3 + p.gaveUp, exported: s.recorded });
    expect(p.statuses[String(status)]).toBe(3);
    const loud = warnings.filter((w) => w.includes(phrase));
    expect(loud.length).toBeGreaterThan(0);
    expect(loud[0]).toContain(`records are kept in ${spoolDir}`);
    expect(s.lastError).toContain(phrase);
  });

  it('401 until the deadline: shutdown() resolves false, stats() says why, and the next start delivers every record', async () => {
    const { collector, proxy, auditor, tool, spoolDir } = await setup({ status: 401, count: 1_000_000 });
    const ids = await auditor.run(who, () => callMany(tool, 10));
    const started = Date.now();
    expect(await auditor.shutdown(1_500)).toBe(false);
    expect(Date.now() - started).toBeLessThan(6_000);
    const s = auditor.stats();
    expect(s).toMatchObject({ exported: 0, dropped: 0, quarantined: 0, left: s.recorded, queueDepth: s.recorded });
    expect(s.lastError).toMatch(/the collector refused our credentials \(HTTP 401\); records are kept in /);
    expect(undeliveredSpoolBytes(spoolDir)).toBeGreaterThan(0);
    expect((await proxy.stats()).forwarded).toBe(0);

    // A rotated token fixed: the next process delivers what the first one kept.
    const next = auditorFor(collector.url, { spoolDir });
    expect(await next.auditor.shutdown(20_000)).toBe(true);
    expect(next.auditor.stats().replayed).toBe(s.recorded);
    expectAllArrived(collector.dir, ids);
  });
});

describe('answers that are retried with back-off', () => {
  it.each([408, 429, 500, 502, 503, 504])('HTTP %i is retried and loses nothing', async (status) => {
    const { collector, proxy, auditor, tool } = await setup({ status, count: 2 });
    const ids = await auditor.run(who, () => callMany(tool, 20));
    expect(await auditor.shutdown(20_000)).toBe(true);
    expectAllArrived(collector.dir, ids);
    // The two injected answers, plus any request the exporter gave up on at timeoutMs (a loaded machine).
    expect(auditor.stats()).toMatchObject({ failedExports: 2 + (await proxy.stats()).gaveUp, dropped: 0, quarantined: 0, left: 0 });
  });

  it('honours Retry-After, bounded by maxBackoffMs: an absurd 100,000 s wait does not stall delivery', async () => {
    const { collector, auditor, tool } = await setup({ status: 503, count: 1, retryAfter: '100000' }, { export: { maxBackoffMs: 300 } });
    const ids = await auditor.run(who, () => callMany(tool, 5));
    expect(await auditor.shutdown(10_000)).toBe(true);
    expectAllArrived(collector.dir, ids);
  });

  it('timeoutMs is a deadline for the whole request: a collector that trickles one byte a second is cut off, retried and warned about', async () => {
    const { collector, proxy, auditor, tool, warnings } = await setup({ trickle: true, count: 2 }, { export: { timeoutMs: 1_500 } });
    const ids = await auditor.run(who, () => callMany(tool, 10));
    const started = Date.now();
    expect(await auditor.shutdown(20_000)).toBe(true);
    // Two cut-off attempts (1.5 s each) and back-off; an idle timeout would wait forever.
    expect(Date.now() - started).toBeLessThan(12_000);
    expectAllArrived(collector.dir, ids);
    const p = await proxy.stats();
    expect(p.trickled).toBe(2);
    // The two cut-off trickles, plus any other request the exporter gave up on at timeoutMs (a loaded machine).
    expect(auditor.stats()).toMatchObject({ failedExports: 2 + p.gaveUp, dropped: 0 });
    expect(warnings.some((w) => w.includes('no complete answer') && w.includes('within 1500 ms'))).toBe(true);
  });
});

describe('413: requests are split, never dropped', () => {
  it('splits merged requests and single batches down to single records; the limit is not kept as state', async () => {
    const { collector, proxy, auditor, tool } = await setup({ count: 0, maxBodyBytes: 6_000 }, { export: { maxBatch: 64, flushIntervalMs: 50 } });
    const ids = await auditor.run(who, () => callMany(tool, 60));
    expect(await auditor.flush(20_000)).toBe(true);
    const first = await proxy.stats(true);
    expect(first.tooLarge).toBeGreaterThan(0);
    expect(Math.max(...first.forwardedBytes)).toBeLessThanOrEqual(6_000);
    expectAllArrived(collector.dir, ids);

    // The collector takes big requests again: batches are merged again, not sent one by one.
    await proxy.set({ count: 0 });
    const more = await auditor.run(who, () => callMany(tool, 60));
    expect(await auditor.shutdown(20_000)).toBe(true);
    const second = await proxy.stats();
    expect(second.tooLarge).toBe(0);
    expect(Math.max(...second.forwardedBytes)).toBeGreaterThan(20_000);
    expectAllArrived(collector.dir, [...ids, ...more]);
    expect(auditor.stats()).toMatchObject({ dropped: 0, quarantined: 0, left: 0 });
  });

  it('a single record the collector still refuses as too large is quarantined, counted, reported; the rest arrive', async () => {
    const { collector, auditor, tool, warnings, spoolDir } = await setup(
      { count: 0, maxBodyBytes: 8_000 },
      { masking: false, export: { maxBatch: 32 } },
    );
    const big = 'B'.repeat(9_000);
    const ids = await auditor.run(who, async () => {
      const a = await callMany(tool, 10);
      const b = (await tool(big)).callId;
      const c = await callMany(tool, 10);
      return { rest: [...a, ...c], big: b };
    });
    expect(await auditor.shutdown(20_000)).toBe(false);
    const q = quarantineLines(spoolDir);
    const s = auditor.stats();
    expect(q.length).toBeGreaterThan(0);
    expect(s.quarantined).toBe(q.reduce((n, l) => n + l.spans, 0));
    for (const line of q) {
      expect(line.status).toBe(413);
      expect(line.spans).toBe(1);
      expect(JSON.stringify(line.request)).toContain(big);
    }
    expect(s).toMatchObject({ dropped: 0, left: 0, exported: s.recorded - s.quarantined });
    expect(s.lastError).toContain('quarantine');
    expect(warnings.some((w) => w.includes('quarantine') && w.includes('HTTP 413'))).toBe(true);
    expectAllArrived(collector.dir, ids.rest, false);
    expect(callsById(collector.dir).has(ids.big)).toBe(false);
  });
});

describe('400: the malformed record is found and quarantined; nothing else is lost', () => {
  it('splits down to the one record, quarantines it in the spool, and the quarantine line replays as is', async () => {
    const { collector, auditor, tool, warnings, spoolDir } = await setup(
      { count: 0, rejectContaining: 'POISON-PILL' },
      { masking: false, export: { maxBatch: 128 } },
    );
    const ids = await auditor.run(who, async () => {
      const a = await callMany(tool, 20);
      const p = (await tool('POISON-PILL')).callId;
      const b = await callMany(tool, 20);
      return { rest: [...a, ...b], poison: p };
    });
    expect(await auditor.shutdown(20_000)).toBe(false);
    const s = auditor.stats();
    const q = quarantineLines(spoolDir);
    // Every span carrying the marker, and only those.
    expect(q.length).toBeGreaterThan(0);
    for (const line of q) {
      expect(line).toMatchObject({ status: 400, spans: 1 });
      expect(JSON.stringify(line.request)).toContain('POISON-PILL');
      expect(line.reason).toContain('malformed span');
    }
    expect(s).toMatchObject({ dropped: 0, left: 0, quarantined: q.length, exported: s.recorded - q.length });
    expect(s.lastError).toMatch(/quarantine/);
    expect(warnings.some((w) => w.includes(`${q.length} audit record(s) quarantined`) || w.includes('quarantined'))).toBe(true);
    expectAllArrived(collector.dir, ids.rest, false);
    expect(callsById(collector.dir).has(ids.poison)).toBe(false);
    const before = readRecords(collector.dir).length;

    // Replay: each line's request is a complete OTLP/JSON export request.
    for (const line of q) {
      const res = await fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(line.request) });
      expect(res.status).toBe(200);
    }
    expect(readRecords(collector.dir).length).toBe(before + q.length);
    expect(callsById(collector.dir).has(ids.poison)).toBe(true);
  });

  it('a 200 with partialSuccess.rejectedSpans is not counted as delivered: the rejected record is found and quarantined', async () => {
    const { collector, auditor, tool, spoolDir } = await setup({ count: 0, partialContaining: 'PARTIAL-MARK' }, { masking: false });
    const ids = await auditor.run(who, async () => [...(await callMany(tool, 5)), (await tool('PARTIAL-MARK')).callId, ...(await callMany(tool, 5))]);
    expect(await auditor.shutdown(20_000)).toBe(false);
    const q = quarantineLines(spoolDir);
    expect(q.length).toBeGreaterThan(0);
    for (const line of q) {
      expect(line.spans).toBe(1);
      expect(JSON.stringify(line.request)).toContain('PARTIAL-MARK');
      expect(line.reason).toContain('injected: one span rejected');
    }
    const s = auditor.stats();
    expect(s).toMatchObject({ dropped: 0, left: 0, quarantined: q.length, exported: s.recorded - q.length });
    expectAllArrived(collector.dir, ids, false);
  });
});
