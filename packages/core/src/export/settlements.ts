/**
 * Pending flush()/shutdown() calls. Each settles when its probe says so (re-asked whenever
 * delivery makes progress) or at its deadline, whichever comes first, and holds a ref'd timer
 * until then: a pending flush keeps the process alive, and can never be left unsettled by an
 * unref'd back-off timer, a request that never answers, or a loop that was blocked.
 */
/** setTimeout's longest delay; longer ones would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class Settlements {
  private readonly waiters = new Set<() => void>();

  /** `probe(deadline)`: true or false to settle with that value now, undefined to keep waiting. */
  wait(timeoutMs: number, probe: (deadline: number) => boolean | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const ms = Number.isFinite(timeoutMs) ? Math.min(MAX_DELAY_MS, Math.max(0, timeoutMs)) : MAX_DELAY_MS;
      const deadline = Date.now() + ms;
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (value: boolean) => {
        if (done) return;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const check = () => {
        const verdict = probe(deadline);
        if (verdict !== undefined) settle(verdict);
      };
      check();
      if (done) return;
      timer = setTimeout(() => settle(probe(deadline) === true), ms);
      this.waiters.add(check);
    });
  }

  /** Re-asks every pending probe (after a delivery, a failure, a new back-off). */
  check(): void {
    for (const w of [...this.waiters]) w();
  }
}
