import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseTimeArg } from '../review/time-arg.js';
import { buildReport } from '../review/report/build.js';
import { renderHtml } from '../review/report/html.js';
import { formatTable } from '../review/report/table.js';
import type { VerifySource } from '../verify/sources.js';
import { httpUrl, UsageError, type Io } from './io.js';

export const REPORT_USAGE = `Usage: tooltrail report <source> [options]

The weekly review: denied and invalid calls by agent, principal, tool and rule; tools an agent
used for the first time (not seen in the previous period of equal length); error and retry hot
spots; the runs holding them, with the trace id to open. docs/review.md.

Sources (one):
  --trail <folder>          files written by tooltrail collect (default ./audit-trail)
  --jaeger <url>            Jaeger's query API, e.g. http://127.0.0.1:16686 (needs --service)
  --tempo <url>             Grafana Tempo's HTTP API (needs --service)
  --service <name>          service.name to read from Jaeger or Tempo

Options:
  --since <duration|date>   start of the period: 90m, 24h, 7d, 2w or an ISO date, UTC unless
                            it names a zone (default 7d)
  --until <duration|date>   end of the period (default now)
  --json                    the report as JSON on stdout (docs/review.md has its shape)
  --html <file>             also write a self-contained HTML page (no scripts, loads nothing)
  --max-list <n>            list at most n denied and invalid calls one by one (default 10000);
                            the counts always cover them all

The MCP boundary (docs/gateway.md, "Both sides joined"):
  --gateway-writer <name>   the collector writer of the gateway's token (tooltrail collect
                            --tokens records it on every line); only its records are the
                            gateway's. Repeatable. --trail only
  --gateway-service <name>  the gateway's service.name (its config's serviceName); with
                            --jaeger/--tempo its records are read too. Repeatable. Not
                            authentication: any sender sets its service.name
  Without --gateway-writer the report says "gateway side not authenticated".

Exit codes: 0 the report was made; 1 the folder does not exist, or the source had problems
(unreadable files, torn lines, failed queries, different records under one span id: the report
is still printed, with them); 2 bad command line (including a --html file that cannot be
written, said before anything is printed).
`;

export async function report(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      trail: { type: 'string' },
      jaeger: { type: 'string' },
      tempo: { type: 'string' },
      service: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      json: { type: 'boolean' },
      html: { type: 'string' },
      'max-list': { type: 'string' },
      'gateway-writer': { type: 'string', multiple: true },
      'gateway-service': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(REPORT_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const given = [values.trail, values.jaeger, values.tempo].filter((v) => v !== undefined);
  if (given.length > 1) throw new UsageError('give one source: --trail, --jaeger or --tempo');
  const now = new Date();
  const since = parseTime(values.since ?? '7d', '--since', now);
  const until = values.until !== undefined ? parseTime(values.until, '--until', now) : now;
  if (until.getTime() <= since.getTime()) {
    // Without --until the period ends now: "--since 0m" is an empty period, not a misordered one.
    throw new UsageError(values.until === undefined ? `--since ${values.since} is not before the end of the period (now, as no --until was given): the period is empty` : '--until must be after --since');
  }
  if (values.html !== undefined) {
    if (values.html.trim() === '') throw new UsageError('--html needs a file name');
    // A page that cannot be written is a bad command line: said before the trail is read.
    const folder = path.dirname(path.resolve(values.html));
    let isDir = false;
    try {
      isDir = statSync(folder).isDirectory();
    } catch {
      throw new UsageError(`--html: no such folder: ${folder}`);
    }
    if (!isDir) throw new UsageError(`--html: not a folder: ${folder}`);
  }
  if (values.jaeger !== undefined) httpUrl(values.jaeger, '--jaeger');
  if (values.tempo !== undefined) httpUrl(values.tempo, '--tempo');
  let maxRefused: number | undefined;
  if (values['max-list'] !== undefined) {
    maxRefused = Number(values['max-list']);
    if (!Number.isInteger(maxRefused) || maxRefused < 0 || maxRefused > 10_000_000) throw new UsageError(`--max-list must be a whole number from 0 to 10000000, got "${values['max-list']}"`);
  }

  const gatewayWriters = values['gateway-writer'] ?? [];
  const gatewayServices = values['gateway-service'] ?? [];
  for (const w of gatewayWriters) {
    // The collector's rule for writer names (docs/collector.md, "Writer tokens").
    if (!/^[A-Za-z0-9._:@/-]{1,128}$/.test(w)) throw new UsageError(`--gateway-writer must be a writer name (1-128 of letters, digits and . _ : @ / -), got "${w}"`);
  }
  for (const sv of gatewayServices) if (sv.trim() === '') throw new UsageError('--gateway-service needs a service name');
  if (gatewayWriters.length > 0 && (values.jaeger !== undefined || values.tempo !== undefined)) {
    throw new UsageError('--gateway-writer needs --trail: Jaeger and Tempo do not record which writer sent a span (use --gateway-service, which is not authentication)');
  }

  let source: VerifySource;
  if (values.jaeger !== undefined || values.tempo !== undefined) {
    if (!values.service) throw new UsageError('--jaeger and --tempo need --service');
    // The query range is set by buildReport (it reads the previous period too).
    source = values.jaeger !== undefined ? { kind: 'jaeger', url: values.jaeger, service: values.service, since, until } : { kind: 'tempo', url: values.tempo as string, service: values.service, since, until };
  } else {
    if (values.service !== undefined) throw new UsageError('--service applies to --jaeger and --tempo only');
    if (values.trail !== undefined && values.trail.trim() === '') throw new UsageError('--trail needs a folder');
    source = { kind: 'dir', dir: values.trail ?? 'audit-trail' };
    // The trail reader takes a missing folder for an empty trail; a weekly review of a mistyped
    // path must not read as a quiet week.
    if (!existsSync(source.dir)) {
      io.err(`tooltrail report: no such folder: ${source.dir}\n`);
      return 1;
    }
  }

  const gateway = { gatewayWriters, gatewayServices };
  const data = await buildReport(source, { since, until, now, gateway, ...(maxRefused !== undefined ? { maxRefused } : {}) });
  if (values.html !== undefined) {
    try {
      await writeFile(values.html, renderHtml(data), { mode: 0o640 });
    } catch (err) {
      throw new UsageError(`--html: cannot write ${values.html}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (values.json) io.out(`${JSON.stringify(data, null, 2)}\n`);
  else {
    io.out(formatTable(data));
    if (values.html !== undefined) io.out(`\nwrote ${values.html}\n`);
  }
  // A record received in the period but dated outside it is in no week's report unless someone looks: a source problem too.
  return data.source.problemCount > 0 || (data.source.outOfPeriod?.count ?? 0) > 0 ? 1 : 0;
}

function parseTime(v: string, option: string, now: Date): Date {
  try {
    return parseTimeArg(v, now);
  } catch (err) {
    throw new UsageError(`${option}: ${(err as Error).message}`);
  }
}
