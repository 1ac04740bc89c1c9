import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/verify/progress.js';

// The progress line, on a fake clock: silent for the first 2 s, then on a terminal rewritten in
// place once a second and cleared at the end; in a log (--progress) one line every 5 s.

function run(mode: 'tty' | 'lines' | 'off') {
  let t = 0;
  const out: string[] = [];
  const p = createProgress((s) => out.push(s), mode, () => t);
  for (let ms = 0; ms <= 12_000; ms += 250) {
    t = ms;
    p.records(4096 * Math.floor(ms / 250) + 1); // not a multiple of 4096: only update() ticks here
    p.update(ms * 1024 * 1024, ms * 10);
  }
  p.done();
  return out;
}

describe('verify progress', () => {
  it('on a terminal: nothing for 2 s, then once a second in place, cleared at the end', () => {
    const out = run('tty');
    expect(out).toHaveLength(12); // at 2, 3, ..., 12 s, and the clearing
    expect(out[0]).toBe('\r\x1b[Ktooltrail verify: 2000.0 MiB, 20,000 lines, 32,769 spans checked, 2 s');
    expect(out.at(-1)).toBe('\r\x1b[K');
  });

  it('in a log: a line every 5 s, nothing to clear', () => {
    const out = run('lines');
    expect(out).toEqual([
      'tooltrail verify: 5000.0 MiB, 50,000 lines, 81,921 spans checked, 5 s\n',
      'tooltrail verify: 10000.0 MiB, 100,000 lines, 163,841 spans checked, 10 s\n',
    ]);
  });

  it('off: nothing', () => {
    expect(run('off')).toEqual([]);
  });
});
