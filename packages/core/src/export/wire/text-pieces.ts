/**
 * A record's OTLP/JSON text as it is written into a batch Buffer: short pieces gathered in an
 * array and joined flat, long ones (an escaped argument or result) kept as they are. `+` on
 * strings would build a rope, one 32-byte node per piece, that V8 then copies into a flat
 * string when it is written: the join allocates the flat text alone, and a long value is
 * written from its own string without being copied at all. Reused record after record.
 */
export class TextPieces {
  /** The finished pieces, in order; the first `count` are this record's. */
  readonly done: string[] = [];
  count = 0;
  private readonly open: string[] = [];
  private n = 0;

  add(s: string): void {
    this.open[this.n++] = s;
  }

  /** A long piece: closes the run of short ones before it, then stands alone. */
  long(s: string): void {
    this.close();
    this.done[this.count++] = s;
  }

  /** Joins the open run of short pieces into one finished piece. */
  close(): void {
    if (this.n === 0) return;
    const open = this.open;
    // Shrunk, not emptied: a length of 0 would drop the backing store, to be grown again.
    open.length = this.n;
    this.done[this.count++] = open.join('');
    this.n = 0;
  }

  /** Ready for the next record. */
  reset(): void {
    this.count = 0;
    this.n = 0;
  }

  /** Everything added since the reset, as one string. */
  text(): string {
    this.close();
    if (this.count === 1) return this.done[0] as string;
    this.done.length = this.count;
    return this.done.join('');
  }

  /** UTF-16 code units in the finished pieces (close() first). */
  units(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += (this.done[i] as string).length;
    return n;
  }
}
