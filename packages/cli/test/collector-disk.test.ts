import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTrailFiles, openTrail } from '../src/trail/reader.js';
import { cleanup, jsonRequest, post, startCliCollector, stopCli, tempDir } from './helpers.js';

// A full disk while the collector writes and seals: a real `tooltrail collect` on a 1 MiB tmpfs
// that fills up and then gets space back. Needs root (mount); skipped otherwise.

const JSON_HEADERS = { 'content-type': 'application/json' };
const seal = generateKeyPairSync('ed25519');
const canMount = process.getuid?.() === 0 && process.platform === 'linux';
let work: string;
const mounts: string[] = [];

async function tmpfs(name: string): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

beforeAll(async () => {
  work = await tempDir();
  writeFileSync(path.join(work, 'seal.key'), seal.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
});
afterAll(async () => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  await cleanup();
});

async function read(dir: string) {
  const t = openTrail(dir, { sealKeys: [seal.publicKey] });
  const names: string[] = [];
  for await (const e of t) names.push(e.record.name);
  return { names, t };
}

describe.skipIf(!canMount)('a full disk', () => {
  it('refuses with 503 while full, every acknowledged span stays on disk, and the chain goes on once space is back', async () => {
    const mnt = await tmpfs('full');
    const filler = path.join(mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(700 * 1024));
    const c = await startCliCollector(path.join(mnt, 'trail'), ['--seal-key', path.join(work, 'seal.key'), '--seal-every', '1']);
    const acked: string[] = [];
    const refused: string[] = [];
    let i = 0;
    // Each request is ~20 KB, and its batch ends with a seal: the disk fills while writing spans or seals.
    while (refused.length < 3 && i < 100) {
      const res = await post(c.tracesUrl, jsonRequest(2, `r${i}`, 'z'.repeat(10_000)), JSON_HEADERS);
      (res.status === 200 ? acked : refused).push(`r${i}`);
      if (res.status !== 200) {
        expect(res.status).toBe(503);
        expect(JSON.parse(res.body).message).toMatch(/could not write the trail: .*ENOSPC/);
      }
      i++;
    }
    expect(acked.length).toBeGreaterThan(5);
    expect(refused).toHaveLength(3);
    rmSync(filler);
    for (let j = 0; j < 3; j++) expect((await post(c.tracesUrl, jsonRequest(2, `back${j}`), JSON_HEADERS)).status).toBe(200);
    expect((await stopCli(c)).code).toBe(0);
    expect(c.stderr()).toMatch(/writing .* failed \(ENOSPC/);

    const { names, t } = await read(c.dir);
    const ackedSpans = [...acked, 'back0', 'back1', 'back2'].flatMap((p) => [`${p}-0`, `${p}-1`]);
    // Everything acknowledged is there; anything else is from a refused request (its client retries).
    for (const n of ackedSpans) expect(names).toContain(n);
    for (const n of names.filter((x) => !ackedSpans.includes(x))) expect(refused).toContain(n.split('-')[0]);
    // The files the full disk cut short are named as such; the links between files all verify.
    const kinds = t.seals.findings.map((f) => f.kind);
    expect(kinds.length).toBeGreaterThanOrEqual(1);
    expect(new Set(kinds)).toEqual(new Set(['unsealed-tail']));
    const files = await listTrailFiles(c.dir);
    expect(t.seals.findings.every((f) => f.file !== files.at(-1))).toBe(true);
  }, 60_000);

  it('a disk full at shutdown leaves the last file without its closing seal, and says so', async () => {
    const mnt = await tmpfs('close');
    const c = await startCliCollector(path.join(mnt, 'trail'), ['--seal-key', path.join(work, 'seal.key'), '--seal-every', '100000']);
    expect((await post(c.tracesUrl, jsonRequest(3, 'kept'), JSON_HEADERS)).status).toBe(200);
    const file = (await listTrailFiles(c.dir))[0]!;
    // tmpfs hands out 4 KiB pages: end the file near the end of one, so the closing seal needs a new page.
    let overhead: number | undefined;
    for (let k = 0; k < 10; k++) {
      const size = statSync(file).size;
      const room = 4096 - (size % 4096);
      if (room <= 150) break;
      const pad = Math.max(0, room - 100 - (overhead ?? 900));
      expect((await post(c.tracesUrl, jsonRequest(1, `pad${k}`, 'q'.repeat(pad)), JSON_HEADERS)).status).toBe(200);
      overhead = statSync(file).size - size - pad;
    }
    expect(4096 - (statSync(file).size % 4096)).toBeLessThanOrEqual(150);
    // Then fill every page.
    for (let k = 0; ; k++) {
      try {
        writeFileSync(path.join(mnt, `fill-${k}`), Buffer.alloc(4096));
      } catch {
        break;
      }
    }
    expect((await stopCli(c)).code).toBe(0);
    expect(c.stderr()).toMatch(/could not write the closing seal of .*ENOSPC/);
    const { names, t } = await read(c.dir);
    expect(names.slice(0, 3)).toEqual(['kept-0', 'kept-1', 'kept-2']);
    expect(t.seals.findings.map((f) => f.kind)).toEqual(['unsealed-tail']);
    // A seal cut part way is a torn line, never taken for a seal.
    expect(t.problems.every((p) => p.kind === 'torn')).toBe(true);
  }, 30_000);
});
