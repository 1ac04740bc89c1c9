/**
 * The `tools/call`s of one connection that are not answered yet, and their upstream requests:
 * what a closing connection waits for, and what it aborts when they outlast its grace.
 */
export class CallsInFlight {
  private readonly calls = new Set<Promise<unknown>>();
  /** The upstream requests of the calls forwarded and not answered yet. */
  private readonly forwarded = new Set<AbortController>();

  /** @param peerClosed whether the agent side has closed (then an abort of the agent's signal is not a cancel). */
  constructor(private readonly peerClosed: () => boolean) {}

  get size(): number {
    return this.calls.size;
  }

  track<T>(call: Promise<T>): Promise<T> {
    this.calls.add(call);
    const done = () => void this.calls.delete(call);
    call.then(done, done);
    return call;
  }

  /**
   * The signal of one forwarded request: aborted by the agent's cancellation, not by its going
   * away (the SDK aborts every handler's signal when the agent side closes; a call already
   * forwarded then runs to its end and is recorded as it ended, not as an error it never had).
   * `done()` once the request is answered.
   */
  forward(agentSignal: AbortSignal): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    const onAbort = (): void => {
      if (this.peerClosed()) return;
      const reason: unknown = agentSignal.reason;
      controller.abort(`the agent cancelled the request${typeof reason === 'string' && reason !== '' ? `: ${reason}` : ''}`);
    };
    if (agentSignal.aborted) onAbort();
    else agentSignal.addEventListener('abort', onAbort, { once: true });
    this.forwarded.add(controller);
    return { signal: controller.signal, done: () => void this.forwarded.delete(controller) };
  }

  /**
   * Waits for the calls in flight (also those that arrive meanwhile, in rounds) for at most
   * `graceMs`; what still runs then has its upstream request aborted (recorded as such), and
   * gets one more second. Returns how many calls outlasted the grace.
   */
  async drain(graceMs: number): Promise<number> {
    const deadline = Date.now() + graceMs;
    while (this.calls.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.calls]), new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())))]);
      clearTimeout(timer);
    }
    const late = this.calls.size;
    if (late > 0) {
      for (const c of this.forwarded) c.abort('the gateway closed the connection with the call still running');
      await Promise.race([Promise.allSettled([...this.calls]), new Promise((r) => setTimeout(r, 1_000))]);
    }
    return late;
  }
}
