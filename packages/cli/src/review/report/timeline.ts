import type { TimelineBucket } from './model.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Bucket sizes a person reads without arithmetic. */
const SIZES = [MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 7 * DAY, 30 * DAY];
/** At most this many bars: a week is 168 hourly bars. */
const MAX_BUCKETS = 200;

export function bucketSize(spanMs: number): number {
  for (const s of SIZES) if (spanMs / s <= MAX_BUCKETS) return s;
  return Math.ceil(spanMs / MAX_BUCKETS);
}

/** Calls per time bucket and outcome over the period (buckets from `since`, the last one may be short). */
export class Timeline {
  readonly bucketMs: number;
  private readonly buckets: TimelineBucket[] = [];

  constructor(
    private readonly from: number,
    to: number,
  ) {
    this.bucketMs = bucketSize(Math.max(1, to - from));
    const n = Math.max(1, Math.ceil((to - from) / this.bucketMs));
    for (let i = 0; i < n; i++) this.buckets.push({ start: new Date(from + i * this.bucketMs).toISOString(), ok: 0, error: 0, denied: 0, invalid: 0, other: 0 });
  }

  add(time: number, outcome: string): void {
    const b = this.buckets[Math.floor((time - this.from) / this.bucketMs)];
    if (!b) return;
    if (outcome === 'ok' || outcome === 'error' || outcome === 'denied' || outcome === 'invalid') b[outcome]++;
    else b.other++;
  }

  finish(): { bucketMs: number; buckets: TimelineBucket[] } {
    return { bucketMs: this.bucketMs, buckets: this.buckets };
  }
}
