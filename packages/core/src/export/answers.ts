import type { PostResult } from './http-post.js';

/**
 * What each answer of the collector means for the records in the request (docs/export.md,
 * "What each answer does"). No answer deletes a record: records leave the spool only as
 * delivered (2xx) or into the quarantine (a single record refused as malformed or too large).
 */
export type Handling =
  /** 2xx without rejected spans. */
  | { kind: 'delivered' }
  /** 408, 429, 5xx, no answer, past the deadline: back off and send the same again. */
  | { kind: 'retry'; problem: string }
  /** 413, 400, a partial success: split the request; a single record goes to the quarantine. */
  | { kind: 'split'; problem: string }
  /** 401/403, 404/405, 415, 3xx, anything else: keep the records, back off, warn with the fix. */
  | { kind: 'hold'; problem: string };

export function classify(
  result: PostResult,
  rejected: { rejected: number; message: string } | undefined,
  url: URL,
  spoolDir: string,
  protocol: 'http/json' | 'http/protobuf' = 'http/json',
): Handling {
  const s = result.status;
  const kept = `records are kept in ${spoolDir}`;
  const said = result.body ? `: ${result.body.slice(0, 200).trim()}` : '';
  if (s >= 200 && s < 300) {
    if (rejected === undefined) return { kind: 'delivered' };
    return { kind: 'split', problem: `the collector accepted the request but rejected ${rejected.rejected} span(s) in it (${rejected.message || 'no reason given'})` };
  }
  if (s === 0) {
    const why = result.error?.message ?? 'no answer';
    return { kind: 'retry', problem: result.timedOut ? `${why} (the collector is slow or stalled); retrying` : `collector ${url.origin} unreachable (${why})` };
  }
  if (s === 408 || s === 429 || (s >= 500 && s < 600)) return { kind: 'retry', problem: `the collector answered HTTP ${s}${said}; retrying` };
  if (s === 413) return { kind: 'split', problem: `the collector refused the request as too large (HTTP 413)${said}` };
  if (s === 400) return { kind: 'split', problem: `the collector refused the request as malformed (HTTP 400)${said}` };
  if (s === 401 || s === 403) {
    return {
      kind: 'hold',
      problem: `the collector refused our credentials (HTTP ${s}); ${kept}: set the token the collector expects (the auditor's \`headers\`, e.g. authorization: Bearer …)`,
    };
  }
  if (s === 404 || s === 405) {
    return {
      kind: 'hold',
      problem: `the collector has no OTLP/HTTP traces endpoint at ${url.href} (HTTP ${s}); ${kept}: check \`endpoint\` or OTEL_EXPORTER_OTLP_ENDPOINT (the path /v1/traces is added to it)`,
    };
  }
  if (s === 415) {
    const fix =
      protocol === 'http/json'
        ? 'enable JSON encoding on its OTLP/HTTP receiver, or send protobuf (protocol: "http/protobuf" or OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)'
        : 'check that its OTLP/HTTP receiver takes application/x-protobuf (and gzip, when compression is on)';
    return { kind: 'hold', problem: `the collector does not accept OTLP/${protocol === 'http/json' ? 'JSON' : 'protobuf'} (HTTP 415)${said}; ${kept}: ${fix}` };
  }
  if (s >= 300 && s < 400) {
    return {
      kind: 'hold',
      problem: `the collector answered with a redirect (HTTP ${s}${result.location ? ` to ${result.location}` : ''}), which is not followed; ${kept}: point \`endpoint\` at the final address`,
    };
  }
  return { kind: 'hold', problem: `the collector answered HTTP ${s}${said}, which tooltrail does not treat as delivered; ${kept} and retried with back-off` };
}
