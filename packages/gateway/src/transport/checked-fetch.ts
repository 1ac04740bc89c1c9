import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Inflow } from './flow.js';
import type { LineProblem } from './line-reader.js';
import { messageProblem } from './jsonrpc-checks.js';
import { SseSplitter } from './sse-splitter.js';

/** An SSE body read only while the agent keeps up: not pulling it leaves the server's writes in TCP's window. */
function paced(body: ReadableStream<Uint8Array>, inflow: Inflow): ReadableStream<Uint8Array> {
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ transform: async (chunk, out) => {
    await inflow.ready();
    out.enqueue(chunk);
  } }, { highWaterMark: 1 }, { highWaterMark: 0 }));
}

/** The ids of the requests in a POST body the SDK sends (one message, or a batch). */
function requestIds(body: unknown): (string | number)[] {
  if (typeof body !== 'string') return [];
  const parsed = JSON.parse(body) as unknown;
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((m) => typeof m === 'object' && m !== null && 'method' in m && 'id' in m).map((m) => (m as { id: string | number }).id);
}

/**
 * fetch for the SDK's Streamable HTTP client that keeps a broken server from leaving a call
 * waiting until its timeout: in a JSON or SSE answer to a POST, a broken response to one of the
 * POST's requests is replaced with an error; an SSE stream that ends without answering them
 * (and gave no event id to resume from) gets an error answer for each.
 */
export function checkedFetch(server: string, onProblem: (p: LineProblem) => JSONRPCMessage | undefined, inflow: Inflow): FetchLike {
  const fix = (raw: unknown, pending: Set<string | number>): unknown => {
    const p = messageProblem(raw);
    const id = (raw as { id?: unknown } | null)?.id;
    if (p === undefined) {
      if (typeof id === 'string' || typeof id === 'number') pending.delete(id);
      return raw;
    }
    const replaced = onProblem({ ...p, code: -32600 });
    if (p.id !== undefined) pending.delete(p.id);
    return replaced;
  };
  return async (url, init) => {
    const res = await fetch(url, init);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const ids = init?.method === 'POST' && res.ok && res.body !== null ? requestIds(init.body) : [];
    if (ids.length === 0) {
      // The standalone GET stream: only paced.
      if (type !== 'text/event-stream' || !res.ok || res.body === null) return res;
      return new Response(paced(res.body, inflow), { status: res.status, statusText: res.statusText, headers: res.headers });
    }
    const pending = new Set(ids);
    if (type === 'application/json') {
      const text = await res.text();
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        return new Response(text, res);
      }
      const fixed = Array.isArray(data) ? data.map((m) => fix(m, pending)).filter((m) => m !== undefined) : fix(data, pending);
      // Nothing replaced: the server's own bytes go on (no second serialisation of a large answer).
      const same = Array.isArray(data) ? Array.isArray(fixed) && fixed.length === data.length && fixed.every((m, i) => m === data[i]) : fixed === data;
      return new Response(same ? text : JSON.stringify(fixed ?? []), { status: res.status, statusText: res.statusText, headers: res.headers });
    }
    if (type !== 'text/event-stream') return res;
    const sse = new SseSplitter();
    let resumable = false;
    const event = (raw: string): string => {
      const lines = raw.split('\n');
      if (lines.some((l) => l.startsWith('id:'))) resumable = true;
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
      const kind = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
      if (data.length === 0 || (kind !== undefined && kind !== 'message')) return `${raw}\n\n`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.join('\n'));
      } catch {
        return `${raw}\n\n`;
      }
      const fixed = fix(parsed, pending);
      return fixed === parsed ? `${raw}\n\n` : fixed === undefined ? '' : `event: message\ndata: ${JSON.stringify(fixed)}\n\n`;
    };
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    const checked = paced(res.body!, inflow).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          for (const raw of sse.push(decoder.decode(chunk, { stream: true }))) {
            const written = event(raw);
            if (written !== '') out.enqueue(encoder.encode(written));
          }
        },
        flush(out) {
          // The decoder's last bytes (a split character) first, then what the end completes.
          for (const raw of [...sse.push(decoder.decode()), ...sse.end()]) {
            const written = event(raw);
            if (written !== '') out.enqueue(encoder.encode(written));
          }
          if (resumable) return;
          for (const id of pending) {
            const error = { jsonrpc: '2.0', id, error: { code: -32603, message: `server "${server}" closed the response before answering` } };
            out.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(error)}\n\n`));
          }
        },
      }),
    );
    return new Response(checked, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
