import http from 'node:http';
import https from 'node:https';

export interface PostResult {
  /** HTTP status, or 0 when no answer came (refused, reset, past the deadline). */
  status: number;
  /** From a Retry-After header, in milliseconds. */
  retryAfterMs: number | undefined;
  error: Error | undefined;
  /** The start of the answer's body (read for error messages and partialSuccess). */
  body: string;
  /** The same bytes, undecoded (a protobuf answer's partialSuccess). */
  raw?: Buffer;
  /** The answer's content-type, lower-cased. */
  contentType?: string;
  /** True when the deadline cut the request off. */
  timedOut: boolean;
  /** A redirect's target, for the warning. */
  location: string | undefined;
}

// Idle sockets are closed after 4 s, before the usual 5 s keep-alive timeout of Node servers
// (tooltrail collect among them): reusing a socket the server has just closed fails with
// EPIPE/ECONNRESET, which would look like a collector outage.
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 4, timeout: 4_000 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 4, timeout: 4_000 }),
};

export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * POSTs one body; never rejects, so callers deal in results rather than exceptions.
 * `timeoutMs` is a deadline for the whole exchange (connect, send, the complete answer), not
 * an idle timeout: a collector that trickles its answer is cut off at the deadline. A request
 * on a reused keep-alive socket that the server closed meanwhile is sent once more at once,
 * within the same deadline. `signal` aborts (shutdown).
 */
export async function postBody(
  url: URL,
  body: Buffer | string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PostResult> {
  const deadline = Date.now() + timeoutMs;
  const first = await postOnce(url, body, headers, deadline, timeoutMs, signal);
  const code = (first.error as NodeJS.ErrnoException | undefined)?.code;
  if (first.status === 0 && !first.timedOut && (code === 'ECONNRESET' || code === 'EPIPE') && Date.now() < deadline && !signal?.aborted) {
    return postOnce(url, body, headers, deadline, timeoutMs, signal);
  }
  return first;
}

function postOnce(
  url: URL,
  body: Buffer | string,
  headers: Record<string, string>,
  deadline: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<PostResult> {
  return new Promise((resolve) => {
    const isHttps = url.protocol === 'https:';
    const lib = isHttps ? https : http;
    let settled = false;
    let timedOut = false;
    const done = (r: Omit<PostResult, 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, timedOut });
    };
    const fail = (error: Error) => done({ status: 0, retryAfterMs: undefined, error, body: '', location: undefined });
    const req = lib.request(url, {
      method: 'POST',
      agent: isHttps ? agents.https : agents.http,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    // The deadline timer is unref'd: a request alone need not keep the process alive (its socket
    // does while it is open), and a pending flush()/shutdown() holds a ref'd timer of its own.
    const timer = setTimeout(() => {
      timedOut = true;
      const err = new Error(`no complete answer from ${url.origin} within ${timeoutMs} ms`);
      req.destroy(err);
      fail(err);
    }, Math.max(1, deadline - Date.now()));
    timer.unref();
    const onAbort = () => {
      const err = new Error('the request was abandoned at shutdown');
      req.destroy(err);
      fail(err);
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        // Keep only the start of an answer: it is read for error messages, nothing more.
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        const raw = Buffer.concat(chunks).subarray(0, Math.min(size, 4096));
        done({
          status: res.statusCode ?? 0,
          retryAfterMs: parseRetryAfter(res.headers['retry-after']),
          error: undefined,
          body: raw.toString('utf8'),
          raw,
          contentType: res.headers['content-type']?.toLowerCase(),
          location: typeof res.headers.location === 'string' ? res.headers.location : undefined,
        });
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new Error(`the answer from ${url.origin} was cut off`)));
    });
    req.on('error', fail);
    req.end(body);
  });
}
