/**
 * The collector's seals as verify reports them: the shape of the trail reader's `SealReport`
 * (docs/collector.md), so the reader's report is passed through as it is.
 */
export interface SealSummary {
  /** Lines that carry the collector's chain, and those of them covered by a seal a trusted key verified. */
  chainedLines: number;
  sealedLines: number;
  verifiedLines: number;
  /** v1 lines (written before seals existed). */
  legacyLines: number;
  /** True when every chained line is covered by a seal verified with a trusted collector key. */
  authenticated: boolean;
  findings: { kind: string; message: string; file?: string; lines?: [number, number] }[];
}
