import { esc } from './html-escape.js';
import type { ReportData } from './model.js';

const W = 1200;
const LEFT = 64;
const RIGHT = 12;
const BARS_TOP = 22;
const BARS_H = 150;
const LANE_TOP = BARS_TOP + BARS_H + 16;
const LANE_H = 40;
const AXIS_Y = LANE_TOP + LANE_H + 16;
const H = AXIS_Y + 8;
/** Above this many refused calls one dot each is a smear: the lane shows them per bucket instead. */
export const MAX_MARKERS = 400;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TICKS = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A round number at or above `v`, for the y axis. */
function niceMax(v: number): number {
  if (v <= 4) return v <= 2 ? 2 : 4; // halves stay whole numbers
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A stable 0..1 from a hex id, so markers at the same moment spread out, the same way every time. */
function jitter(id: string): number {
  return (parseInt(id.slice(-6), 16) % 1000) / 1000 || 0.5;
}

function tickLabel(ms: number, step: number): string {
  const d = new Date(ms);
  const day = `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  if (step >= DAY) return day;
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:00`;
  return d.getUTCHours() === 0 ? day : hm;
}

/**
 * The period as an inline SVG: calls per bucket as stacked bars (ok, error, invalid, denied),
 * and below them a lane with one marker per listed denied or invalid call at its exact time,
 * each linking to its row in the table and titled with what it was.
 */
/** The refused lane for a busy period: per bucket, a bar as high as its share of the busiest bucket's refusals. */
function laneBars(r: ReportData, parts: string[], x: (ms: number) => number, bw: number): void {
  const counts = r.timeline.buckets.map((b) => b.denied + b.invalid);
  const top = Math.max(1, ...counts);
  r.timeline.buckets.forEach((b, i) => {
    if (counts[i] === 0) return;
    const bx = x(Date.parse(b.start)).toFixed(1);
    const full = LANE_H - 8;
    const hd = (b.denied / top) * full;
    const hi = (b.invalid / top) * full;
    const base = LANE_TOP + LANE_H - 4;
    const title = `${b.start.slice(0, 16).replace('T', ' ')} UTC: ${b.denied} denied, ${b.invalid} invalid`;
    parts.push(`<g><title>${esc(title)}</title>`);
    if (hd > 0) parts.push(`<rect x="${bx}" y="${(base - hd).toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.max(1, hd).toFixed(1)}" fill="#d23f3f" rx="1"/>`);
    if (hi > 0) parts.push(`<rect x="${bx}" y="${(base - hd - hi).toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.max(1, hi).toFixed(1)}" fill="#7c4dde" rx="1"/>`);
    parts.push('</g>');
  });
}

export function timelineSvg(r: ReportData): string {
  const from = Date.parse(r.period.since);
  const to = Date.parse(r.period.until);
  const span = Math.max(1, to - from);
  const plotW = W - LEFT - RIGHT;
  const x = (ms: number): number => LEFT + ((ms - from) / span) * plotW;
  const { bucketMs, buckets } = r.timeline;
  const totals = buckets.map((b) => b.ok + b.error + b.denied + b.invalid + b.other);
  const max = niceMax(Math.max(0, ...totals));
  const y = (v: number): number => BARS_TOP + BARS_H - (v / max) * BARS_H;
  const parts: string[] = [];

  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    parts.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e6eb"${f === 0 ? '' : ' stroke-dasharray="3 4"'}/>`);
    parts.push(`<text x="${LEFT - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1)}</text>`);
  }
  parts.push(`<text x="${LEFT}" y="${BARS_TOP - 10}" class="lane">calls</text>`);

  const bw = Math.max(1, (bucketMs / span) * plotW - (bucketMs / span) * plotW * 0.18);
  buckets.forEach((b, i) => {
    const bx = x(Date.parse(b.start));
    let base = 0;
    const stack: [number, string][] = [
      [b.ok + b.other, '#a9b4c2'],
      [b.error, '#d98a00'],
      [b.invalid, '#7c4dde'],
      [b.denied, '#d23f3f'],
    ];
    for (const [v, color] of stack) {
      if (v === 0) continue;
      const top = y(base + v);
      const h = Math.max(1, y(base) - top);
      parts.push(`<rect x="${bx.toFixed(1)}" y="${(y(base) - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}" rx="1"/>`);
      base += v;
    }
    if (totals[i]! > 0) {
      const title = `${b.start.slice(0, 16).replace('T', ' ')} UTC: ${totals[i]} calls, ${b.denied} denied, ${b.invalid} invalid, ${b.error} errors`;
      parts.push(`<rect x="${bx.toFixed(1)}" y="${BARS_TOP}" width="${bw.toFixed(1)}" height="${BARS_H}" fill="transparent"><title>${esc(title)}</title></rect>`);
    }
  });

  parts.push(`<rect x="${LEFT}" y="${LANE_TOP}" width="${plotW}" height="${LANE_H}" rx="6" fill="#fbf5f5" stroke="#f1dede"/>`);
  parts.push(`<text x="${LEFT - 8}" y="${LANE_TOP + LANE_H / 2 + 4}" text-anchor="end" class="lane">refused</text>`);
  if (r.refused.length > MAX_MARKERS) laneBars(r, parts, x, bw);
  else r.refused.forEach((c, i) => {
    const cx = x(Date.parse(c.time));
    const cy = LANE_TOP + 8 + jitter(c.spanId) * (LANE_H - 16);
    const color = c.outcome === 'denied' ? '#d23f3f' : '#7c4dde';
    const title = `${c.time.slice(0, 19).replace('T', ' ')} UTC · ${c.outcome} · ${c.tool} · ${c.rule ?? 'no rule'} · ${c.agent} · trace ${c.traceId}`;
    parts.push(`<a href="#call-${i}"><circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="5" fill="${color}" fill-opacity="0.75" stroke="#fff" stroke-width="1.2"><title>${esc(title)}</title></circle></a>`);
  });
  if (r.refused.length === 0) parts.push(`<text x="${LEFT + plotW / 2}" y="${LANE_TOP + LANE_H / 2 + 4}" text-anchor="middle">no denied or invalid calls</text>`);

  const step = TICKS.find((t) => span / t <= 8) ?? Math.ceil(span / 8);
  const first = Math.ceil(from / step) * step;
  for (let t = first; t <= to; t += step) {
    const tx = x(t);
    parts.push(`<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${BARS_TOP}" y2="${LANE_TOP + LANE_H}" stroke="#c9ced6" stroke-width="0.6" stroke-dasharray="2 3"/>`);
    // A label that would run off the right edge (the period's end) is left out; its line stays.
    if (tx + 56 <= W) parts.push(`<text x="${(tx + 4).toFixed(1)}" y="${AXIS_Y}">${esc(tickLabel(t, step))}</text>`);
  }
  return `<svg class="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="Calls over the period, denied and invalid calls marked">${parts.join('')}</svg>`;
}
