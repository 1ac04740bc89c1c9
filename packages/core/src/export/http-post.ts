import http from 'node:http';
import https from 'node:https';

export interface PostResult {
  /** HTTP status, or 0 when no answer came (refused, reset, timed out). */
  status: number;
  /** From a Retry-After header on 429/503, in milliseconds. */
  retryAfterMs: number | undefined;
  error: Error | undefined;
  body: string;
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
 * POSTs one body; never rejects, so callers deal in results rather than exceptions. A request
 * on a reused keep-alive socket that the server closed meanwhile is sent once more at once.
 */
export async function postBody(
  url: URL,
  body: Buffer | string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostResult> {
  const first = await postOnce(url, body, headers, timeoutMs);
  const code = (first.error as NodeJS.ErrnoException | undefined)?.code;
  if (first.status === 0 && (code === 'ECONNRESET' || code === 'EPIPE')) return postOnce(url, body, headers, timeoutMs);
  return first;
}

function postOnce(
  url: URL,
  body: Buffer | string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostResult> {
  return new Promise((resolve) => {
    const isHttps = url.protocol === 'https:';
    const lib = isHttps ? https : http;
    let settled = false;
    const done = (r: PostResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const req = lib.request(
      url,
      {
        method: 'POST',
        agent: isHttps ? agents.https : agents.http,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          // Keep only the start of an answer: it is read for error messages, nothing more.
          if (size < 4096) chunks.push(c);
          size += c.length;
        });
        res.on('end', () =>
          done({
            status: res.statusCode ?? 0,
            retryAfterMs: parseRetryAfter(res.headers['retry-after']),
            error: undefined,
            body: Buffer.concat(chunks).toString('utf8', 0, 4096),
          }),
        );
        res.on('error', (error) => done({ status: 0, retryAfterMs: undefined, error, body: '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)));
    req.on('error', (error) => done({ status: 0, retryAfterMs: undefined, error, body: '' }));
    req.end(body);
  });
}
