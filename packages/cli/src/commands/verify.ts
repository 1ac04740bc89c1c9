import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadPublicKey } from '@tooltrail/core';
import { formatHuman, type VerifyOutput } from '../verify/report.js';
import { loadRecords, type VerifySource } from '../verify/sources.js';
import { verifySpans } from '../verify/verify-streams.js';
import { UsageError, type Io } from './io.js';

export const VERIFY_USAGE = `Usage: tooltrail verify <source> [options]

Checks that the trail is complete and unedited, stream by stream: sequence gaps, record hashes,
hash links, MACs, checkpoint signatures and coverage, and that each stream was ended. Identical
duplicates (at-least-once delivery) and storage order are not findings. Exit code 0 when there
are no findings, 1 when there are, 2 for a bad command line.

Sources (one):
  --dir <folder>            files written by tooltrail collect (default ./audit-trail)
  --jaeger <url>            Jaeger's query API, e.g. http://127.0.0.1:16686 (needs --service)
  --tempo <url>             Grafana Tempo's HTTP API, e.g. http://127.0.0.1:3200 (needs --service)

Options:
  --service <name>          service.name to read from Jaeger or Tempo
  --since <duration|date>   start of the time range: 30m, 24h, 7d or an ISO date (default 24h)
  --until <date>            end of the time range (default now)
  --public-key <file>       trusted checkpoint signing key (PEM); repeatable. With it every
                            checkpoint must carry a valid signature by a trusted key
  --mac-key-file <file>     the integrity (MAC) key; with it every record's MAC is checked
  --allow-open              a stream still being written is not a finding (no stream end yet)
  --json                    machine-readable output
`;

function parseSince(v: string, now: Date): Date {
  const m = /^(\d+)(m|h|d)$/.exec(v);
  if (m) return new Date(now.getTime() - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd']);
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--since must be like 30m, 24h, 7d or a date, got "${v}"`);
  return d;
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
      'public-key': { type: 'string', multiple: true },
      'mac-key-file': { type: 'string' },
      'allow-open': { type: 'boolean' },
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
  const now = new Date();
  let source: VerifySource;
  if (values.jaeger !== undefined || values.tempo !== undefined) {
    if (!values.service) throw new UsageError('--jaeger and --tempo need --service');
    const since = parseSince(values.since ?? '24h', now);
    const until = values.until ? parseSince(values.until, now) : now;
    source =
      values.jaeger !== undefined
        ? { kind: 'jaeger', url: values.jaeger, service: values.service, since, until }
        : { kind: 'tempo', url: values.tempo as string, service: values.service, since, until };
  } else source = { kind: 'dir', dir: values.dir ?? 'audit-trail' };

  const publicKeys = (values['public-key'] ?? []).map((f) => loadPublicKey(f));
  const macKey = values['mac-key-file'] !== undefined ? readFileSync(values['mac-key-file'], 'utf8').trim() : undefined;
  const loaded = await loadRecords(source);
  const report = verifySpans(loaded.spans, { publicKeys, macKey, allowOpen: values['allow-open'] === true });
  const out: VerifyOutput = {
    source: loaded.description,
    sourceProblems: loaded.problems,
    checked: { macs: macKey !== undefined, signatures: publicKeys.length > 0, openStreamsAllowed: values['allow-open'] === true },
    report,
    ok: report.findings === 0 && loaded.problems.length === 0 && report.streams.length > 0,
  };
  io.out(values.json ? `${JSON.stringify(out, null, 2)}\n` : `${formatHuman(out)}\n`);
  return out.ok ? 0 : 1;
}
