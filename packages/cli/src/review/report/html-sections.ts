import { esc } from './html-escape.js';
import { NO_PRINCIPAL, type RefusalRow, type ReportData } from './model.js';

const n = (v: number): string => v.toLocaleString('en-US');
const time = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
const id = (s: string | undefined): string => (s === undefined ? '<span class="empty">–</span>' : `<span class="id">${esc(s)}</span>`);
const chip = (s: string): string => `<span class="chip">${esc(s)}</span>`;

/** One breakdown (by agent, principal, tool or rule) as labelled bars. */
export function barList(title: string, rows: RefusalRow[], limit = 8): string {
  if (rows.length === 0) return `<div class="panel"><h3>${esc(title)}</h3><p class="empty">none</p></div>`;
  const max = Math.max(...rows.map((r) => r.denied + r.invalid));
  const items = rows.slice(0, limit).map((r) => {
    const d = ((r.denied / max) * 100).toFixed(1);
    const iv = ((r.invalid / max) * 100).toFixed(1);
    const label = `${r.denied} denied, ${r.invalid} invalid of ${r.calls} calls`;
    return `<li title="${esc(label)}"><span class="name">${esc(r.key)}</span><span class="num">${n(r.denied + r.invalid)}</span><span class="track"><span class="d" style="width:${d}%"></span><span class="iv" style="width:${iv}%"></span></span></li>`;
  });
  const more = rows.length > limit ? `<p class="more">and ${rows.length - limit} more</p>` : '';
  return `<div class="panel"><h3>${esc(title)}</h3><ul class="bars">${items.join('')}</ul>${more}</div>`;
}

export function firstUseSection(r: ReportData): string {
  const head = `<h2>First use of a tool</h2><p class="sub">Tools an agent called this period and not once in the ${esc(time(r.previous.since))} to ${esc(time(r.previous.until))} before it: an agent reaching outside its usual set.</p>`;
  if (!r.firstUseKnown) return `<section class="panel">${head}<p class="empty">Cannot tell: the trail holds no calls in the previous period.</p></section>`;
  if (r.firstUse.length === 0) return `<section class="panel">${head}<p class="empty good">None: every agent called only tools it had called before.</p></section>`;
  const rows = r.firstUse.map(
    (f) =>
      `<tr><td class="time">${esc(time(f.firstAt))}</td><td>${esc(f.agent)}</td><td>${chip(f.tool)} <span class="badge new">new</span></td><td>${esc(f.principal ?? NO_PRINCIPAL)}</td>` +
      `<td class="n">${n(f.calls)}</td><td class="n">${n(f.denied + f.invalid)}</td><td class="n">${n(f.errors)}</td><td>${id(f.traceId)}</td></tr>`,
  );
  return `<section class="panel">${head}<table><thead><tr><th>First call (UTC)</th><th>Agent</th><th>Tool</th><th>Principal</th><th class="n">Calls</th><th class="n">Refused</th><th class="n">Errors</th><th>Trace id</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

export function refusedSection(r: ReportData): string {
  const total = r.totals.denied + r.totals.invalid;
  const head = `<h2>Denied and invalid calls</h2><p class="sub">Every call the policy refused or whose arguments were invalid, oldest first. The trace id opens the call in the trail.</p>`;
  if (total === 0) return `<section class="panel">${head}<p class="empty good">No denied or invalid calls this period.</p></section>`;
  const rows = r.refused.map((c, i) => {
    const policy = c.policyId !== undefined ? `<br><span class="id" title="${esc(c.policyVersion ?? '')}">policy ${esc(c.policyId)}</span>` : '';
    const approval = c.approval ? `<br><span class="id">${esc(c.approval.decision)}${c.approval.by !== undefined ? ` by ${esc(c.approval.by)}` : ''}</span>` : '';
    return (
      `<tr id="call-${i}"><td class="time">${esc(time(c.time))}</td><td><span class="badge ${c.outcome}">${c.outcome}</span></td><td class="who">${esc(c.agent)}</td><td class="who">${esc(c.principal ?? NO_PRINCIPAL)}</td>` +
      `<td>${chip(c.tool)}</td><td>${c.rule !== undefined ? chip(c.rule) : '<span class="empty">–</span>'}${policy}</td><td class="reason">${esc(c.reason ?? '')}${approval}</td><td>${id(c.traceId)}</td></tr>`
    );
  });
  const more = r.refusedOmitted > 0 ? `<p class="more">${n(r.refusedOmitted)} more not listed (raise --max-list); the counts above include them.</p>` : '';
  return `<section class="panel">${head}<table><thead><tr><th>Time (UTC)</th><th>Outcome</th><th>Agent</th><th>Principal</th><th>Tool</th><th>Rule</th><th>Reason</th><th>Trace id</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}</section>`;
}

export function hotSpotSection(r: ReportData): string {
  const head = `<h2>Error and retry hot spots</h2><p class="sub">Agent and tool pairs whose calls failed or were retried, most failures first.</p>`;
  if (r.hotSpots.length === 0) return `<section class="panel">${head}<p class="empty good">No failed or retried calls.</p></section>`;
  const rows = r.hotSpots.map((h) => {
    const pct = (h.errorRate * 100).toFixed(1);
    const types = h.errorTypes.map((e) => `${chip(e.type)} ${n(e.count)}`).join(' ');
    return (
      `<tr><td>${esc(h.agent)}</td><td>${chip(h.tool)}</td><td class="n">${n(h.calls)}</td><td class="n">${n(h.errors)}</td>` +
      `<td><span class="rate"><b style="width:${pct}%"></b></span>${pct}%</td><td class="n">${n(h.retries)}</td><td>${types || '<span class="empty">–</span>'}</td><td>${id(h.traceId)}</td></tr>`
    );
  });
  return `<section class="panel">${head}<table><thead><tr><th>Agent</th><th>Tool</th><th class="n">Calls</th><th class="n">Errors</th><th>Error rate</th><th class="n">Retries</th><th>Error types</th><th>Trace id</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

export function runsSection(r: ReportData): string {
  const head = `<h2>Runs holding them</h2><p class="sub">Runs with denied, invalid, failed, retried or pending calls, most refusals first.</p>`;
  if (r.runs.length === 0) return `<section class="panel">${head}<p class="empty good">None.</p></section>`;
  const rows = r.runs.map(
    (x) =>
      `<tr><td>${x.runId !== undefined ? id(x.runId) : '<span class="empty">no run</span>'}</td><td>${esc(x.agent)}</td><td>${esc(x.principal ?? NO_PRINCIPAL)}</td><td class="time">${esc(time(x.start))}</td>` +
      `<td class="n">${n(x.calls)}</td><td class="n">${n(x.denied)}</td><td class="n">${n(x.invalid)}</td><td class="n">${n(x.errors)}</td><td class="n">${n(x.retries)}</td><td>${id(x.traceId)}</td></tr>`,
  );
  const more = r.runsOmitted > 0 ? `<p class="more">${n(r.runsOmitted)} more runs not listed.</p>` : '';
  return `<section class="panel">${head}<table><thead><tr><th>Run</th><th>Agent</th><th>Principal</th><th>Start (UTC)</th><th class="n">Calls</th><th class="n">Denied</th><th class="n">Invalid</th><th class="n">Errors</th><th class="n">Retries</th><th>Trace id</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}</section>`;
}
