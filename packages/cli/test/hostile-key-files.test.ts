import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runCli, tempDir } from './helpers.js';

// A key or tokens file that is a FIFO blocked the whole process on open (no writer ever comes),
// and /dev/zero was read without end. Each must fail at once with exit 1 or 2 and a reason.

afterAll(cleanup);

async function finishes(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const run = runCli(args);
  const timer = setTimeout(() => run.proc.kill('SIGKILL'), 15_000);
  const { code, signal } = await run.exited;
  clearTimeout(timer);
  expect(signal, `${args.join(' ')} hung`).toBeNull();
  return { code, stderr: run.stderr() };
}

describe.skipIf(process.platform === 'win32' || !existsSync('/dev/zero'))('special files given as keys or tokens', () => {
  it('a FIFO and /dev/zero as --tokens, --seal-key, --public-key, --collector-key and --mac-key-file: refused, never a hang', async () => {
    const dir = await tempDir();
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const file of [fifo, '/dev/zero']) {
      const tokens = await finishes(['collect', '--port', '0', '--dir', path.join(dir, 'trail'), '--tokens', file]);
      expect(tokens.code).toBe(1);
      expect(tokens.stderr).toMatch(/is not a regular file/);
      const seal = await finishes(['collect', '--port', '0', '--dir', path.join(dir, 'trail'), '--seal-key', file]);
      expect(seal.code).toBe(1);
      expect(seal.stderr).toMatch(/is not a regular file/);
      for (const flag of ['--public-key', '--collector-key', '--mac-key-file']) {
        const v = await finishes(['verify', '--dir', dir, flag, file]);
        expect(v.code, flag).toBe(2);
        expect(v.stderr, flag).toMatch(/is not a regular file/);
      }
    }
  }, 60_000);
});
