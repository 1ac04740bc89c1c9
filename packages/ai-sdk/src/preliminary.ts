/**
 * Streaming tools (`async *execute`) yield preliminary results and the SDK takes the last one as
 * the output. The audited call must cover the whole iteration (the attempt span lasts as long as
 * the tool works, the last value is the recorded result), while the SDK still needs an async
 * iterable from `execute`. The audited body drains the tool's iterable and forwards every value
 * through a Channel that the iterable returned to the SDK reads from.
 */
export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.signal();
  }

  close(): void {
    this.closed = true;
    this.signal();
  }

  fail(error: unknown): void {
    this.failure = { error };
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift() as T;
        continue;
      }
      // Values already produced are delivered before the error that followed them.
      if (this.failure) throw this.failure.error;
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

export function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v != null && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

export function isAsyncGeneratorFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]';
}

/** Iterates a streaming tool to its end; the last value is the tool's output, as in the SDK. */
export async function drain(iterable: AsyncIterable<unknown>, onValue: ((v: unknown) => void) | undefined): Promise<unknown> {
  let last: unknown;
  for await (const value of iterable) {
    last = value;
    onValue?.(value);
  }
  return last;
}
