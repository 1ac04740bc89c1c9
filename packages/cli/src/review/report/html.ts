import { REPORT_CSS } from './html-css.js';
import { esc } from './html-escape.js';
import { boundarySection } from './html-boundary.js';
import { barList, firstUseSection, hotSpotSection, refusedSection, runsSection } from './html-sections.js';
import { MAX_MARKERS, timelineSvg } from './html-timeline.js';
import type { ReportData } from './model.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const n = (v: number): string => v.toLocaleString('en-US');

function day(iso: string): string {
  const d = new Date(iso);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

function periodTitle(r: ReportData): string {
  const ms = Date.parse(r.period.until) - Date.parse(r.period.since);
  const days = ms / 86_400_000;
  const len = days >= 1 ? `${Number(days.toFixed(1))} day${days === 1 ? '' : 's'}` : `${Number((days * 24).toFixed(1))} hours`;
  return `${day(r.period.since)} – ${day(r.period.until)} <span class="meta">(${len}, UTC)</span>`;
}

function card(cls: string, label: string, value: number, sub: string): string {
  return `<div class="card ${cls}"><div class="k">${esc(label)}</div><div class="v">${n(value)}</div><div class="s">${esc(sub)}</div></div>`;
}

/** One sentence saying what needs reading, so the page answers before it is scrolled. */
function lede(r: ReportData): string {
  const t = r.totals;
  const bits: string[] = [];
  if (t.denied > 0) bits.push(`<b>${n(t.denied)}</b> denied`);
  if (t.invalid > 0) bits.push(`<b>${n(t.invalid)}</b> invalid`);
  if (r.firstUse.length > 0) bits.push(`<b>${n(r.firstUse.length)}</b> tool${r.firstUse.length === 1 ? '' : 's'} used by an agent for the first time`);
  if (t.error > 0) bits.push(`<b>${n(t.error)}</b> failed`);
  if (bits.length === 0) return `<p class="lede">${n(t.calls)} calls, none refused or failed.</p>`;
  return `<p class="lede">Of ${n(t.calls)} calls: ${bits.join(', ')}.</p>`;
}

function warnings(r: ReportData): string {
  let out = '';
  if (r.source.problemCount > 0) {
    const items = r.source.problems
      .slice(0, 10)
      .map((p) => `<li>${esc(p)}</li>`)
      .join('');
    out += `<div class="warn"><b>${n(r.source.problemCount)} problem(s) reading the source</b>: the report may be incomplete.<ul>${items}</ul></div>`;
  }
  const late = r.source.outOfPeriod;
  if (late !== undefined && late.count > 0) {
    // The page must not hide what the terminal warns of: calls received in the period, started outside it.
    const items = late.records
      .slice(0, 10)
      .map((c) => `<li>${esc(c.time)} (received ${esc(c.receivedAt)}): ${esc(c.tool)}, ${esc(c.outcome)}, trace ${esc(c.traceId)}</li>`)
      .join('');
    out += `<div class="warn"><b>${n(late.count)} call record(s) received in the period carry a start time outside it</b>: not counted in this page (a late delivery, or a start time set to hide a call).<ul>${items}</ul></div>`;
  }
  return out;
}

/**
 * The report as one self-contained page: inline CSS and SVG, no script, nothing fetched (no
 * external stylesheet, font, image or link); every value from the trail is escaped.
 */
export function renderHtml(r: ReportData): string {
  const t = r.totals;
  const services = r.source.description;
  const body = [
    `<header><div class="eyebrow">tooltrail · weekly review</div><h1>${periodTitle(r)}</h1>`,
    `<p class="meta">${esc(services)} · ${n(r.source.records)} records read · generated ${esc(r.generatedAt.slice(0, 16).replace('T', ' '))} UTC</p>${lede(r)}${warnings(r)}</header>`,
    `<section class="cards">`,
    card('calls', 'Calls', t.calls, `${n(t.agents)} agents · ${n(t.tools)} tools · ${n(t.runs)} runs`),
    card('denied', 'Denied', t.denied, t.calls > 0 ? `${((t.denied / t.calls) * 100).toFixed(1)}% of calls` : '–'),
    card('invalid', 'Invalid', t.invalid, 'bad arguments'),
    card('new', 'First uses', r.firstUse.length, r.firstUseKnown ? 'agent × tool, new this period' : 'no earlier period to compare'),
    card('error', 'Errors', t.error, t.calls > 0 ? `${((t.error / t.calls) * 100).toFixed(1)}% of calls` : '–'),
    card('error', 'Retried', t.retriedCalls, `${n(t.retries)} extra attempts`),
    `</section>`,
    `<section class="panel"><h2>The period</h2><p class="sub">Calls per ${esc(bucketLabel(r.timeline.bucketMs))}${r.refused.length > MAX_MARKERS ? '; below, the denied and invalid calls per bucket (hover for counts)' : '; each dot below is one denied or invalid call at its time (hover for what it was, click for its row)'}.</p>`,
    `<div class="legend"><span><i style="background:#a9b4c2"></i>ok</span><span><i style="background:#d98a00"></i>error</span><span><i style="background:#7c4dde"></i>invalid</span><span><i style="background:#d23f3f"></i>denied</span>`,
    `${t.pendingApproval + t.unfinished > 0 ? `<span>${n(t.pendingApproval)} pending approval, ${n(t.unfinished)} unfinished (grey)</span>` : ''}</div>`,
    timelineSvg(r),
    `</section>`,
    firstUseSection(r),
    `<div class="grid4">`,
    barList('Refused by agent', r.refusals.byAgent),
    barList('by principal', r.refusals.byPrincipal),
    barList('by tool', r.refusals.byTool),
    barList('by rule', r.refusals.byRule),
    `</div>`,
    refusedSection(r),
    boundarySection(r),
    hotSpotSection(r),
    runsSection(r),
    policiesLine(r),
    `<footer>tooltrail report · ${esc(r.period.since)} to ${esc(r.period.until)} · a self-contained page: no scripts, nothing loaded from anywhere</footer>`,
  ];
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>tooltrail report ${esc(day(r.period.since))} – ${esc(day(r.period.until))}</title><style>${REPORT_CSS}</style></head><body><main>${body.join('\n')}</main></body></html>\n`;
}

function policiesLine(r: ReportData): string {
  if (r.policies.length === 0) return '';
  const items = r.policies.map((p) => `<span class="chip" title="${esc(p.version)}">${esc(p.id)} ${esc(p.version.slice(0, 15))}</span> ${n(p.calls)} calls, ${n(p.denied)} denied`).join(' · ');
  return `<p class="meta">Policy files that decided: ${items}</p>`;
}

function bucketLabel(ms: number): string {
  const h = ms / 3_600_000;
  if (h >= 24) return `${Number((h / 24).toFixed(1))} day${h === 24 ? '' : 's'}`;
  if (h >= 1) return `${Number(h.toFixed(1))} hour${h === 1 ? '' : 's'}`;
  return `${Math.round(ms / 60_000)} minutes`;
}
