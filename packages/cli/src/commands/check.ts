import { parseArgs } from 'node:util';
import { AuditConfigError } from '@tooltrail/core';
import { parseTimeArg } from '../review/time-arg.js';
import { DEFAULT_CANARY_TOOL, parseArgsTemplate, planCanary } from '../review/check/canary.js';
import { formatCheck } from '../review/check/format.js';
import { buildPolicyAuditor, loadConfigModule, type LoadedAuditor } from '../review/check/load-auditor.js';
import { runCheck, type CheckSource } from '../review/check/run-check.js';
import { httpUrl, UsageError, type Io } from './io.js';

export const CHECK_USAGE = `Usage: tooltrail check (--config <module> | --policy <file> --endpoint <url>) (--trail <dir> | --jaeger <url>) [options]

Tests the audit trail directly, as a canary: two runs under two principals of their own
(tooltrail-check:canary-a-<nonce>, ...-b-<nonce>, type user) each attempt an out-of-scope call
carrying planted fake secrets (a fake AWS access key id and a fake card number, made fresh per
check). It then reads the records back from where the trail really goes and answers:
  1. is the denied attempt recorded?                       (mistake five: only successes kept)
  2. is it attributed to its run and the principal it ran as, and do the trail's recent records
     show no shared key (one principal on every run, or on all of one agent's runs, a
     service-account-shaped principal)?
                                                           (mistake three: one shared key)
  3. are the planted secrets masked: absent from the raw bytes read back?
                                                           (mistake four: raw secrets logged)

The user's auditor (one):
  --config <module>         a module whose default export is an Auditor, or a function (sync or
                            async) returning one; an optional export withRun(identity, fn) runs
                            the canary the app's way. Importing it must not start the app
  --policy <file>           the policy file; with --endpoint the check builds the auditor
  --endpoint <url>          the collector's OTLP/HTTP base URL (with --policy)
  --token <token>           a writer token for the collector (with --policy; else the
                            OTEL_EXPORTER_OTLP_HEADERS the auditor reads)

Where the trail is read back (one):
  --trail <dir>             the folder tooltrail collect writes
  --jaeger <url>            Jaeger's query API, e.g. http://127.0.0.1:16686
  --service <name>          service.name to read from Jaeger (default: the auditor's) and, with
                            --policy, the service the canary records as (default tooltrail-check)

Options:
  --timeout <duration>      how long to wait for the records to arrive: 500ms, 30s, 2m
                            (default 30s)
  --since <duration|date>   start of the recent-records scan of question 2: 24h, 7d or an ISO
                            date, UTC unless it names a zone (default 7d)
  --tool <name>             the out-of-scope tool the canary calls (default ${DEFAULT_CANARY_TOOL});
                            the policy must deny it
  --args <json>             its arguments, a JSON object; {{aws_key}}, {{card}} and {{nonce}}
                            in its strings are replaced, else a tooltrail_canary_note field
                            carries the planted secrets
  --json                    machine-readable output

Exit codes: 0 all three pass, 1 any fails or cannot be answered (the output and --json name
which), 2 bad command line (including a --config module that is not usable).
`;

function parseTimeout(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm'] : NaN;
  if (!(ms >= 1 && ms <= 600_000)) throw new UsageError(`--timeout must be like 500ms, 30s or 2m (at most 10m), got "${v}"`);
  return ms;
}

function given(v: string | undefined, option: string): string | undefined {
  if (v !== undefined && v.trim() === '') throw new UsageError(`${option} needs a value`);
  return v;
}

export async function check(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      config: { type: 'string' },
      policy: { type: 'string' },
      endpoint: { type: 'string' },
      token: { type: 'string' },
      trail: { type: 'string' },
      jaeger: { type: 'string' },
      service: { type: 'string' },
      timeout: { type: 'string' },
      since: { type: 'string' },
      tool: { type: 'string' },
      args: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(CHECK_USAGE);
    return 0;
  }
  const config = given(values.config, '--config');
  const policy = given(values.policy, '--policy');
  const endpoint = given(values.endpoint, '--endpoint');
  const token = given(values.token, '--token');
  if (config !== undefined && policy !== undefined) throw new UsageError('give --config or --policy, not both');
  if (config === undefined && policy === undefined) throw new UsageError('give the auditor to check: --config <module>, or --policy <file> with --endpoint <url>');
  if (policy !== undefined && endpoint === undefined) throw new UsageError('--policy needs --endpoint (where the auditor sends its records)');
  if (config !== undefined && (endpoint !== undefined || token !== undefined)) throw new UsageError('--endpoint and --token go with --policy; a --config module configures its own auditor');
  const trail = given(values.trail, '--trail');
  const jaeger = given(values.jaeger, '--jaeger');
  if (trail !== undefined && jaeger !== undefined) throw new UsageError('give one place to read back: --trail or --jaeger');
  if (trail === undefined && jaeger === undefined) throw new UsageError('say where the trail is read back from: --trail <dir> or --jaeger <url>');
  const service = given(values.service, '--service');
  if (service !== undefined && jaeger === undefined && policy === undefined) throw new UsageError('--service applies to --jaeger (and to --policy)');
  if (jaeger !== undefined) httpUrl(jaeger, '--jaeger');
  if (endpoint !== undefined) httpUrl(endpoint, '--endpoint');
  const timeoutMs = values.timeout !== undefined ? parseTimeout(values.timeout) : 30_000;
  let since: Date;
  try {
    since = parseTimeArg(values.since ?? '7d');
  } catch (err) {
    throw new UsageError(`--since: ${(err as Error).message}`);
  }
  if (since.getTime() > Date.now()) throw new UsageError('--since is in the future');
  const tool = given(values.tool, '--tool');
  const argsTemplate = values.args !== undefined ? parseArgsTemplate(values.args) : undefined;

  const loaded: LoadedAuditor =
    config !== undefined
      ? await loadConfigModule(config)
      : await buildPolicyAuditor({
          policy: policy as string,
          endpoint: endpoint as string,
          ...(token !== undefined ? { token } : {}),
          serviceName: service ?? process.env.OTEL_SERVICE_NAME ?? 'tooltrail-check',
        });
  const source: CheckSource = jaeger !== undefined ? { kind: 'jaeger', url: jaeger, service: service ?? loaded.auditor.serviceName } : { kind: 'dir', dir: trail as string };
  const plan = planCanary({ ...(tool !== undefined ? { tool } : {}), ...(argsTemplate !== undefined ? { argsTemplate } : {}) });
  let result;
  try {
    result = await runCheck({ loaded, plan, source, timeoutMs, since });
  } catch (err) {
    // A tool name the auditor refuses (withAudit's options) is a bad --tool.
    if (tool !== undefined && AuditConfigError.isInstance(err)) throw new UsageError(`--tool: ${err.message}`);
    throw err;
  }
  io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatCheck(result));
  return result.exitCode;
}
