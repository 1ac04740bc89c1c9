import { AuditUnavailableError, SHUT_DOWN_CODE } from '../contract/errors.js';
import type { InFlightCall } from '../call/engine.js';

/**
 * The calls between their start and their record, and the gates shutdown closes in turn:
 * first new calls (closing), then tool bodies (bodiesClosed), then durability (sinkClosing).
 */
export class CallBook {
  /** Shutdown began: new calls are refused. */
  closing = false;
  /** Shutdown stopped waiting: no tool body may start any more. */
  bodiesClosed = false;
  /** The sink was told to shut down: nothing can be made durable any more. */
  sinkClosing = false;
  readonly inFlight = new Set<InFlightCall>();
  /** Retry back-offs in progress: shutdown cuts them short. */
  private readonly backoffs = new Set<() => void>();
  private drained: (() => void) | undefined;

  constructor(private readonly serviceName: string) {}

  started(call: InFlightCall): void {
    this.inFlight.add(call);
  }

  settled(call: InFlightCall): void {
    this.inFlight.delete(call);
    if (this.drained !== undefined && this.inFlight.size === 0) this.drained();
  }

  shutDownError(tool: string): AuditUnavailableError {
    return new AuditUnavailableError(`auditor "${this.serviceName}" is shut down; tool "${tool}" was not run because it could not be recorded`, {
      code: SHUT_DOWN_CODE,
    });
  }

  bodyGate(): AuditUnavailableError | undefined {
    if (!this.bodiesClosed) return undefined;
    return new AuditUnavailableError(
      `auditor "${this.serviceName}" shut down before this call's tool body could start; it was not run because it could not be recorded`,
      { code: SHUT_DOWN_CODE },
    );
  }

  /** A retry back-off; resolves false when shutdown cut it short. */
  backoff(ms: number): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const cancel = (): void => {
        clearTimeout(timer);
        this.backoffs.delete(cancel);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.backoffs.delete(cancel);
        resolve(true);
      }, ms);
      this.backoffs.add(cancel);
    });
  }

  /** Refuses new calls and cuts waits short: a retry is new work nobody would record. */
  close(): void {
    this.closing = true;
    for (const cancel of [...this.backoffs]) cancel();
  }

  /** Waits until no call is in flight, or `ms` passed. */
  drain(ms: number): Promise<void> {
    if (this.inFlight.size === 0 || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // Ref'd: a pending shutdown keeps the process alive until it settles.
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.drained = undefined;
        resolve();
      }
      this.drained = done;
    });
  }

  /** Records the calls whose body is running as unfinished; returns how many. */
  recordUnfinished(): number {
    let unfinished = 0;
    for (const call of this.inFlight) {
      if (!call.bodyStarted) continue;
      call.writeUnfinished();
      unfinished++;
    }
    return unfinished;
  }
}
