export interface RetryOptions {
  /** Total attempts, the first included. Default 1 (no retry). */
  attempts?: number;
  /** Delay before the second attempt; doubled for each later one. Default 100. */
  backoffMs?: number;
  /** Upper bound of one delay. Default 10 000. */
  maxBackoffMs?: number;
  /** Whether this failure is worth another attempt. Default: every failure is. */
  retryOn?: (error: unknown, attempt: number) => boolean;
}

export const RETRY_KEYS: readonly string[] = ['attempts', 'backoffMs', 'maxBackoffMs', 'retryOn'];

export interface RetryPolicy {
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly retryOn: (error: unknown, attempt: number) => boolean;
}

export const NO_RETRY: RetryPolicy = Object.freeze({
  attempts: 1,
  backoffMs: 0,
  maxBackoffMs: 0,
  retryOn: () => false,
});

export function normalizeRetry(options: RetryOptions | undefined): RetryPolicy {
  if (!options) return NO_RETRY;
  return Object.freeze({
    attempts: Math.max(1, Math.floor(options.attempts ?? 1)),
    backoffMs: Math.max(0, options.backoffMs ?? 100),
    maxBackoffMs: Math.max(0, options.maxBackoffMs ?? 10_000),
    retryOn: options.retryOn ?? (() => true),
  });
}

/** Delay before attempt `next` (2-based): exponential, capped. Deterministic so tests can assert it. */
export function retryDelay(policy: RetryPolicy, next: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (next - 2));
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
