/**
 * The progress line for long runs, on stderr: rewritten in place on a terminal, one line every
 * 5 s otherwise (when asked for with --progress). Silent during the first 2 s, so short runs
 * print nothing.
 */
export interface Progress {
  update(bytes: number, lines: number): void;
  records(n: number): void;
  done(): void;
}

const MIB = 1024 * 1024;

export function createProgress(write: (text: string) => void, mode: 'tty' | 'lines' | 'off', now: () => number = Date.now): Progress {
  if (mode === 'off') return { update() {}, records() {}, done() {} };
  const started = now();
  let bytes = 0;
  let lines = 0;
  let recs = 0;
  let last = started;
  let shown = false;
  const every = mode === 'tty' ? 1000 : 5000;
  const render = () => {
    const secs = Math.round((now() - started) / 1000);
    const read = bytes > 0 ? `${(bytes / MIB).toFixed(1)} MiB, ` : '';
    return `tooltrail verify: ${read}${lines.toLocaleString('en-US')} lines, ${recs.toLocaleString('en-US')} spans checked, ${secs} s`;
  };
  const tick = () => {
    const t = now();
    if (t - last < every || t - started < 2000) return;
    last = t;
    shown = true;
    write(mode === 'tty' ? `\r\x1b[K${render()}` : `${render()}\n`);
  };
  return {
    update(b, l) {
      bytes = b;
      if (l > lines) lines = l;
      tick();
    },
    records(n) {
      recs = n;
      if (n % 4096 === 0) tick();
    },
    done() {
      if (shown && mode === 'tty') write('\r\x1b[K');
    },
  };
}
