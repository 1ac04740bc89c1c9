import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport } from '../src/review/report/build.js';
import { renderHtml } from '../src/review/report/html.js';
import { CRAFTED_REFUSED, WEEK, craftedTrail, writeTrail } from './report-fixture.js';

/**
 * The HTML report in a real browser: Debian's chromium package, headless. Never skipped: when
 * chromium is missing the test fails and says how to install it (.ci/run installs it).
 */
const CHROMIUM = process.env.TOOLTRAIL_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACT = path.resolve(import.meta.dirname, '../../../test-artifacts/report.png');
const run = promisify(execFile);
const tmp: string[] = [];
afterAll(() => Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true }))));

// Everything that could make the browser reach out, or keep state, is off.
const flags = (profile: string): string[] => [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  `--user-data-dir=${profile}`,
  '--window-size=1280,2000',
];

async function chromium(args: string[]): Promise<string> {
  const { stdout } = await run(CHROMIUM, args, { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

describe('the HTML report in headless Chromium', () => {
  it('renders, shows every denied call of the trail, and leaves a screenshot', { timeout: 180_000 }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), or set TOOLTRAIL_CHROMIUM`).toBe(true);
    const work = await mkdtemp(path.join(tmpdir(), 'tooltrail-chromium-'));
    tmp.push(work);
    const trail = path.join(work, 'trail');
    await writeTrail(trail, craftedTrail(), 7);
    const data = await buildReport({ kind: 'dir', dir: trail }, { ...WEEK, now: new Date('2026-05-08T06:00:00Z') });
    const page = path.join(work, 'report.html');
    await writeFile(page, renderHtml(data));
    const url = `file://${page}`;

    const dom = await chromium([...flags(await mkdtemp(path.join(work, 'profile-'))), '--dump-dom', url]);
    expect(dom).toContain('</main>');
    // The DOM as the browser built it: one table row per refused call, in time order.
    const rows = [...dom.matchAll(/<tr id="call-(\d+)">([\s\S]*?)<\/tr>/g)].map((m) => m[2]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '));
    expect(rows).toHaveLength(CRAFTED_REFUSED.length);
    CRAFTED_REFUSED.forEach((c, i) => {
      const row = rows[i]!;
      expect(row).toContain(`${c.time.slice(0, 10)} ${c.time.slice(11, 19)}`);
      expect(row).toContain(c.tool);
      expect(row).toContain(c.rule ?? '–');
      expect(row).toContain(c.traceId);
      expect(row).toContain(c.agent ?? '(no agent)');
      expect(row).toContain(c.principal ?? '(no principal)');
      if (c.reason !== undefined) expect(row).toContain(c.reason);
    });
    // The timeline is there, with one marker per refused call.
    expect(dom.match(/<circle /g)).toHaveLength(CRAFTED_REFUSED.length);
    expect(dom).not.toMatch(/<script/i);

    await mkdir(path.dirname(ARTIFACT), { recursive: true });
    await rm(ARTIFACT, { force: true });
    await chromium([...flags(await mkdtemp(path.join(work, 'profile-'))), '--hide-scrollbars', `--screenshot=${ARTIFACT}`, url]);
    const png = await readFile(ARTIFACT);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    // IHDR: the window's size, and a page with content compresses to tens of kilobytes, not a blank few.
    expect(png.readUInt32BE(16)).toBe(1280);
    expect(png.readUInt32BE(20)).toBe(2000);
    expect((await stat(ARTIFACT)).size).toBeGreaterThan(30_000);
    expect((await stat(ARTIFACT)).size).toBeLessThan(10_000_000);
  });
});
