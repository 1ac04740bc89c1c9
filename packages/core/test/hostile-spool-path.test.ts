import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirSync } from '../src/files/make-dir.js';

// A spoolDir under /proc (a read-only path even for root) made `fs.mkdirSync(dir, { recursive:
// true })` loop for ever on Node 20: createAuditor() never returned and the event loop was
// blocked, so not even a timer could report it. Each case runs in a child process with a
// deadline, so a hang is a failure here rather than a stuck test run.

const dist = path.resolve(import.meta.dirname, '../dist/index.js');
const work = mkdtempSync(path.join(tmpdir(), 'tooltrail-hostile-spool-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const agent = `
import { createAuditor } from ${JSON.stringify(dist)};
const [spoolDir, durability, failMode] = process.argv.slice(2);
let ran = 0;
const a = createAuditor({ serviceName: 'hostile-spool', endpoint: 'http://127.0.0.1:9', spoolDir, durability, failMode,
  logger: { warn() {} }, export: { timeoutMs: 200, initialBackoffMs: 20, maxBackoffMs: 50, flushIntervalMs: 1 } });
const tool = a.withAudit(async () => { ran++; return 1; }, { name: 'pay' });
const outcome = async () => { try { await a.run({ principal: { id: 'u' } }, () => tool()); return 'ran'; } catch (e) { return e.name; } };
const first = await outcome();
await a.flush(500);
const second = await outcome();
const event = await a.run({ principal: { id: 'u' } }, () => a.recordEvent({ kind: 'tool_changed', tool: 'pay' }));
const delivered = await a.shutdown(500);
console.log(JSON.stringify({ first, second, event, ran, delivered, dropped: a.stats().dropped }));
`;
const agentFile = path.join(work, 'agent.mjs');
writeFileSync(agentFile, agent);

function runAgent(...args: string[]) {
  const r = spawnSync(process.execPath, [agentFile, ...args], { encoding: 'utf8', timeout: 20_000 });
  expect(r.error, `the agent hung (${String(r.error)})`).toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as { first: string; second: string; event: boolean; ran: number; delivered: boolean; dropped: number };
}

describe.skipIf(!existsSync('/proc/self/stat'))('a spoolDir under /proc', () => {
  it('makeDirSync fails at once where a recursive mkdir never returns', () => {
    expect(() => makeDirSync('/proc/tooltrail-hostile/a/b')).toThrow(/ENOENT/);
    const file = path.join(work, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => makeDirSync(path.join(file, 'sub'))).toThrow(/ENOTDIR/);
    makeDirSync(path.join(work, 'x', 'y', 'z'));
    makeDirSync(path.join(work, 'x', 'y', 'z'));
    expect(existsSync(path.join(work, 'x', 'y', 'z'))).toBe(true);
  });

  it('strict: createAuditor returns, every call is refused, no body runs, shutdown says false', () => {
    const r = runAgent('/proc/tooltrail-hostile/spool', 'strict', 'closed');
    expect(r).toMatchObject({ first: 'AuditUnavailableError', second: 'AuditUnavailableError', event: false, ran: 0, delivered: false });
  });

  it('buffered, failMode closed: refused once the collector is known down too; losses counted, shutdown false', () => {
    const r = runAgent('/proc/tooltrail-hostile/spool', 'buffered', 'closed');
    expect(r.second).toBe('AuditUnavailableError');
    // recordEvent answers as a call is decided: the state that refuses calls makes it false
    expect(r.event).toBe(false);
    expect(r.ran).toBeLessThanOrEqual(1);
    expect(r.delivered).toBe(false);
    expect(r.dropped).toBeGreaterThan(0);
  });
});
