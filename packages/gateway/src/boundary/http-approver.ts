/**
 * The approval HTTP endpoint: the request is POSTed as JSON to the configured URL (with the
 * request's AbortSignal, so the deadline aborts it), redirects refused; a 2xx answer with a
 * well-formed JSON body `{ decision, by, reason? }` decides. Any other status, a malformed or
 * oversized body, a network error or the deadline throws: core denies the call and records why.
 */
import type { ApprovalAnswer, ApprovalHandler, ApprovalRequest } from '@tooltrail/core';
import { MAX_ANSWER_BYTES, parseAnswer, wireRequest } from './approval-protocol.js';

export interface HttpApproverOptions {
  url: string;
  /** Sent with every request (e.g. an authorization header for the approval service). */
  headers?: Readonly<Record<string, string>> | undefined;
}

async function readCapped(response: Response, label: string): Promise<string> {
  const body = response.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => {});
      throw new Error(`${label} answered more than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function httpApprover(options: HttpApproverOptions): ApprovalHandler {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`approval.url must be http or https, not ${url.protocol}`);
  // The URL may carry credentials or a token in its query: name only its origin and path.
  const label = `approval endpoint ${url.origin}${url.pathname}`;
  return async (request: ApprovalRequest): Promise<ApprovalAnswer> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { ...(options.headers ?? {}), 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(wireRequest(request)),
        signal: request.signal,
        redirect: 'error',
      });
    } catch (err) {
      if (request.signal.aborted) throw new Error(`${label} did not answer before the approval deadline; the request was aborted`);
      throw new Error(`${label} could not be reached: ${err instanceof Error ? err.message : String(err)}`);
    }
    let text: string;
    try {
      text = await readCapped(response, label);
    } catch (err) {
      if (request.signal.aborted) throw new Error(`${label} did not answer before the approval deadline; the request was aborted`);
      throw err;
    }
    if (response.status < 200 || response.status > 299) throw new Error(`${label} answered HTTP ${response.status}; the call is denied`);
    return parseAnswer(text, label);
  };
}
