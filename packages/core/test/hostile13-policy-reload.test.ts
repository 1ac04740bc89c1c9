/**
 * Hostile review of issue 13's reload: a file rewritten while a reload reads it. The reload
 * looks at the file once to see whether it changed and reads it again to load it; when the
 * second read catches a half-written file, the complete file that follows must still load
 * (before: the reload remembered the first look as judged and never loaded the good file).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const hook = vi.hoisted(() => ({ tearNext: undefined as undefined | ((bytes: Buffer) => Buffer), skip: 0 }));
vi.mock('../src/files/read-small-file.js', async (orig) => {
  const real = await orig<typeof import('../src/files/read-small-file.js')>();
  return {
    ...real,
    readSmallFileSync: (file: string, what: string, max?: number) => {
      const bytes = real.readSmallFileSync(file, what, max);
      if (hook.tearNext !== undefined && what === 'policy file') {
        if (hook.skip > 0) hook.skip--;
        else {
          const tear = hook.tearNext;
          hook.tearNext = undefined;
          return tear(bytes);
        }
      }
      return bytes;
    },
  };
});

const { loadFilePolicy } = await import('../src/entries/policy.js');

const doc = (def: 'allow' | 'deny') => `id: reload-race\ndefault: ${def}\nrules:\n  - id: r\n    tools: ["x"]\n    decide: deny\n    reason: no\n`;
const silent = { info() {}, warn() {}, error() {}, debug() {} };

afterEach(() => {
  hook.tearNext = undefined;
  hook.skip = 0;
});

describe('hostile13: a reload that reads a half-written file', () => {
  it('the complete file that follows is loaded (not skipped as already judged)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'h13-reload-'));
    const path = join(dir, 'p.yaml');
    writeFileSync(path, doc('allow'));
    const policy = loadFilePolicy({ path, watch: false }, { logger: silent as never });
    const v1 = policy.version;
    expect(policy.decide({ tool: 'y', args: {} }).kind).toBe('allow');

    writeFileSync(path, doc('deny'));
    // The first look (did it change?) sees the whole file; the load itself reads half of it.
    hook.skip = 1;
    hook.tearNext = (b) => b.subarray(0, 20);
    expect(policy.reload()).toBe(false);
    expect(policy.status().reloadFailures).toBe(1);
    expect(policy.version).toBe(v1);

    // The writer finishes (here: the file already is complete); the next reload must load it.
    expect(policy.reload()).toBe(true);
    expect(policy.version).not.toBe(v1);
    expect(policy.decide({ tool: 'y', args: {} }).kind).toBe('deny');
    policy.close();
  });
});
