import type { CallbackManagerForToolRun } from '@langchain/core/callbacks/manager';

export function isAsyncGenerator(x: unknown): x is AsyncGenerator<unknown, unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { next?: unknown }).next === 'function';
}

/**
 * A streaming tool's generator is drained inside the audited body, so its work runs within the
 * attempt (identity, span context) and the recorded result is its return value. Chunks still
 * reach LangChain's callbacks as tool events, as LangChain does it.
 */
export async function drain(gen: AsyncGenerator<unknown, unknown>, runManager: CallbackManagerForToolRun | undefined): Promise<unknown> {
  try {
    let step = await gen.next();
    while (!step.done) {
      try {
        await runManager?.handleToolEvent(step.value);
      } catch (streamError) {
        await runManager?.handleToolError(streamError);
      }
      step = await gen.next();
    }
    return step.value;
  } finally {
    await gen.return?.(undefined);
  }
}
