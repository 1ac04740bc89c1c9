import type { KeyObject } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadPublicKey, readSmallFileSync } from '@tooltrail/core/integrity';
import { createProgress } from '../verify/progress.js';
import { decide, formatHuman } from '../verify/report.js';
import { openSource, type Paging, type VerifySource } from '../verify/sources.js';
import { TrailVerifier } from '../verify/verifier.js';
import { UsageError, type Io } from './io.js';

export const VERIFY_USAGE = `Usage: tooltrail verify <source> [options]

Checks the trail stream by stream: sequence numbers, record hashes and links, MACs, checkpoint
coverage and signatures, each stream's start and end, who wrote it, deleted streams, and the
collector's seals. Identical duplicates (at-least-once delivery) and storage order are not
findings. It says "complete and unedited" only when trusted keys verified the signatures (and
the collector's seals, where the files carry them).

Exit codes:
  0  verified: no findings, and trusted keys verified every checkpoint signature that covers
     the records (and the collector's seals, where present)
  1  findings (each is listed; docs/integrity.md says what each means)
  2  bad command line
  3  no findings in what was checked, but not authenticated: no --public-key, records after
     the last signed checkpoint (--allow-open), or seals without a trusted --collector-key

Sources (one):
  --dir <folder>            files written by tooltrail collect (default ./audit-trail)
  --jaeger <url>            Jaeger's query API, e.g. http://127.0.0.1:16686 (needs --service)
  --tempo <url>             Grafana Tempo's HTTP API, e.g. http://127.0.0.1:3200 (needs --service)

Options:
  --service <name>          service.name to read from Jaeger or Tempo
  --since <duration|date>   start of the time range: 30m, 24h, 7d or an ISO date (default 24h)
  --until <date>            end of the time range (default now)
  --page-traces <n>         traces asked for per query (default 250). The range is read in
                            time windows; a window whose answer is full is halved and asked
                            again, so nothing is cut silently
  --min-window <duration>   the smallest window, e.g. 10ms, 1s (default 10ms; Tempo: 1s); a
                            window still full at this size is a source-problem finding
  --public-key <file>       trusted checkpoint signing key (PEM); repeatable. With it every
                            checkpoint must carry a valid signature by a trusted key
  --collector-key <file>    trusted collector sealing key (PEM); repeatable. With it the
                            collector's seals over its files are checked
  --mac-key-file <file>     the integrity (MAC) key; with it every record's MAC is checked
  --stream <id>             verify one stream only
  --run <id>                verify the streams holding the records of one run (tooltrail.run.id)
  --allow-open              a stream still being written is not a finding (no stream end yet);
                            records after its last signed checkpoint make the result exit 3
  --progress                a progress line on stderr even when stderr is not a terminal
  --no-progress             no progress line (default: one on a terminal, for runs over 2 s)
  --json                    machine-readable output
`;

function parseSince(v: string, now: Date): Date {
  const m = /^(\d+)(m|h|d)$/.exec(v);
  if (m) return new Date(now.getTime() - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd']);
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--since must be like 30m, 24h, 7d or a date, got "${v}"`);
  return d;
}

function parseDuration(v: string, option: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(v);
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'] : NaN;
  if (!(ms >= 1)) throw new UsageError(`${option} must be like 10ms, 1s, 5m or 1h, got "${v}"`);
  return ms;
}

function loadKeys(files: string[], option: string): KeyObject[] {
  return files.map((f) => {
    try {
      return loadPublicKey(f);
    } catch (err) {
      throw new UsageError(`${option} ${f}: ${(err as Error).message}`);
    }
  });
}

function nonEmpty(v: string | undefined, option: string): string | undefined {
  if (v !== undefined && v.trim() === '') throw new UsageError(`${option} needs a value`);
  return v;
}

export async function verify(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      dir: { type: 'string' },
      jaeger: { type: 'string' },
      tempo: { type: 'string' },
      service: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'page-traces': { type: 'string' },
      'min-window': { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      'collector-key': { type: 'string', multiple: true },
      'mac-key-file': { type: 'string' },
      stream: { type: 'string' },
      run: { type: 'string' },
      'allow-open': { type: 'boolean' },
      progress: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(VERIFY_USAGE);
    return 0;
  }
  const sources = [values.dir, values.jaeger, values.tempo].filter((v) => v !== undefined);
  if (sources.length > 1) throw new UsageError('give one source: --dir, --jaeger or --tempo');
  if (values.progress && values['no-progress']) throw new UsageError('give --progress or --no-progress, not both');
  const stream = nonEmpty(values.stream, '--stream');
  const run = nonEmpty(values.run, '--run');
  const now = new Date();
  let source: VerifySource;
  if (values.jaeger !== undefined || values.tempo !== undefined) {
    if (!values.service) throw new UsageError('--jaeger and --tempo need --service');
    const since = parseSince(values.since ?? '24h', now);
    const until = values.until ? parseSince(values.until, now) : now;
    if (until.getTime() < since.getTime()) throw new UsageError('--until is before --since');
    const paging: Partial<Paging> = {};
    if (values['page-traces'] !== undefined) {
      const n = Number(values['page-traces']);
      if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError(`--page-traces must be a whole number from 1 to 100000, got "${values['page-traces']}"`);
      paging.pageTraces = n;
    }
    if (values['min-window'] !== undefined) paging.minWindowMs = parseDuration(values['min-window'], '--min-window');
    source =
      values.jaeger !== undefined
        ? { kind: 'jaeger', url: values.jaeger, service: values.service, since, until, paging }
        : { kind: 'tempo', url: values.tempo as string, service: values.service, since, until, paging };
  } else {
    if (values.service !== undefined || values.since !== undefined || values.until !== undefined || values['page-traces'] !== undefined || values['min-window'] !== undefined) {
      throw new UsageError('--service, --since, --until, --page-traces and --min-window apply to --jaeger and --tempo only');
    }
    source = { kind: 'dir', dir: nonEmpty(values.dir, '--dir') ?? 'audit-trail' };
  }

  const publicKeys = loadKeys(values['public-key'] ?? [], '--public-key');
  const sealKeys = loadKeys(values['collector-key'] ?? [], '--collector-key');
  if (sealKeys.length > 0 && source.kind !== 'dir') throw new UsageError('--collector-key applies to --dir (the collector seals its files)');
  let macKey: string | undefined;
  if (values['mac-key-file'] !== undefined) {
    try {
      macKey = readSmallFileSync(values['mac-key-file'], 'MAC key file').toString('utf8').trim();
    } catch (err) {
      throw new UsageError(`--mac-key-file: ${(err as Error).message}`);
    }
    if (macKey === '') throw new UsageError(`--mac-key-file ${values['mac-key-file']} is empty`);
  }

  const tty = io.errIsTTY ?? process.stderr.isTTY === true;
  const mode = values['no-progress'] ? 'off' : values.progress ? (tty ? 'tty' : 'lines') : tty ? 'tty' : 'off';
  const progress = createProgress((t) => io.err(t), mode);
  const opened = openSource(source, { sealKeys, onProgress: (b, l) => progress.update(b, l) });
  const allowOpen = values['allow-open'] === true;
  const verifier = new TrailVerifier({
    publicKeys,
    allowOpen,
    ...(macKey !== undefined ? { macKey } : {}),
    ...(stream !== undefined ? { stream } : {}),
    ...(run !== undefined ? { run } : {}),
    ...(opened.window ? { window: opened.window } : {}),
  });
  let n = 0;
  for await (const e of opened.entries) {
    verifier.add(e);
    progress.records(++n);
  }
  progress.done();
  const report = verifier.finish();
  report.notes.push(...opened.notes());
  const out = decide({
    source: opened.description,
    sourceProblems: opened.problems,
    sourceProblemCount: opened.problemCount(),
    checked: {
      structure: true,
      macs: macKey !== undefined,
      signatures: publicKeys.length > 0,
      seals: sealKeys.length > 0,
      openStreamsAllowed: allowOpen,
      ...(stream !== undefined ? { stream } : {}),
      ...(run !== undefined ? { run } : {}),
    },
    seals: opened.seals(),
    report,
    read: { ...opened.read?.(), spans: opened.read ? opened.read().spans : n },
  });
  io.out(values.json ? `${JSON.stringify(out, null, 2)}\n` : `${formatHuman(out)}\n`);
  return out.exitCode;
}
