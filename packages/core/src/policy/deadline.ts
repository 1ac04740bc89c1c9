/**
 * The deadline of a pending decision (an async schema or async policy rules). A rule or schema
 * that never settles must neither hang the call forever nor let it vanish without a record: when
 * the deadline passes, or the auditor shuts down, the call is decided against (denied or
 * invalid), recorded, and whatever the rule answers later is ignored.
 *
 * The timer is ref'd while the decision is pending, so a process whose only work left is such a
 * call stays alive until the call is recorded (at most the deadline), and it is cleared the
 * moment the decision settles, so a finished call never holds the process open.
 */

/** Why a pending decision was cut short. */
export type ExpiryReason = 'deadline' | 'shutdown';

export interface PendingDecision {
  /** Decides now, as if the deadline had passed (shutdown). */
  expire(why: ExpiryReason): void;
}

/**
 * `pending`, or `onExpiry(why)` if that comes first. Once either happened the other is ignored:
 * a rule that settles after its deadline cannot let the body run.
 */
export function withDeadline<T>(
  pending: PromiseLike<T>,
  ms: number,
  onExpiry: (why: ExpiryReason) => T,
  registry: Set<PendingDecision>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      registry.delete(entry);
      settle();
    };
    const entry: PendingDecision = {
      expire: (why) =>
        finish(() => {
          try {
            resolve(onExpiry(why));
          } catch (err) {
            reject(err);
          }
        }),
    };
    const timer = setTimeout(() => entry.expire('deadline'), Math.max(1, ms));
    registry.add(entry);
    try {
      pending.then(
        (value) => finish(() => resolve(value)),
        (err: unknown) => finish(() => reject(err)),
      );
    } catch (err) {
      finish(() => reject(err)); // a thenable whose then() throws
    }
  });
}

/** Reading a user-supplied value threw (a getter, a Proxy trap): the value's giver failed. */
export class ReadFailed {
  constructor(readonly error: unknown) {}
}

type ThenFn = (onFulfilled: (value: unknown) => unknown, onRejected: (reason: unknown) => unknown) => unknown;

/**
 * The `then` of a user-supplied value (a handler's answer, a rule's verdict, a schema's result),
 * read once, in a try: a function for a thenable, undefined for anything else, a ReadFailed when
 * the read threw. Read once because a getter could say "function" to the check and throw (or
 * give another function) to the call.
 */
export function thenOf(value: unknown): ThenFn | undefined | ReadFailed {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    const then = (value as { then?: unknown }).then;
    return typeof then === 'function' ? (then as ThenFn) : undefined;
  } catch (err) {
    return new ReadFailed(err);
  }
}

/**
 * A promise of a thenable, calling the `then` read by thenOf(): whatever it throws (a native
 * promise whose `constructor` getter throws, say) is a rejection, never a synchronous throw.
 */
export function adopt<T>(value: unknown, then: ThenFn): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    Reflect.apply(then, value, [resolve, reject]);
  });
}
