// The verifier's public surface (kept under this name for the package's existing exports).
export { TrailVerifier, verifySpans, MAX_STREAMS } from './verifier.js';
export type { VerifyEntry, VerifyOptions, VerifyReport } from './verifier.js';
export type { StreamReport } from './stream-checks.js';
export { STREAM_FINDING_KINDS, TRAIL_FINDING_KINDS } from './findings.js';
export type { Finding, FindingKind } from './findings.js';
export { toRanges } from './ranges.js';
export type { Range } from './ranges.js';
