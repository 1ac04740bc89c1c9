import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runCli } from './helpers.js';

// `tooltrail collect --dir /proc/...` and `tooltrail keygen --out /proc/...` never returned:
// Node 20's recursive mkdir loops for ever under /proc (mkdir there answers ENOENT). They must
// fail at once with exit 1 and a reason, like any other folder that cannot be written.

afterAll(cleanup);

describe.skipIf(!existsSync('/proc/self/stat'))('folders that cannot be created', () => {
  it('collect --dir under /proc: exit 1 with the reason, no ready line', async () => {
    const run = runCli(['collect', '--port', '0', '--dir', '/proc/tooltrail-hostile/trail']);
    const timer = setTimeout(() => run.proc.kill('SIGKILL'), 15_000);
    const { code, signal } = await run.exited;
    clearTimeout(timer);
    expect(signal).toBeNull();
    expect(code).toBe(1);
    expect(run.stderr()).toMatch(/cannot start: ENOENT/);
    expect(run.stdout()).toBe('');
  });

  it('keygen --out under /proc: exit 1, no hang', async () => {
    const run = runCli(['keygen', '--out', '/proc/tooltrail-hostile/keys']);
    const timer = setTimeout(() => run.proc.kill('SIGKILL'), 15_000);
    const { code, signal } = await run.exited;
    clearTimeout(timer);
    expect(signal).toBeNull();
    expect(code).toBe(1);
  });
});
