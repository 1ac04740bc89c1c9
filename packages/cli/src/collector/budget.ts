/**
 * Bytes held by requests in progress, across all of them: received bodies, their decompressed
 * form and the lines built from them, until the answer. Over the limit a request is refused
 * with 503 and Retry-After (OTLP clients retry), so memory stays bounded by the limit, not by
 * how many clients send at once.
 */
export class Budget {
  private used = 0;
  private peakUsed = 0;

  constructor(readonly limit: number) {}

  /** Takes `bytes` if they fit; false (nothing taken) if they do not. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    if (this.used > this.peakUsed) this.peakUsed = this.used;
    return true;
  }

  /** Takes `bytes` even past the limit (the lines of a request already accepted). */
  force(bytes: number): void {
    this.used += bytes;
    if (this.used > this.peakUsed) this.peakUsed = this.used;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  get inUse(): number {
    return this.used;
  }

  get peak(): number {
    return this.peakUsed;
  }
}
