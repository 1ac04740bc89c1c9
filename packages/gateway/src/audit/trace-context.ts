import { AsyncLocalStorage } from 'node:async_hooks';
import { context, ROOT_CONTEXT, trace, TraceFlags, type Context, type ContextManager } from '@opentelemetry/api';

/**
 * The agent's W3C trace context (`params._meta.traceparent`, unprefixed as the MCP conventions
 * say) as the parent of the gateway's `execute_tool` span: core parents a call on the active
 * span, so the call runs under a context that holds the agent's span as a remote parent.
 */

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** The remote span context of a `traceparent` value (W3C Trace Context, level 1), or undefined. */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string; traceFlags: number } | undefined {
  if (typeof value !== 'string' || value.length > 256) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  // Version ff is invalid; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && value.trim().length !== 55)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED };
}

/** `base` with the agent's span (from `_meta.traceparent`) as the active, remote parent; `base` without one. (`tracestate` is not carried: core records none.) */
export function agentContext(meta: Record<string, unknown> | undefined, base: Context = context.active()): Context {
  const parsed = parseTraceparent(meta?.traceparent);
  if (parsed === undefined) return base;
  return trace.setSpanContext(base, { ...parsed, isRemote: true });
}

/** A context manager on AsyncLocalStorage (what `context.with` needs to mean anything). */
class StorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    // Core enters a context several times per call: no closure when there is nothing to bind.
    if (thisArg === undefined && args.length === 0) return this.storage.run(ctx, fn as () => ReturnType<F>);
    return this.storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    const bound = function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    };
    return bound as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

let installed = false;

/**
 * Makes `context.with` work in the gateway's process: installs a context manager unless the
 * process already has one (an app that set up OpenTelemetry keeps its own).
 */
export function ensureContextManager(): void {
  if (installed) return;
  installed = true;
  const probe = ROOT_CONTEXT.setValue(Symbol('tooltrail.gateway.probe'), true);
  if (context.with(probe, () => context.active() === probe)) return;
  context.setGlobalContextManager(new StorageContextManager());
}
