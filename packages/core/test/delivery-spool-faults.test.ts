import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AuditUnavailableError, currentCall, setDefaultAuditor } from '../src/index.js';
import { spoolLocation } from '../src/export/spool-location.js';
import { callsById, freePort, killAll, startCollector, tempDir } from './collector-harness.js';
import { auditorFor, callMany, expectAllArrived, filesUnder, runAgent, waitFor, who } from './delivery-harness.js';

/**
 * The spool is tried again after ENOSPC and EACCES and resumes when it can: a small tmpfs that
 * fills and then grows (root: mount / remount), and a folder whose permission is taken away and
 * given back (an agent running as nobody, since root ignores permissions).
 */

const isRoot = process.getuid?.() === 0;
const mounts: string[] = [];

function tmpfs(size: string): string {
  const dir = tempDir('tmpfs');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}
const grow = (dir: string, size: string) => execFileSync('mount', ['-o', `remount,size=${size}`, dir]);

afterEach(() => {
  killAll();
  setDefaultAuditor(undefined);
});
afterAll(() => {
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
});

/** Call ids found in the spool's segment files on disk. */
function idsOnDisk(spoolDir: string): Set<string> {
  const ids = new Set<string>();
  for (const rel of filesUnder(spoolDir)) {
    if (!/seg-\d{6}\.log$/.test(rel)) continue;
    for (const m of readFileSync(path.join(spoolDir, rel), 'utf8').matchAll(/"gen_ai\.tool\.call\.id","value":\{"stringValue":"([^"]+)"/g)) ids.add(m[1]!);
  }
  return ids;
}

describe.skipIf(!isRoot)('a full disk (ENOSPC)', () => {
  it('holds records in memory while the disk is full, spools them as soon as it has room again, and delivers them all', async () => {
    const dir = tmpfs('256k');
    const port = await freePort();
    const { auditor, tool, warnings } = auditorFor(`http://127.0.0.1:${port}`, {
      spoolDir: dir,
      export: { segmentBytes: 32 * 1024, maxBatch: 16, flushIntervalMs: 5, memoryCacheBytes: 64 * 1024 ** 2 },
    });
    const before = await auditor.run(who, () => callMany(tool, 400));
    await auditor.flush(1);
    expect(warnings.some((w) => /is full \(ENOSPC\).*tried again/.test(w))).toBe(true);
    const full = auditor.stats();
    expect(full.dropped).toBe(0);
    expect(full.spooled).toBeLessThan(full.recorded);

    grow(dir, '16m');
    const after = await auditor.run(who, () => callMany(tool, 50));
    await auditor.flush(1);
    expect(warnings.some((w) => /writable again; \d+ records held in memory meanwhile are spooled now/.test(w))).toBe(true);
    const s = auditor.stats();
    // Everything so far is on disk again: a crash now would lose nothing but the open batch.
    expect(s.spooled).toBe(s.recorded);
    const onDisk = idsOnDisk(dir);
    expect([...before, ...after].filter((id) => !onDisk.has(id))).toEqual([]);

    const collector = await startCollector({ port });
    expect(await auditor.shutdown(30_000)).toBe(true);
    expectAllArrived(collector.dir, [...before, ...after]);
    expect(auditor.stats()).toMatchObject({ dropped: 0, left: 0, exported: auditor.stats().recorded });
  });

  it('strict: calls are refused while nothing can be made durable, and run again once the disk has room', async () => {
    const dir = tmpfs('128k');
    const port = await freePort();
    const ran: string[] = [];
    const { auditor } = auditorFor(`http://127.0.0.1:${port}`, { spoolDir: dir, durability: 'strict', export: { segmentBytes: 16 * 1024 } });
    const tool = auditor.withAudit(async () => {
      const id = currentCall()!.callId;
      ran.push(id);
      return id;
    }, { name: 'pay' });
    const results = await auditor.run(who, async () => {
      const out: unknown[] = [];
      for (let i = 0; i < 300; i++) out.push(await tool().catch((e: unknown) => e));
      return out;
    });
    const refusedBefore = results.filter((r) => r instanceof AuditUnavailableError && !('result' in r));
    expect(refusedBefore.length).toBeGreaterThan(0);
    expect(ran.length).toBe(300 - refusedBefore.length);
    grow(dir, '8m');
    expect(await auditor.run(who, () => tool())).toBe(ran[ran.length - 1]);
    const collector = await startCollector({ port });
    expect(await auditor.shutdown(20_000)).toBe(true);
    // Every body that ran has its record in the trail.
    expectAllArrived(collector.dir, ran, false);
  });
});

describe.skipIf(!isRoot)('permission taken away (EACCES)', () => {
  it('an agent whose spool folder turns unwritable resumes spooling when the permission comes back; after SIGKILL the next start delivers all but the open batch', async () => {
    const spool = tempDir('eacces');
    chownSync(spool, 65534, 65534);
    const port = await freePort();
    const env = { MODE: 'loop', PACE_MS: '2', ENDPOINT: `http://127.0.0.1:${port}`, SPOOL_DIR: spool, EXPORT: JSON.stringify({ segmentBytes: 4096, maxBatch: 8, flushIntervalMs: 5 }) };
    const agent = runAgent(env, { uid: 65534 });
    await waitFor('calls', () => agent.returned().length > 50);
    const ns = spoolLocation('crash-agent', spool).namespaceDir;
    const stream = path.join(ns, readdirSync(ns)[0]!);
    chmodSync(stream, 0o555);
    await waitFor('the permission failure', () => agent.stderr.some((l) => /no permission to write the spool .*\(EACCES\)/.test(l)));
    const during = agent.returned().length;
    await waitFor('calls while unwritable', () => agent.returned().length > during + 100);
    chmodSync(stream, 0o755);
    await waitFor('the spool to come back', () => agent.stderr.some((l) => /writable again; \d+ records held in memory meanwhile are spooled now/.test(l)));
    const back = agent.returned().length;
    await waitFor('more calls', () => agent.returned().length > back + 50);
    agent.proc.kill('SIGKILL');
    await agent.exited;

    const collector = await startCollector({ port });
    const drain = runAgent({ MODE: 'drain', ENDPOINT: collector.url, SPOOL_DIR: spool });
    await drain.exited;
    expect((drain.lines.find((l) => 'drained' in l) as { drained: boolean }).drained).toBe(true);
    const ids = agent.returned();
    const byId = callsById(collector.dir);
    const missing = ids.filter((id) => !byId.has(id));
    // Only the last open batch (8 spans: at most 4 calls, plus the one in flight) may be missing, and only at the end.
    expect(missing.length).toBeLessThanOrEqual(5);
    expect(ids.slice(0, ids.length - missing.length).every((id) => byId.has(id))).toBe(true);
  });
});
