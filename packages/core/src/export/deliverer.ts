import type { Handling } from './answers.js';
import { Backoff } from './backoff.js';
import { bytesOf, type DeliveryQueue, type Work } from './delivery-queue.js';
import type { ExportSettings } from './export-options.js';
import type { PostResult } from './http-post.js';
import type { Attempt, RequestSender } from './request-sender.js';
import type { Settlements } from './settlements.js';
import type { SinkReport } from './sink-report.js';

/** setTimeout's longest delay; longer ones would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Keeps requests going: up to `maxConcurrentRequests` at once while the collector keeps up (so
 * its fsyncs can be grouped). Keeping up is measured: the window starts at one request and
 * grows by one with each answer that came within a quarter of the deadline, back to one at any
 * failure or slow answer (more requests at a slow collector only push each one past its
 * deadline, and a request cut off after the collector stored it is stored twice). Requests in
 * flight together are small (at most maxRequestBytes between them): a backlog goes as full-size
 * requests one at a time. Between failed attempts: the shared back-off; with the shared back-off between
 * failed attempts, and warnings when the collector is unreachable or misconfigured. Answers may
 * come in any order; the queue acknowledges the spool in order.
 */
export class Deliverer {
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightBytes = 0;
  /** Requests that may be in flight now (grows while answers come quickly). */
  private window = 1;
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private lastAttemptAt = 0;
  private failingSince: number | undefined;
  private lastProblem: string | undefined;
  private lastWarn = 0;
  private closed = false;

  constructor(
    private readonly sender: RequestSender,
    private readonly queue: DeliveryQueue,
    private readonly report: SinkReport,
    private readonly settlements: Settlements,
    private readonly o: ExportSettings,
    /** "N records waiting, B bytes in the spool at …", for the warnings. */
    private readonly backlog: () => string,
  ) {
    this.backoff = new Backoff(o.initialBackoffMs, o.maxBackoffMs);
  }

  get collectorUp(): boolean {
    return this.failingSince === undefined;
  }

  /** Starts requests while there is room, work, and no back-off pending. */
  kick(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    while (this.inFlight.size < this.window) {
      // The first request goes whatever its size; others only within what is left of maxRequestBytes.
      const work = this.queue.take(this.inFlight.size === 0 ? Infinity : this.o.maxRequestBytes - this.inFlightBytes);
      if (work === undefined) return;
      this.start(work);
    }
  }

  /**
   * A flush wants an attempt within its deadline, not after a back-off chosen before it was
   * asked for (but not more often than initialBackoffMs: a flush per call must not hammer).
   */
  hurry(timeoutMs: number): void {
    const now = Date.now();
    if (this.retryTimer !== undefined && !this.backoff.fromRetryAfter && this.retryAt > now + timeoutMs && now - this.lastAttemptAt >= this.o.initialBackoffMs) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.kick();
  }

  /** True when nothing is in flight and the next attempt is scheduled after `deadline`. */
  waitsPast(deadline: number): boolean {
    return this.inFlight.size === 0 && this.retryTimer !== undefined && this.retryAt > deadline;
  }

  /** Stops: requests in flight are abandoned (their records stay spooled), no more are started. */
  close(): void {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.abort.abort();
  }

  private start(work: Work): void {
    const startedAt = (this.lastAttemptAt = Date.now());
    const bytes = bytesOf(work);
    this.inFlightBytes += bytes;
    const request: Promise<void> = this.sender
      .send(work, this.abort.signal)
      .catch((err: unknown): Attempt => {
        // A bug, not an answer: keep everything and back off rather than spin.
        this.queue.giveBack(work);
        this.report.problem(`delivery failed unexpectedly: ${(err as Error).message}`);
        return { kind: 'failed', result: undefined, handling: undefined };
      })
      .then((attempt) => {
        this.inFlight.delete(request);
        this.inFlightBytes -= bytes;
        const quick = attempt.kind === 'delivered' && Date.now() - startedAt <= this.o.timeoutMs / 4;
        this.window = quick ? Math.min(this.o.maxConcurrentRequests, this.window + 1) : 1;
        this.answered(attempt);
        this.settlements.check();
      });
    this.inFlight.add(request);
  }

  private answered(attempt: Attempt): void {
    if (this.closed || attempt.kind === 'abandoned') return;
    if (attempt.kind === 'failed') {
      // Several requests failing together back off once, not once each.
      if (this.retryTimer === undefined) this.backoff.fail(attempt.result?.retryAfterMs);
      if (attempt.result !== undefined && attempt.handling !== undefined) this.reportFailure(attempt.result, attempt.handling);
      this.scheduleRetry();
      return;
    }
    if (attempt.kind === 'delivered') {
      this.backoff.reset();
      if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      if (this.failingSince !== undefined) {
        this.report.logger.warn(`collector ${this.sender.url.origin} reachable again after ${Math.round((Date.now() - this.failingSince) / 1000)} s`);
        this.failingSince = undefined;
        this.lastProblem = undefined;
      }
    } else this.backoff.goNow();
    if (this.queue.hasWork()) setImmediate(() => this.kick());
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    const ms = Math.min(this.backoff.delayMs, MAX_DELAY_MS);
    this.retryAt = Date.now() + ms;
    // Ref-free: back-off never keeps a process alive (a pending flush holds its own timer).
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, ms);
    this.retryTimer.unref();
  }

  private reportFailure(result: PostResult, handling: Extract<Handling, { kind: 'retry' | 'hold' }>): void {
    const now = Date.now();
    this.failingSince ??= now;
    const key = result.timedOut ? 'deadline' : String(result.status);
    const fresh = this.lastProblem !== key && (handling.kind === 'hold' || result.timedOut);
    this.lastProblem = key;
    this.report.lastError = handling.problem;
    // Configuration problems and stalls are reported at once; outages after warnAfterMs.
    if (fresh || (now - this.failingSince >= this.o.warnAfterMs && now - this.lastWarn >= this.o.warnAfterMs)) {
      this.lastWarn = now;
      const message = `${handling.problem}; ${this.backlog()}`;
      const outage = handling.kind === 'retry' && !result.timedOut && now - this.failingSince >= this.o.warnAfterMs;
      this.report.logger.warn(outage ? `${message} (failing for ${Math.round((now - this.failingSince) / 1000)} s)` : message);
    }
  }
}
