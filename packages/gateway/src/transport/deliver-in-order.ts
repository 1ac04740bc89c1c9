import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * The SDK's Protocol (1.x) runs a notification's handler a microtask late but handles a response
 * at once, and the response retires its request's progress handler: a progress notification
 * read together with the response (one pipe read, one SSE chunk) was dropped, so the agent saw
 * one of two. Responses on this transport are handled a microtask late too, after the
 * notifications read before them; the order of responses among themselves is kept.
 */
export function deliverInOrder(transport: Transport | undefined): void {
  const deliver = transport?.onmessage;
  if (transport === undefined || deliver === undefined) return;
  transport.onmessage = (message, extra) => {
    if ('id' in message && !('method' in message)) queueMicrotask(() => deliver.call(transport, message, extra));
    else deliver.call(transport, message, extra);
  };
}
