import type { Attributes } from '@opentelemetry/api';
import * as sc from '../contract/semconv.js';

/** Which part of a record a payload becomes; masking rules can differ per field. */
export type PayloadField = 'arguments' | 'proposed' | 'result' | 'error' | 'identity' | 'issues';

/** A payload recorded as less than its full JSON: cut to the size cap, or replaced by a digest. */
export interface PartialPayload {
  readonly field: PayloadField;
  /** Cut to fit (`truncated`) or replaced by `"[Digest]"` (`digest`). */
  readonly how: 'truncated' | 'digest';
  /** UTF-8 bytes of the payload's full, unmasked JSON. */
  readonly size: number;
  /** Keyed HMAC-SHA256 (hex) of that full JSON, so a copy held elsewhere can be matched to the record. */
  readonly hash: string;
}

/** A report's counters at one moment, to roll a failed pass back to. */
export interface ReportMark {
  readonly masked: number;
  readonly kinds: number;
  readonly lossy: boolean;
  readonly partial: number;
}

/** Where a masking pass tallies each value it masks. */
export interface MaskTally {
  add(kind: string, lossy: boolean): void;
}

/**
 * What the encoder did to one call's payloads: the wrapper turns it into the `tooltrail.mask.*`
 * and `tooltrail.payload.*` attributes. It says what was masked, never the values.
 */
export class EncodeReport implements MaskTally {
  /** Values masked, counted per occurrence across the recorded payloads. */
  masked = 0;
  /** Kinds masked (detector ids, key-name rules, `sensitive`), deduplicated, in order of first sight. */
  readonly kinds: string[] = [];
  /**
   * A redact or partial token (or a cut) was written: two different inputs may have produced the
   * same text, so equal encodings no longer prove equal values.
   */
  lossy = false;
  /** Payloads replaced by the masking-failure marker. */
  failed = 0;
  partial: PartialPayload[] | undefined;

  add(kind: string, lossy: boolean): void {
    this.masked++;
    if (lossy) this.lossy = true;
    if (!this.kinds.includes(kind)) this.kinds.push(kind);
  }

  addPartial(p: PartialPayload): void {
    (this.partial ??= []).push(p);
    if (p.how === 'truncated') this.lossy = true;
  }

  /** Forgets what was tallied since `mark` was taken: for a pass that is abandoned. */
  rollback(mark: ReportMark): void {
    this.masked = mark.masked;
    this.kinds.length = mark.kinds;
    this.lossy = mark.lossy;
    if (this.partial !== undefined) this.partial.length = mark.partial;
  }

  mark(): ReportMark {
    return { masked: this.masked, kinds: this.kinds.length, lossy: this.lossy, partial: this.partial?.length ?? 0 };
  }

  merge(other: EncodeReport): void {
    this.masked += other.masked;
    this.failed += other.failed;
    if (other.lossy) this.lossy = true;
    for (const k of other.kinds) if (!this.kinds.includes(k)) this.kinds.push(k);
    if (other.partial) for (const p of other.partial) this.addPartial(p);
  }
}

/**
 * Writes a call's report onto its span. `maskCount` is written whenever masking is on, zero
 * included: a record that says "masked 0" proves the pass ran, an absent count means it did not.
 */
export function writeReportAttributes(attrs: Attributes, report: EncodeReport, masking: boolean): void {
  if (masking) attrs[sc.ATTR_MASK_COUNT] = report.masked;
  if (report.kinds.length > 0) attrs[sc.ATTR_MASK_KINDS] = [...report.kinds].sort();
  if (report.failed > 0) attrs[sc.ATTR_MASK_FAILED] = report.failed;
  const partial = report.partial;
  if (partial === undefined) return;
  const cut: string[] = [];
  for (const p of partial) {
    attrs[sc.payloadSizeAttribute(p.field)] = p.size;
    attrs[sc.payloadHashAttribute(p.field)] = p.hash;
    if (p.how === 'truncated' && !cut.includes(p.field)) cut.push(p.field);
  }
  if (cut.length > 0) attrs[sc.ATTR_PAYLOAD_TRUNCATED] = cut.sort();
}
