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
  /** The scopes already open: a call in a run that is open enters it without awaiting anything. */
  private readonly entered = new Map<string, Scope>();
  private closed = false;

  constructor(private readonly auditor: Auditor) {}

  /** Who each run key was first asked for (principal and agent). */
  private readonly owners = new Map<string, string>();

  /**
   * Why `identity` may not enter run `key`, or undefined: a run is opened once with one identity,
   * and `within` enters it by key alone, so a second identity for the same key would be recorded
   * under the first one's principal and agent.
   */
  conflict(key: string, identity: RunIdentityInput): string | undefined {
    const owner = JSON.stringify([identity.principal.id, identity.principal.type ?? null, identity.agent?.name ?? null, identity.agent?.id ?? null]);
    const first = this.owners.get(key);
    if (first === undefined) {
      this.owners.set(key, owner);
      return undefined;
    }
    if (first === owner) return undefined;
    const agent = identity.agent?.name ?? identity.agent?.id;
    return `run ${JSON.stringify(identity.runId)} is already open on this connection for another principal or agent; a run token naming it for principal ${identity.principal.id}${agent !== undefined ? ` and agent ${agent}` : ''} is refused`;
  }

  /** Runs `fn` inside the run keyed `key`, opening it with `identity` the first time. */
  within<T>(key: string, identity: RunIdentityInput, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the connection is closed'));
    const ready = this.entered.get(key);
    if (ready !== undefined) {
      try {
        return ready.exec(fn);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    let scope = this.scopes.get(key);
    if (scope === undefined) {
      scope = this.open(identity);
      scope.then((s) => !this.closed && this.entered.set(key, s)).catch(() => undefined);
      this.scopes.set(key, scope);
    }
    return scope.then((s) => s.exec(fn));
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
    this.entered.clear();
    const scopes = await Promise.allSettled(this.scopes.values());
    for (const s of scopes) if (s.status === 'fulfilled') s.value.end();
    await Promise.allSettled(scopes.map((s) => (s.status === 'fulfilled' ? s.value.done : undefined)));
    this.scopes.clear();
  }
}
