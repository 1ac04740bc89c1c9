export { identityFromToken, stdioIdentity } from './connection-identity.js';
export type { ConnectionIdentity, TokenLookup } from './connection-identity.js';
export { GatewayTokenTable, loadGatewayTokens, loadTokenLookup, parseGatewayTokens } from './gateway-tokens.js';
export type { GatewayTokenEntry } from './gateway-tokens.js';
export { RunTokenKeys, loadRunTokenKeys } from './run-token-keys.js';
export {
  runIdentityFor,
  ATTR_RUN_CLAIM,
  ATTR_RUN_CLAIM_REASON,
  ATTR_RUN_CLAIM_KEY_ID,
  ATTR_RUN_CLAIM_RUN_ID,
  ATTR_RUN_CLAIM_PRINCIPAL_ID,
  ATTR_CONNECTION_PRINCIPAL_ID,
  ATTR_CONNECTION_PRINCIPAL_TYPE,
  ATTR_CONNECTION_TOKEN_NAME,
} from './run-identity.js';
export type { RunClaim, RunIdentityResult } from './run-identity.js';
