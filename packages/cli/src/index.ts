export { startCollector, CollectorConfigError, DEFAULT_DIR, DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT } from './collector/server.js';
export { TokenTable, TokensFileError, loadTokensFile, parseTokensFile, tokenHash, newToken } from './collector/tokens.js';
export type { TokensFile, TokenEntry } from './collector/tokens.js';
export { SealKeyError, loadSealKey, loadSealPublicKey, sealKeyId } from './trail/seal-key.js';
export type { Collector, CollectorOptions, CollectorStats } from './collector/server.js';
export { readTrail, readTrailFile, readTrailSync, listTrailFiles, parseTrailText, openTrail } from './trail/reader.js';
export type { Trail, TrailEntry, TrailProblem, TrailFileContents, TrailStream, OpenTrailOptions, SealReport, SealFinding, SealFindingKind } from './trail/reader.js';
export { TrailWriter, DEFAULT_MAX_FILE_BYTES, trailFileName } from './trail/writer.js';
export type { TrailWriterOptions } from './trail/writer.js';
export { formatRecord, isTrailRecord } from './trail/record.js';
export type {
  TrailRecord,
  TrailSpan,
  TrailValue,
  TrailAttributes,
  TrailScope,
  TrailEvent,
  TrailLink,
  TrailStatus,
  TrailStatusCode,
} from './trail/record.js';
export { decodeJsonRequest } from './collector/otlp-json.js';
export { decodeProtobufRequest } from './collector/otlp-protobuf.js';
export { OtlpDecodeError } from './collector/span-shape.js';
export { spawnCollector, collectorBin } from './collector/spawn.js';
export type { SpawnCollectorOptions, CollectorProcess } from './collector/spawn.js';
export { verifySpans, toRanges } from './verify/verify-streams.js';
export type { VerifyOptions, VerifyReport, StreamReport, Finding, FindingKind, Range } from './verify/verify-streams.js';
export { loadRecords } from './verify/sources.js';
export type { VerifySource, LoadedRecords } from './verify/sources.js';
export { trailToCanonical } from './verify/to-canonical.js';
