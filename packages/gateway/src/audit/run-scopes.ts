import { AsyncResource } from 'node:async_hooks';
import type { Auditor, RunIdentityInput } from '@tooltrail/core';

interface Scope {
  /** Runs `fn` inside the run's context. */
  readonly exec: <T>(fn: () => T) => T;
  readonly end: () => void;
  readonly done: Promise<unknown>;
}

/**
 * The runs of one agent connection: `auditor.run()` held open for the connection's life (one
 * `invoke_agent` record per run, its calls under it). The connection's own run, plus one per
 * run a verified run token names. All end when the connection closes.
 */
export class RunScopes {
  private readonly scopes = new Map<string, Promise<Scope>>();
  private closed = false;

  constructor(private readonly auditor: Auditor) {}

  /** Runs `fn` inside the run keyed `key`, opening it with `identity` the first time. */
  async within<T>(key: string, identity: RunIdentityInput, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the connection is closed');
    let scope = this.scopes.get(key);
    if (scope === undefined) {
      scope = this.open(identity);
      this.scopes.set(key, scope);
    }
    const s = await scope;
    return s.exec(fn);
  }

  private open(identity: RunIdentityInput): Promise<Scope> {
    let end!: () => void;
    let exec!: Scope['exec'];
    let started!: () => void;
    const inside = new Promise<void>((r) => (started = r));
    // auditor.run() may call back synchronously: `done` is only read once it is assigned.
    const done = this.auditor.run(identity, () => {
      exec = AsyncResource.bind(<T>(fn: () => T): T => fn());
      const ended = new Promise<void>((r) => (end = r));
      started();
      return ended;
    });
    return Promise.race([inside.then((): Scope => ({ exec, end: () => end(), done: done.catch(() => undefined) })), done.then(() => {
      throw new Error('the run ended before it started');
    })]);
  }

  /** Ends every run (their `invoke_agent` records are written then). */
  async close(): Promise<void> {
    this.closed = true;
    const scopes = await Promise.allSettled(this.scopes.values());
    for (const s of scopes) if (s.status === 'fulfilled') s.value.end();
    await Promise.allSettled(scopes.map((s) => (s.status === 'fulfilled' ? s.value.done : undefined)));
    this.scopes.clear();
  }
}
