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
