// A child agent process for the lifecycle tests, run with `node --import tsx` against core's
// source. It prints one JSON line per event on stdout. Environment:
//   MODE=loop        calls a tool in a loop (one call always in flight) until a signal arrives;
//                    prints {"ready":n} after READY calls. APP_LISTENS=1 installs the app's own
//                    SIGTERM handler, which shuts the auditor down and exits 0.
//   MODE=exit        makes READY calls, then process.exit(0) while a call is in flight.
//   MODE=natural     makes READY calls and simply returns (no shutdown(): beforeExit ends the stream).
//   MODE=uncaught    makes READY calls, then throws from a timer.
//   MODE=lineage     starts an auditor with a custom exporter and LINEAGE_FILE, prints its stream
//                    start attributes and exits.
//   MODE=pending-rule / quick-rule  one call whose policy rule never settles / settles at once,
//                    POLICY_TIMEOUT_MS; prints each exported span, shuts down once the call ended.
import { createAuditor, type Auditor } from '../src/index.js';

const mode = process.env.MODE ?? 'loop';
const ready = Number(process.env.READY ?? 20);
const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const logger = { warn: (m: string) => void process.stderr.write(`[warn] ${m}\n`) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (mode === 'pending-rule' || mode === 'quick-rule') {
  const auditor = createAuditor({
    serviceName: 'deadline-agent',
    logger,
    masking: false,
    policyTimeoutMs: Number(process.env.POLICY_TIMEOUT_MS ?? 5_000),
    exporter: {
      export: (spans, done) => {
        for (const s of spans) out({ span: s.name, rule: s.attributes['tooltrail.policy.rule'], outcome: s.attributes['tooltrail.outcome'] });
        done({ code: 0 });
      },
      shutdown: async () => undefined,
    },
  });
  // A rule waiting on something that will never answer, and that holds no timer or socket of its own.
  const rule = mode === 'pending-rule' ? () => new Promise<undefined>(() => undefined) : () => Promise.resolve(undefined);
  const tool = auditor.withAudit(async () => 'ran', { name: 'guarded', policy: [rule] });
  void auditor
    .run({ principal: { id: 'user:deadline' } }, () => tool())
    .then((v) => out({ result: v }), (e: unknown) => out({ error: (e as { code?: string }).code }))
    .then(() => auditor.shutdown(2_000));
} else if (mode === 'lineage') {
  const starts: Record<string, unknown>[] = [];
  const auditor = createAuditor({
    serviceName: 'lineage-agent',
    logger,
    masking: false,
    exporter: {
      export: (spans, done) => {
        for (const s of spans) if (s.name === 'tooltrail.stream_start') starts.push({ ...s.attributes });
        done({ code: 0 });
      },
      shutdown: async () => undefined,
    },
    integrity: { lineageFile: process.env.LINEAGE_FILE },
  });
  await auditor.shutdown(2_000);
  out({ streamId: auditor.streamId, start: starts[0] });
} else {
  const auditor: Auditor = createAuditor({
    serviceName: process.env.SERVICE ?? 'lifecycle-agent',
    endpoint: process.env.ENDPOINT,
    spoolDir: process.env.SPOOL_DIR,
    logger,
    masking: { hashKey: 'lifecycle-agent-mask-key-0123456789' },
    integrity: { checkpointEvery: Number(process.env.CHECKPOINT_EVERY ?? 1000) },
    export: { initialBackoffMs: 50, maxBackoffMs: 200, timeoutMs: 2_000, signalFlushMs: Number(process.env.SIGNAL_FLUSH_MS ?? 3_000) },
  });
  if (process.env.APP_LISTENS === '1') {
    process.on('SIGTERM', () => {
      void auditor.shutdown(5_000).then((ok) => {
        out({ appShutdown: ok });
        process.exit(0);
      });
    });
  }
  const step = auditor.withAudit(async (n: number) => (await sleep(3), n), { name: 'step' });
  await auditor.run({ principal: { id: 'user:lifecycle' }, runId: `run-${process.pid}` }, async () => {
    for (let i = 0; i < ready; i++) await step(i);
    out({ ready, streamId: auditor.streamId });
    if (mode === 'exit') {
      void step(-1).catch(() => undefined);
      await sleep(1);
      process.exit(0);
    }
    if (mode === 'uncaught') {
      setTimeout(() => {
        throw new Error('agent crashed');
      }, 5);
      await new Promise(() => undefined);
    }
    if (mode === 'loop') {
      for (let i = ready; ; i++) {
        try {
          await step(i);
        } catch (err) {
          // After the signal, calls are refused: the loop ends.
          out({ refused: (err as { code?: string }).code });
          return;
        }
      }
    }
  });
}
