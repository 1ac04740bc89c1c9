import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../src/commands/io.js';
import { parseTimeArg } from '../src/review/time-arg.js';
import { cleanup, runCli, tempDir } from './helpers.js';

afterEach(cleanup);

async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = runCli(args);
  const { code } = await r.exited;
  return { code, out: r.stdout(), err: r.stderr() };
}

const firstLine = (s: string): string => s.split('\n')[0] ?? '';

describe('parseTimeArg: what a date on the command line means', () => {
  const now = new Date('2026-05-08T12:00:00Z');
  it('a duration too far back for a date is refused, not an Invalid Date', () => {
    expect(() => parseTimeArg('999999999w', now)).toThrow(new UsageError('"999999999w" is too far back (a date before the year -271821)'));
  });
  it('a day that does not exist is refused, not rolled over', () => {
    for (const bad of ['2026-02-30', '2026-02-29', '2026-04-31', '2026-00-10', '2026-05-01T24:00:00Z', '2026-05-01T09:60Z', '2026-05-01T09:30:61Z']) {
      expect(() => parseTimeArg(bad, now), bad).toThrow(UsageError);
    }
    expect(() => parseTimeArg('2026-02-30', now)).toThrow(new UsageError('"2026-02-30" is not a date of the calendar'));
    expect(parseTimeArg('2028-02-29').toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });
  it('a date-time without a zone is UTC, as every output says, whatever TZ is', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York'; // Node reads TZ again when it changes
    try {
      expect(new Date('2026-11-30T09:30').getTimezoneOffset()).toBe(300); // the zone took effect
      expect(parseTimeArg('2026-11-30T09:30').toISOString()).toBe('2026-11-30T09:30:00.000Z');
    expect(parseTimeArg('2026-11-30 09:30:15.250').toISOString()).toBe('2026-11-30T09:30:15.250Z');
      expect(parseTimeArg('2026-11-30T09:30+02:00').toISOString()).toBe('2026-11-30T07:30:00.000Z');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});

describe('bad command lines exit 2 with a message, before any work, never a stack', () => {
  it('report, policy test and check: --since 999999999w', async () => {
    const dir = await tempDir();
    const pol = path.join(dir, 'p.yaml');
    await writeFile(pol, 'id: cand\ndefault: allow\nrules: []\n');
    for (const args of [
      ['report', '--trail', dir, '--since', '999999999w'],
      ['policy', 'test', '--policy', pol, '--trail', dir, '--since', '999999999w'],
      ['check', '--policy', pol, '--endpoint', 'http://127.0.0.1:1', '--trail', dir, '--since', '999999999w'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(firstLine(r.err)).toBe(`tooltrail ${args[0]}: --since: "999999999w" is too far back (a date before the year -271821)`);
      expect(r.err).not.toMatch(/at .*\.js:\d+/);
    }
  });

  it('report --since 2026-02-30 exits 2', async () => {
    const r = await cli(['report', '--trail', await tempDir(), '--since', '2026-02-30']);
    expect(r.code).toBe(2);
    expect(firstLine(r.err)).toBe('tooltrail report: --since: "2026-02-30" is not a date of the calendar');
  });

  it('report --html into a folder that does not exist exits 2 before reading', async () => {
    const dir = await tempDir();
    const r = await cli(['report', '--trail', dir, '--html', path.join(dir, 'no', 'x.html')]);
    expect(r.code).toBe(2);
    expect(firstLine(r.err)).toBe(`tooltrail report: --html: no such folder: ${path.join(dir, 'no')}`);
    expect(r.out).toBe('');
  });

  it('report --html that cannot be written (a folder) exits 2 with the reason', async () => {
    const dir = await tempDir();
    const r = await cli(['report', '--trail', dir, '--html', dir]);
    expect(r.code).toBe(2);
    expect(firstLine(r.err)).toMatch(/^tooltrail report: --html: cannot write .*: EISDIR/);
  });

  it('report, policy test: a source URL that is not an http(s) URL', async () => {
    const pol = path.join(await tempDir(), 'p.yaml');
    await writeFile(pol, 'id: cand\ndefault: allow\nrules: []\n');
    const cases: [string, string, string[]][] = [
      ['--jaeger', 'notaurl', ['report', '--jaeger', 'notaurl', '--service', 'x']],
      ['--tempo', 'ftp://h/', ['report', '--tempo', 'ftp://h/', '--service', 'x']],
      ['--jaeger', 'notaurl', ['policy', 'test', '--policy', pol, '--jaeger', 'notaurl', '--service', 'x']],
    ];
    for (const [flag, value, args] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(firstLine(r.err)).toBe(`tooltrail ${args[0]}: ${flag} must be an http(s) URL, got "${value}"`);
    }
  });

  it('report --since 0m without --until says the period is empty, not "--until must be after --since"', async () => {
    const r = await cli(['report', '--trail', await tempDir(), '--since', '0m']);
    expect(r.code).toBe(2);
    expect(firstLine(r.err)).toBe('tooltrail report: --since 0m is not before the end of the period (now, as no --until was given): the period is empty');
    const u = await cli(['report', '--trail', await tempDir(), '--since', '2026-05-02', '--until', '2026-05-01']);
    expect(firstLine(u.err)).toBe('tooltrail report: --until must be after --since');
  });
});
