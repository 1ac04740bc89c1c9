/**
 * One set of process listeners for every live auditor (and any sink that registers itself):
 *
 * - SIGTERM / SIGINT that nobody else listens to: each auditor shuts down within its signal
 *   deadline (`export.signalFlushMs`): it refuses new calls, lets calls in flight finish briefly,
 *   records the ones still running as unfinished, ends its stream (the final checkpoint comes
 *   after the last record), and delivers what it can; the rest is sealed into the spool. Then
 *   the signal's usual effect: it is raised again, so the exit status says "killed by SIGTERM".
 *   A second signal while that runs stops waiting at once. Bounded: a ref'd guard timer ends
 *   the wait at the deadline plus a margin, whatever a collector or a tool does.
 * - A signal the app listens to as well: exiting is the app's call; auditors only flush (the
 *   stream stays open: the app may go on, and its own `shutdown()` ends the stream).
 * - 'beforeExit' (the event loop ran dry without a shutdown): each auditor shuts down once,
 *   within the same deadline, so a process that simply ends also ends its streams.
 * - 'exit' (process.exit(), an uncaught exception, after beforeExit): synchronous only: calls
 *   still running are recorded as unfinished, the stream is ended and everything is spilled to
 *   the spool, which the next start delivers.
 */

export interface ExitAware {
  seal(): void;
  spillForExit(): void;
  flush(timeoutMs: number): Promise<boolean>;
}

/** An auditor, as the exit hooks drive it. */
export interface ExitParticipant {
  shutdown(timeoutMs: number): Promise<boolean>;
  flush(timeoutMs: number): Promise<boolean>;
  /** Synchronous last step at process exit: record what is unfinished, end the stream, spill. */
  finishForExit(): void;
}

/** What a signal's guard timer adds to the longest deadline before it stops waiting. */
const SIGNAL_MARGIN_MS = 500;
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

interface Listeners {
  signal: (signal: NodeJS.Signals) => void;
  beforeExit: () => void;
  exit: () => void;
}

const KEY = Symbol.for('tooltrail.core.exit-hooks.v2');
interface HookState {
  sinks: Map<ExitAware, number>;
  auditors: Map<ExitParticipant, number>;
  /** The listeners installed (by whichever copy of core installed them), so any copy removes them. */
  installed: Listeners | undefined;
  beforeExitDone: boolean;
  signalling: boolean;
}
const g = globalThis as typeof globalThis & { [KEY]?: HookState };
const state: HookState = (g[KEY] ??= { sinks: new Map(), auditors: new Map(), installed: undefined, beforeExitDone: false, signalling: false });

function finishAll(): void {
  for (const auditor of state.auditors.keys()) {
    try {
      auditor.finishForExit();
    } catch {
      /* the process is going away; the others still get their turn */
    }
  }
  for (const sink of state.sinks.keys()) {
    try {
      sink.spillForExit();
    } catch {
      /* as above */
    }
  }
}

function reraise(signal: NodeJS.Signals): void {
  const listeners = state.installed;
  if (listeners) for (const s of SIGNALS) process.removeListener(s, listeners.signal);
  process.kill(process.pid, signal);
}

function onSignal(signal: NodeJS.Signals): void {
  const others = process.listenerCount(signal) > 1;
  if (state.signalling) {
    // A second signal: the operator will not wait. Spill what is in memory and go.
    if (!others) {
      finishAll();
      reraise(signal);
    }
    return;
  }
  state.signalling = true;
  const work: Promise<unknown>[] = [];
  let longest = 0;
  for (const [auditor, ms] of state.auditors) {
    longest = Math.max(longest, ms);
    work.push((others ? auditor.flush(ms) : auditor.shutdown(ms)).catch(() => false));
  }
  for (const [sink, ms] of state.sinks) {
    longest = Math.max(longest, ms);
    sink.seal();
    work.push(sink.flush(ms).catch(() => false));
  }
  let guard: NodeJS.Timeout | undefined;
  // Ref'd on purpose: the process must live until the records are delivered or spooled.
  const bounded = new Promise<void>((resolve) => (guard = setTimeout(resolve, longest + SIGNAL_MARGIN_MS)));
  void Promise.race([Promise.all(work), bounded]).then(() => {
    clearTimeout(guard);
    state.signalling = false;
    if (others) {
      for (const sink of state.sinks.keys()) sink.spillForExit();
      return;
    }
    finishAll();
    reraise(signal);
  });
}

function onBeforeExit(): void {
  // beforeExit fires again after async work; once is enough, and a failing collector cannot
  // keep the process alive: what is left stays in the spool.
  if (state.beforeExitDone || (state.auditors.size === 0 && state.sinks.size === 0)) return;
  state.beforeExitDone = true;
  for (const [auditor, ms] of state.auditors) void auditor.shutdown(ms).catch(() => false);
  for (const [sink, ms] of state.sinks) void sink.flush(ms).catch(() => false);
}

function install(): void {
  if (state.installed) return;
  const listeners: Listeners = { signal: onSignal, beforeExit: onBeforeExit, exit: finishAll };
  state.installed = listeners;
  for (const s of SIGNALS) process.on(s, listeners.signal);
  process.on('beforeExit', listeners.beforeExit);
  process.on('exit', listeners.exit);
}

function uninstallIfIdle(): void {
  const listeners = state.installed;
  if (!listeners || state.auditors.size > 0 || state.sinks.size > 0) return;
  state.installed = undefined;
  state.beforeExitDone = false;
  for (const s of SIGNALS) process.removeListener(s, listeners.signal);
  process.removeListener('beforeExit', listeners.beforeExit);
  process.removeListener('exit', listeners.exit);
}

/** A sink that handles its own exit (flush on signals, spill at exit). Returns the unregister function. */
export function registerExitHooks(sink: ExitAware, signalFlushMs: number): () => void {
  state.sinks.set(sink, signalFlushMs);
  install();
  return () => {
    state.sinks.delete(sink);
    uninstallIfIdle();
  };
}

/** An auditor: the whole signal path above. Returns the unregister function (called when it shut down). */
export function registerAuditorExitHooks(auditor: ExitParticipant, signalFlushMs: number): () => void {
  state.auditors.set(auditor, signalFlushMs);
  install();
  return () => {
    state.auditors.delete(auditor);
    uninstallIfIdle();
  };
}
