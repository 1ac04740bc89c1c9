/**
 * One set of process listeners for every live sink: on SIGTERM/SIGINT a short flush, then the
 * signal's usual effect; before a natural exit a flush; at 'exit' a synchronous spill of what
 * is still in memory to the spool, which the next start delivers.
 */

export interface ExitAware {
  seal(): void;
  spillForExit(): void;
  flush(timeoutMs: number): Promise<boolean>;
}

const KEY = Symbol.for('tooltrail.core.exit-hooks.v1');
interface HookState {
  sinks: Map<ExitAware, number>;
  installed: boolean;
  flushedBeforeExit: boolean;
}
const g = globalThis as typeof globalThis & { [KEY]?: HookState };
const state: HookState = (g[KEY] ??= { sinks: new Map(), installed: false, flushedBeforeExit: false });

function flushAll(limitMs?: number): Promise<unknown> {
  return Promise.all(Array.from(state.sinks, ([sink, ms]) => sink.flush(limitMs ?? ms).catch(() => false)));
}

function onSignal(signal: NodeJS.Signals): void {
  for (const sink of state.sinks.keys()) sink.seal();
  const others = process.listenerCount(signal) > 1;
  void flushAll().finally(() => {
    for (const sink of state.sinks.keys()) sink.spillForExit();
    // When the app listens too, exiting is its call; otherwise do what the signal would have done.
    if (!others) {
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    }
  });
}

function onBeforeExit(): void {
  // beforeExit fires again after async work; flush once so a failing collector cannot keep the
  // process alive: what is left stays in the spool.
  if (state.flushedBeforeExit || state.sinks.size === 0) return;
  state.flushedBeforeExit = true;
  void flushAll();
}

function onExit(): void {
  for (const sink of state.sinks.keys()) sink.spillForExit();
}

export function registerExitHooks(sink: ExitAware, signalFlushMs: number): () => void {
  state.sinks.set(sink, signalFlushMs);
  if (!state.installed) {
    state.installed = true;
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('beforeExit', onBeforeExit);
    process.on('exit', onExit);
  }
  return () => {
    state.sinks.delete(sink);
    if (state.sinks.size === 0 && state.installed) {
      state.installed = false;
      state.flushedBeforeExit = false;
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('beforeExit', onBeforeExit);
      process.removeListener('exit', onExit);
    }
  };
}
