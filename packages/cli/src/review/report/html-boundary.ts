/** The HTML report's MCP boundary section: both views of each call joined (boundary.ts). */
import type { BoundaryCall } from './boundary.js';
import { esc } from './html-escape.js';
import { NO_PRINCIPAL, type DefinitionChange, type NotGatewayRecord, type ReportData } from './model.js';

const n = (v: number): string => v.toLocaleString('en-US');
const time = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
const id = (s: string): string => `<span class="id">${esc(s)}</span>`;
const chip = (s: string): string => `<span class="chip">${esc(s)}</span>`;

function rows(list: BoundaryCall[], extra: (c: BoundaryCall) => string = () => ''): string {
  return list
    .map((c) => `<tr><td class="time">${esc(time(c.time))}</td><td class="who">${esc(c.agent)}</td><td class="who">${esc(c.principal ?? NO_PRINCIPAL)}</td><td>${chip(c.tool)}</td><td>${c.server !== undefined ? esc(c.server) : '<span class="empty">–</span>'}</td><td>${esc(c.outcome)}${extra(c)}</td><td>${id(c.traceId)}</td></tr>`)
    .join('');
}

function table(title: string, sub: string, list: BoundaryCall[], count: number, extra?: (c: BoundaryCall) => string): string {
  if (count === 0) return '';
  const more = count > list.length ? `<p class="more">${n(count - list.length)} more not listed.</p>` : '';
  return `<h3>${esc(title)} (${n(count)})</h3><p class="sub">${esc(sub)}</p><table><thead><tr><th>Time (UTC)</th><th>Agent</th><th>Principal</th><th>Tool</th><th>Server</th><th>Outcome</th><th>Trace id</th></tr></thead><tbody>${rows(list, extra)}</tbody></table>${more}`;
}

/** The gateway's tool_changed records: every change it saw, called afterwards or not. */
function changes(list: DefinitionChange[], count: number): string {
  if (count === 0) return '';
  const more = count > list.length ? `<p class="more">${n(count - list.length)} more not listed.</p>` : '';
  const body = list
    .map((c) => `<tr><td class="time">${esc(time(c.time))}</td><td>${c.server !== undefined ? esc(c.server) : '<span class="empty">–</span>'}</td><td>${chip(c.tool)}</td><td>${esc(c.action)}</td><td>${id(`${c.hashOld.slice(0, 19)} → ${c.hashNew.slice(0, 19)}`)}</td><td class="who">${esc(c.principal ?? NO_PRINCIPAL)}</td><td>${id(c.traceId)}</td></tr>`)
    .join('');
  return `<h3>Tool definitions changed under their pin (${n(count)})</h3><p class="sub">Seen by the gateway in a tools/list or before a call (a "rug pull"), whether or not the tool was called afterwards.</p><table><thead><tr><th>Time (UTC)</th><th>Server</th><th>Tool</th><th>Action</th><th>Pinned → seen</th><th>Principal</th><th>Trace id</th></tr></thead><tbody>${body}</tbody></table>${more}`;
}

/** Records that carry the gateway's attributes but were not written by it: an agent can add them. */
function notGateway(list: NotGatewayRecord[], count: number): string {
  if (count === 0) return '';
  const more = count > list.length ? `<p class="more">${n(count - list.length)} more not listed.</p>` : '';
  const body = list
    .map((c) => `<tr><td class="time">${esc(time(c.time))}</td><td>${esc(c.record)}</td><td>${chip(c.tool)}</td><td class="who">${esc(c.writer ?? '(none recorded)')}</td><td class="who">${esc(c.service ?? '–')}</td><td>${id(c.traceId)}</td></tr>`)
    .join('');
  return `<h3>Records with the gateway's attributes not written by the gateway (${n(count)})</h3><p class="sub">Not counted as the gateway's: another writer (or service) sent them.</p><table><thead><tr><th>Time (UTC)</th><th>Record</th><th>Tool</th><th>Writer</th><th>Service</th><th>Trace id</th></tr></thead><tbody>${body}</tbody></table>${more}`;
}

/** Gateway records filed under a fresh call id: never paired by the id the agent claimed. */
function freshIds(list: BoundaryCall[], count: number): string {
  if (count === 0) return '';
  const more = count > list.length ? `<p class="more">${n(count - list.length)} more not listed.</p>` : '';
  const body = list
    .map((c) => `<li>${esc(time(c.time))} ${chip(c.tool)} ${id(c.callId)}: recorded under a fresh id; claimed ${id(c.callIdClaimed ?? '?')} (${esc(c.callIdRejected ?? '?')}), principal ${esc(c.principal ?? NO_PRINCIPAL)}</li>`)
    .join('');
  return `<h3>Recorded under a fresh call id (${n(count)})</h3><p class="sub">The call id the agent claimed was malformed or another run's; the gateway's record is not paired by it.</p><ul>${body}</ul>${more}`;
}

export function boundarySection(r: ReportData): string {
  const b = r.boundary;
  if (b === undefined) return '';
  const retried = b.joinedRetried > 0 ? ` ${n(b.joinedRetried)} of them retried: ${n(b.joinedRetryRecords)} more gateway records as their attempts.` : '';
  const head = `<h2>The MCP boundary</h2><p class="sub">${n(b.gatewayCalls)} calls recorded by the gateway, ${n(b.agentCalls)} by the agents' own MCP adapter; ${n(b.joined)} joined by call id and principal (one call, both views).${retried}</p>`;
  const side = b.gatewaySide.warning !== undefined ? `<p class="warn"><strong>${esc(b.gatewaySide.warning)}</strong></p>` : `<p class="sub">Gateway side: records written by collector writer ${b.gatewaySide.names.map(id).join(', ')}.</p>`;
  const clean = b.gatewayOnlyCount + b.agentOnlyCount + b.disagreeing.length + b.changedTools.length + b.definitionChangeCount + b.notGatewayCount + b.freshIdCount === 0;
  return (
    `<section class="panel">${head}${side}` +
    (clean ? `<p class="empty${b.gatewaySide.authenticated ? ' good' : ''}">Every call was seen on both sides, alike${b.gatewaySide.authenticated ? '' : ' (not verified: see above)'}.</p>` : '') +
    notGateway(b.notGateway, b.notGatewayCount) +
    freshIds(b.freshIds, b.freshIdCount) +
    changes(b.definitionChanges, b.definitionChangeCount) +
    table('Calls to changed tools', 'Calls denied because the tool changed since it was pinned (a "rug pull").', b.changedTools, b.changedTools.length, (c) => {
      const ch = b.changedTools.find((x) => x.callId === c.callId);
      return ch ? `<br><span class="id">${esc(ch.hashOld.slice(0, 19))} → ${esc(ch.hashNew.slice(0, 19))}</span>` : '';
    }) +
    table('Seen by the gateway only', 'No record from the agent: code that reached the server without the wrapper, or an agent that does not use @tooltrail/mcp.', b.gatewayOnly, b.gatewayOnlyCount) +
    table('Recorded by the agent only', 'Never seen by the gateway: a call that went around it, or to a server not behind it.', b.agentOnly, b.agentOnlyCount) +
    table('Joined calls whose two records disagree', 'Outcome or arguments differ between what the agent proposed and what executed at the boundary.', b.disagreeing, b.disagreeing.length, (c) => {
      const j = b.disagreeing.find((x) => x.callId === c.callId);
      return j ? `<br><span class="id">agent: ${esc(j.agentOutcome)}, gateway: ${esc(j.gatewayOutcome)}</span>` : '';
    }) +
    `</section>`
  );
}
