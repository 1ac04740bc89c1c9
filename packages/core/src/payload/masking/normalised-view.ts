/**
 * A normalised text and the map back to the original: every region a detector finds in the
 * view is masked in the source as the whole span it came from (a whole `%XX` sequence, a whole
 * base64 run).
 */

/**
 * A normalised text and where each of its characters came from. Segments: a run of characters
 * copied as they were (mapped one to one), or the replacement of one encoded unit (every
 * character of it maps to the whole unit).
 */
export class View {
  constructor(
    readonly text: string,
    private readonly segView: readonly number[],
    private readonly segSrc: readonly number[],
    /** End of the unit in the source; -1 for a copied run. */
    private readonly segEnd: readonly number[],
    /** The view this one was built from, when it is not the original text. */
    private readonly parent: View | undefined,
  ) {}

  /** The span of the original text that view characters [start, end) came from. */
  toSource(start: number, end: number): [number, number] {
    let a = this.locate(start, false);
    let b = this.locate(end - 1, true);
    if (this.parent !== undefined) [a, b] = this.parent.toSource(a, b);
    return [a, b];
  }

  private locate(v: number, end: boolean): number {
    let lo = 0;
    let hi = this.segView.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.segView[mid] as number) <= v) lo = mid;
      else hi = mid - 1;
    }
    const unitEnd = this.segEnd[lo] as number;
    if (unitEnd === -1) return (this.segSrc[lo] as number) + (v - (this.segView[lo] as number)) + (end ? 1 : 0);
    return end ? unitEnd : (this.segSrc[lo] as number);
  }
}

/** Builds a View from copied runs and replaced units, in source order. */
export class Builder {
  private readonly parts: string[] = [];
  private length = 0;
  private copiedTo = -1;
  readonly segView: number[] = [];
  readonly segSrc: number[] = [];
  readonly segEnd: number[] = [];
  changed = false;

  constructor(private readonly src: string) {}

  /** Source characters [from, to) as they are. */
  copy(from: number, to: number): void {
    if (to <= from) return;
    if (this.copiedTo !== from) {
      this.segView.push(this.length);
      this.segSrc.push(from);
      this.segEnd.push(-1);
    }
    this.parts.push(this.src.slice(from, to));
    this.length += to - from;
    this.copiedTo = to;
  }

  /** Source characters [from, to) replaced by `text` ('' drops them). */
  unit(text: string, from: number, to: number): void {
    this.changed = true;
    if (text.length === 0) return;
    this.segView.push(this.length);
    this.segSrc.push(from);
    this.segEnd.push(to);
    this.parts.push(text);
    this.length += text.length;
    this.copiedTo = -1;
  }

  view(parent: View | undefined): View {
    return new View(this.parts.join(''), this.segView, this.segSrc, this.segEnd, parent);
  }
}
