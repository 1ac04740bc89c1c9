import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setDefaultAuditor } from '../src/index.js';
import { spoolLocation } from '../src/export/spool-location.js';
import { callsById, freePort, killAll, startCollector, startFaultProxy, tempDir } from './collector-harness.js';
import { auditorFor, callMany, expectAllArrived, filesUnder, runAgent, undeliveredSpoolBytes, waitFor, who, type AgentRun } from './delivery-harness.js';

/**
 * Recovery never removes a folder that still holds undelivered segments, handles nested and
 * repeated adoptions, does not rest on a PID alone (PID 1 in a fresh container), and reports
 * every damaged segment with what was lost (docs/export.md, "Ownership and adoption").
 */

afterEach(() => {
  killAll();
  setDefaultAuditor(undefined);
});

const SERVICE = 'crash-agent'; // fixtures/agent.mjs's default

async function untilSpooled(run: AgentRun): Promise<number> {
  await waitFor('the agent to spool its calls', () => {
    if (run.proc.exitCode !== null) throw new Error(`agent exited early: ${run.stderr.join('\n')}`);
    return run.lines.some((l) => 'spooled' in l);
  });
  return Number((run.lines.find((l) => 'spooled' in l) as { spooled: number }).spooled);
}

async function kill(run: AgentRun): Promise<void> {
  run.proc.kill('SIGKILL');
  await run.exited;
}

/** Records waiting that came from other processes' folders (the auditor's own are recorded, not replayed). */
function adoptedWaiting(s: { queueDepth: number; recorded: number; exported: number; dropped: number; quarantined: number }): number {
  return s.queueDepth - (s.recorded - s.exported - s.dropped - s.quarantined);
}

function streamFolders(spool: string): string[] {
  const ns = spoolLocation(SERVICE, spool).namespaceDir;
  return existsSync(ns) ? readdirSync(ns).filter((n) => n !== 'quarantine') : [];
}

describe('nested and repeated adoption', () => {
  it('a crash while delivering an adopted spool, three times over, loses nothing: the fourth start delivers all of it', async () => {
    const spool = tempDir('nested');
    const collector = await startCollector();
    const stuck = await startFaultProxy(collector.url);
    await stuck.set({ hang: true, count: 1_000_000 }); // accepts connections, never answers
    const down = `http://127.0.0.1:${await freePort()}`;

    const ids: string[] = [];
    let spooled = 0;
    let bytesBefore = 0;
    for (const [i, endpoint] of [down, stuck.url, stuck.url].entries()) {
      const run = runAgent({ MODE: 'spool-then-wait', CALLS: '40', ENDPOINT: endpoint, SPOOL_DIR: spool, RUN_ID: `nested-${i}` });
      spooled += await untilSpooled(run);
      ids.push(...run.returned());
      await kill(run);
      // Nothing undelivered was removed: each run adds its own, and keeps the earlier ones.
      const bytes = undeliveredSpoolBytes(spool);
      expect(bytes).toBeGreaterThan(bytesBefore);
      bytesBefore = bytes;
      expect(streamFolders(spool)).toHaveLength(1);
    }
    expect(ids).toHaveLength(120);
    // The third run's folder holds the first two, moved up beside each other (not nested deeper).
    const owners = filesUnder(spoolLocation(SERVICE, spool).namespaceDir).filter((f) => f.endsWith('owner.json'));

    const last = runAgent({ MODE: 'drain', ENDPOINT: collector.url, SPOOL_DIR: spool });
    await last.exited;
    const drained = last.lines.find((l) => 'drained' in l) as { drained: boolean; stats: { replayed: number; dropped: number; damaged: number } };
    expect(drained.drained, last.stderr.join('\n')).toBe(true);
    expect(drained.stats).toMatchObject({ replayed: spooled, dropped: 0, damaged: 0 });
    expectAllArrived(collector.dir, ids);
    expect(streamFolders(spool)).toEqual([]);
    // Before that, the third run's folder held the first two moved up beside each other, not nested deeper.
    expect(owners).toHaveLength(3);
    for (const f of owners) expect(f.split(path.sep).filter((p) => p.startsWith('adopted-')).length).toBeLessThanOrEqual(1);
  });
});

describe('ownership without resting on a PID alone', () => {
  const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

  /** The PID-1 process inside the namespace an `unshare --fork` started. */
  function namespaceInit(unsharePid: number): number {
    const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/);
    return Number(children[0]);
  }

  it.skipIf(!canUnshare)('two agents in turn as PID 1 of fresh PID namespaces: the second delivers what the first left', async () => {
    const spool = tempDir('pid1');
    const collector = await startCollector();
    const down = `http://127.0.0.1:${await freePort()}`;
    const prefix = ['unshare', '--pid', '--fork', '--mount-proc'];
    const exportOptions = JSON.stringify({ heartbeatMs: 200, ownerStaleMs: 1_500 });

    const first = runAgent({ MODE: 'spool-then-wait', CALLS: '30', ENDPOINT: down, SPOOL_DIR: spool, LOG_PID: '1', EXPORT: exportOptions }, { prefix });
    const spooled = await untilSpooled(first);
    expect(first.lines[0]).toEqual({ pid: 1 });
    process.kill(namespaceInit(first.proc.pid!), 'SIGKILL');
    await first.exited;
    const owner = JSON.parse(readFileSync(path.join(spoolLocation(SERVICE, spool).namespaceDir, streamFolders(spool)[0]!, 'owner.json'), 'utf8'));
    expect(owner).toMatchObject({ pid: 1, host: os.hostname() });

    // Started at once: the first one's heartbeat is still fresh, and its PID is our PID.
    const second = runAgent(
      { MODE: 'drain-wait', ENDPOINT: collector.url, SPOOL_DIR: spool, LOG_PID: '1', EXPORT: exportOptions, EXPECT_REPLAYED: String(spooled), WAIT_MS: '20000' },
      { prefix },
    );
    await second.exited;
    expect(second.lines[0]).toEqual({ pid: 1 });
    const drained = second.lines.find((l) => 'drained' in l) as { drained: boolean; stats: { replayed: number } };
    expect(drained.drained, second.stderr.join('\n')).toBe(true);
    expect(drained.stats.replayed).toBe(spooled);
    expect(second.stderr.some((l) => /heartbeat stopped/.test(l))).toBe(true);
    expectAllArrived(collector.dir, first.returned());
  });

  it('a live agent\'s folder is never adopted, however stale its heartbeat looks, while this host can prove it alive; it is once the agent is gone', async () => {
    const spool = tempDir('live');
    const port = await freePort();
    // The child beats every 5 s; the adopter calls a heartbeat stale after 1 s.
    const child = runAgent({ MODE: 'loop', PACE_MS: '1', ENDPOINT: `http://127.0.0.1:${port}`, SPOOL_DIR: spool });
    await waitFor('the agent to make calls', () => child.returned().length > 300);
    const { auditor, warnings } = auditorFor(`http://127.0.0.1:${port}`, { serviceName: SERVICE, spoolDir: spool, export: { heartbeatMs: 100, ownerStaleMs: 1_000 } });
    await new Promise((r) => setTimeout(r, 2_500));
    expect(adoptedWaiting(auditor.stats())).toBe(0);
    expect(streamFolders(spool)).toHaveLength(2);
    child.proc.kill('SIGKILL');
    await child.exited;
    await waitFor('the gone agent\'s folder to be adopted', () => adoptedWaiting(auditor.stats()) > 0);
    expect(warnings.some((w) => /found \d+ undelivered audit records from 1 earlier process\(es\) \(process \d+ is gone\)/.test(w))).toBe(true);
    const collector = await startCollector({ port });
    expect(await auditor.shutdown(20_000)).toBe(true);
    // Everything but the open batch of the killed agent (buffered: at most maxBatch spans).
    const byId = callsById(collector.dir);
    const ids = child.returned();
    const missing = ids.filter((id) => !byId.has(id));
    expect(missing.length).toBeLessThanOrEqual(256);
    expect(ids.slice(0, ids.length - missing.length).every((id) => byId.has(id))).toBe(true);
  });

  it('two auditors of one service in one process never adopt each other\'s folder; one shut down is adopted by the other', async () => {
    const spool = tempDir('siblings');
    const port = await freePort();
    const a = auditorFor(`http://127.0.0.1:${port}`, { spoolDir: spool, export: { heartbeatMs: 100 } });
    const idsA = await a.auditor.run(who, () => callMany(a.tool, 20));
    await a.auditor.flush(1);
    const b = auditorFor(`http://127.0.0.1:${port}`, { spoolDir: spool, export: { heartbeatMs: 100 } });
    await new Promise((r) => setTimeout(r, 500));
    expect(adoptedWaiting(b.auditor.stats())).toBe(0);
    expect(await a.auditor.shutdown(300)).toBe(false);
    await waitFor('the shut-down sibling\'s folder to be adopted', () => adoptedWaiting(b.auditor.stats()) > 0);
    const collector = await startCollector({ port });
    const idsB = await b.auditor.run(who, () => callMany(b.tool, 5));
    expect(await b.auditor.shutdown(20_000)).toBe(true);
    expect(b.auditor.stats().replayed).toBe(a.auditor.stats().left);
    expectAllArrived(collector.dir, [...idsA, ...idsB]);
  });

  it('a live auditor whose folder is taken away (adopted after its heartbeat looked stale) warns, starts afresh, and loses nothing', async () => {
    const spool = tempDir('takeover');
    const ns = spoolLocation('delivery-test', spool).namespaceDir;
    const port = await freePort();
    const a = auditorFor(`http://127.0.0.1:${port}`, { spoolDir: spool, export: { heartbeatMs: 100 } });
    const before = await a.auditor.run(who, () => callMany(a.tool, 20));
    await a.auditor.flush(1);
    const spooledBefore = a.auditor.stats().spooled;
    // Another (live) process adopts the folder, the way adoption does: a rename into its own folder.
    const [name] = readdirSync(ns);
    const adopter = path.join(ns, '4242-adopter');
    mkdirSync(adopter);
    const live = process.ppid;
    const liveStart = readFileSync(`/proc/${live}/stat`, 'latin1').split(') ')[1]!.split(' ')[19];
    const owner = { v: 2, pid: live, host: os.hostname(), bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pidNs: readlinkSync('/proc/self/ns/pid'), procStart: liveStart, instance: 'adopter', startedAt: new Date().toISOString() };
    writeFileSync(path.join(adopter, 'owner.json'), JSON.stringify(owner));
    renameSync(path.join(ns, name!), path.join(adopter, `adopted-${name}`));
    await waitFor('the owner to notice', () => a.warnings.some((w) => w.includes('was taken away while this process is alive')));
    const after = await a.auditor.run(who, () => callMany(a.tool, 20));
    const collector = await startCollector({ port });
    expect(await a.auditor.shutdown(20_000)).toBe(true);
    expectAllArrived(collector.dir, [...before, ...after]);

    // The adopter goes too; the next start delivers what it had taken: again, as duplicates.
    writeFileSync(path.join(adopter, 'owner.json'), JSON.stringify({ ...owner, pid: await deadPid() }));
    const c = auditorFor(collector.url, { spoolDir: spool });
    expect(await c.auditor.shutdown(20_000)).toBe(true);
    expect(c.auditor.stats().replayed).toBe(spooledBefore);
    const { duplicates } = expectAllArrived(collector.dir, [...before, ...after]);
    expect(duplicates).toBe(before.length);
  });

  it('a folder from another host is adopted only once its heartbeat is older than ownerStaleMs', async () => {
    const spool = tempDir('otherhost');
    const ns = spoolLocation('delivery-test', spool).namespaceDir;
    const dir = path.join(ns, '4242-remote01');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ v: 2, pid: 1, host: 'another-host', instance: 'x', startedAt: new Date().toISOString() }));
    writeFileSync(path.join(dir, 'seg-000001.log'), line(request(['remote-1', 'remote-2'])));
    const port = await freePort();
    const started = Date.now();
    const { auditor } = auditorFor(`http://127.0.0.1:${port}`, { spoolDir: spool, export: { heartbeatMs: 100, ownerStaleMs: 2_000 } });
    await new Promise((r) => setTimeout(r, 500));
    if (Date.now() - started < 1_800) expect(adoptedWaiting(auditor.stats())).toBe(0);
    await waitFor('the stale remote folder to be adopted', () => adoptedWaiting(auditor.stats()) === 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    const collector = await startCollector({ port });
    expect(await auditor.shutdown(20_000)).toBe(true);
    expect(auditor.stats().replayed).toBe(2);
    expect([...callsById(collector.dir).keys()].sort()).toEqual(['remote-1', 'remote-2']);
  });
});

// ---- damaged segments ------------------------------------------------------------------------

let spanCounter = 0;
function span(id: string): Record<string, unknown> {
  spanCounter++;
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    traceId: 'ab'.repeat(16),
    spanId: spanCounter.toString(16).padStart(16, '0'),
    name: 'execute_tool step',
    kind: 1,
    startTimeUnixNano: String(now),
    endTimeUnixNano: String(now + 1000n),
    attributes: [{ key: 'gen_ai.tool.call.id', value: { stringValue: id } }],
    status: { code: 1 },
    flags: 1,
  };
}
function request(ids: string[]): string {
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'delivery-test' } }] }, scopeSpans: [{ scope: { name: 'crafted' }, spans: ids.map(span) }] }],
  });
}
const line = (body: string, count?: number | string) => `${count ?? (JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans.length} ${body}\n`;

/** A gone process: one that ran and was reaped. */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '0']);
  await once(p, 'exit');
  return p.pid!;
}

describe('damaged spool segments', () => {
  it('delivers everything intact, counts and reports every damaged segment with what was lost, and keeps the damaged files', async () => {
    const spool = tempDir('damaged');
    const ns = spoolLocation('delivery-test', spool).namespaceDir;
    const dir = path.join(ns, 'dead-owner');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'owner.json'),
      JSON.stringify({
        v: 2,
        pid: await deadPid(),
        host: os.hostname(),
        bootId: existsSync('/proc/sys/kernel/random/boot_id') ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : undefined,
        pidNs: existsSync('/proc/self/ns/pid') ? readlinkSync('/proc/self/ns/pid') : undefined,
        instance: 'gone',
        startedAt: new Date().toISOString(),
      }),
    );
    const seg = (n: number, content: string | Buffer, ack?: string) => {
      writeFileSync(path.join(dir, `seg-00000${n}.log`), content);
      if (ack !== undefined) writeFileSync(path.join(dir, `seg-00000${n}.ack`), ack);
    };
    // 1: a damaged count prefix (recoverable), a garbage line (lost: at least 1), a 2-span line.
    seg(1, line(request(['a1'])) + `zz ${request(['a2'])}\n` + '!!!garbage line!!!\n' + line(request(['a3', 'a3b'])));
    // 2: an .ack beyond the end: the whole segment is sent again.
    seg(2, line(request(['b1'])) + line(request(['b2'])), '999999');
    // 3: zero length, though 500 bytes were acknowledged.
    seg(3, '', '500');
    // 4: a region of NULs (unwritten after a power loss) before a whole line.
    seg(4, Buffer.concat([Buffer.alloc(100), Buffer.from(line(request(['c1'])) + line(request(['c2'])))]));
    // 5: a last line cut off mid-write, claiming 3 spans.
    seg(5, line(request(['d1'])) + '3 {"resourceSpans":[{"reso');
    // 6: a count prefix of 0 (recounted from the request).
    seg(6, line(request(['e1'])) + line(request(['e2']), 0));
    // 7: a line whose request is cut inside (lost: its 2 spans), then a whole line.
    seg(7, line(request(['f1'])) + '2 {"resourceSpans":[{"resource":{}}\n' + line(request(['f3'])));
    // 8: partly delivered before the crash: only what follows the ack is sent.
    const g1 = line(request(['g1']));
    seg(8, g1 + line(request(['g2'])), String(Buffer.byteLength(g1)));

    const collector = await startCollector();
    const { auditor, warnings } = auditorFor(collector.url, { spoolDir: spool });
    expect(await auditor.shutdown(20_000)).toBe(false);
    const s = auditor.stats();
    expect(s).toMatchObject({ damaged: 1 + 1 + 3 + 2, replayed: 14, dropped: 0, quarantined: 0, left: 0 });
    expect([...callsById(collector.dir).keys()].sort()).toEqual(['a1', 'a2', 'a3', 'a3b', 'b1', 'b2', 'c1', 'c2', 'd1', 'e1', 'e2', 'f1', 'f3', 'g2']);
    expect(s.lastError).toMatch(/record\(s\) lost/);

    const about = (n: number) => warnings.filter((w) => w.includes(`seg-00000${n}.log`));
    expect(about(1).join()).toMatch(/an unreadable line at byte \d+ \(19 bytes, 1 record\(s\) lost at least\).*damaged count prefix/);
    expect(about(2).join()).toMatch(/beyond its end.*sent again.*nothing lost/);
    expect(about(3).join()).toMatch(/empty although 500 bytes were acknowledged/);
    expect(about(4).join()).toMatch(/unreadable bytes before a line at byte 0 \(100 bytes/);
    expect(about(5).join()).toMatch(/a last line cut off mid-write .*3 record\(s\) lost/);
    expect(about(6).join()).toMatch(/damaged count prefix "0 " \(recounted: 1\).*nothing lost/);
    expect(about(7).join()).toMatch(/an unreadable line .*2 record\(s\) lost/);
    expect(about(8)).toEqual([]);

    // The damaged segments are kept, byte for byte, in the quarantine folder; the rest is gone.
    const kept = readdirSync(path.join(ns, 'quarantine')).filter((f) => f.startsWith('damaged-'));
    expect(kept.map((f) => /seg-(\d+)\.log$/.exec(f)![1]).sort()).toEqual(['000001', '000004', '000005', '000007']);
    expect(kept.map((f) => readFileSync(path.join(ns, 'quarantine', f), 'latin1')).join()).toContain('!!!garbage line!!!');
    expect(filesUnder(ns).filter((f) => !f.startsWith('quarantine'))).toEqual([]);
  });
});
