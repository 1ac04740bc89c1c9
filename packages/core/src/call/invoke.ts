import { auditStorage } from '../identity/run-context.js';
import type { InvokeEngine } from './engine.js';
import { adapterAttributes } from './adapter-attributes.js';
import { argumentView, Invocation } from './invocation.js';
import type { ToolBody } from './execute.js';
import type { CallMeta, ToolDefinition } from './tool-definition.js';

export type { InFlightCall, InvokeEngine } from './engine.js';
export { errorType } from './exception.js';
export { recordRefusedCall } from './refused-record.js';

/** One audited call of a wrapped tool; always a promise, whatever the call's fate. */
export function invokeAudited(engine: InvokeEngine, def: ToolDefinition, fn: ToolBody, thisArg: unknown, args: unknown[], meta: CallMeta | undefined): Promise<unknown> {
  let inv: Invocation | undefined;
  try {
    const proposedGiven = meta !== undefined && 'proposedArgs' in meta;
    const view = argumentView(args);
    inv = new Invocation({
      engine,
      def,
      store: auditStorage.getStore(),
      suppliedId: meta?.callId ?? (def.callId ? def.callId(...(args as never[])) : undefined),
      proposed: proposedGiven ? meta.proposedArgs : view,
      proposedGiven,
      extra: meta?.attributes === undefined ? undefined : adapterAttributes(meta.attributes),
      fn,
      thisArg,
      args,
      view,
    });
    return inv.start(meta?.approval, meta?.resumed);
  } catch (err) {
    // A refusal, or nothing ran and nothing was recorded; the wrapped call only ever returns a
    // promise. A started record that no step ended is ended here (Invocation.abandon).
    inv?.abandon(err);
    return Promise.reject(err);
  }
}
