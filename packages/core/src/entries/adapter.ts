/**
 * `@tooltrail/core/adapter`: the contract every framework adapter is built on. An app has no
 * need of it; it is what `@tooltrail/ai-sdk`, `/openai-agents`, `/langchain` and `/mcp` share.
 */
export { unknownOptionKeys } from '../adapter/unknown-option-keys.js';
export { isRefusal, isDenial, defaultRefusalMessage } from '../contract/refusal.js';
export type { RefusedCall } from '../contract/refusal.js';
