/** The report page's only style sheet, inlined (the page loads nothing). */
export const REPORT_CSS = `
:root{--bg:#f4f5f7;--card:#fff;--ink:#1c2430;--muted:#5f6b7a;--faint:#8a94a3;--line:#e3e6eb;
--denied:#d23f3f;--denied-bg:#fdecec;--invalid:#7c4dde;--invalid-bg:#f1ebfd;--error:#d98a00;--error-bg:#fdf3e0;
--ok:#a9b4c2;--new:#0d7a6f;--new-bg:#e3f4f1;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1240px;margin:0 auto;padding:28px 24px 48px}
header{margin-bottom:20px}
.eyebrow{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:var(--faint);font-weight:600}
h1{font-size:26px;line-height:1.2;margin:4px 0 6px;font-weight:650}
h2{font-size:16px;margin:0 0 2px;font-weight:650}
h3{font-size:13px;margin:0 0 10px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.sub{color:var(--muted);margin:0 0 14px;font-size:13px}
.meta{color:var(--muted);font-size:13px;margin:0}
.lede{font-size:16px;margin:10px 0 0}
.lede b{font-weight:650}
.warn{background:var(--error-bg);border:1px solid #f1d08a;color:#6b4a00;border-radius:8px;padding:10px 14px;margin:14px 0 0;font-size:13px}
.warn ul{margin:6px 0 0;padding-left:18px}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;margin:18px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card .k{font-size:12px;color:var(--muted);font-weight:600}
.card .v{font-size:28px;font-weight:650;line-height:1.1;margin-top:4px}
.card .s{font-size:12px;color:var(--faint);margin-top:2px}
.card.denied{border-top:3px solid var(--denied)}.card.denied .v{color:var(--denied)}
.card.invalid{border-top:3px solid var(--invalid)}.card.invalid .v{color:var(--invalid)}
.card.error{border-top:3px solid var(--error)}.card.error .v{color:#a96b00}
.card.new{border-top:3px solid var(--new)}.card.new .v{color:var(--new)}
.card.calls{border-top:3px solid var(--ok)}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:14px 0}
.legend{display:flex;gap:16px;font-size:12px;color:var(--muted);margin:0 0 6px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.legend i.dot{border-radius:50%}
svg.timeline{width:100%;height:auto;display:block}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--faint)}
svg .lane{font-weight:600;fill:var(--muted)}
.grid4{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:14px 0}
.grid4 .panel{margin:0;padding:16px}
.bars{list-style:none;margin:0;padding:0}
.bars li{display:grid;grid-template-columns:minmax(0,1fr) auto;gap:2px 8px;margin:0 0 9px;font-size:13px}
.bars .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bars .num{font-weight:600;text-align:right}
.bars .track{grid-column:1/3;height:6px;background:#eef0f3;border-radius:3px;display:flex;overflow:hidden}
.bars .d{background:var(--denied)}.bars .iv{background:var(--invalid)}
.empty{color:var(--faint);font-size:13px;margin:4px 0}
.empty.good{color:var(--new)}
table{width:100%;border-collapse:collapse;font-size:13px}
th{text-align:left;font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--faint);font-weight:600;padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
td{padding:7px 7px;border-bottom:1px solid #eff1f4;vertical-align:top}
tr:last-child td{border-bottom:0}
td.n,th.n{text-align:right}
td.time{white-space:nowrap;color:var(--muted)}
.mono,.id{font-family:var(--mono);font-size:12px}
.id{color:var(--muted);font-size:11.5px;white-space:nowrap}
.chip{display:inline-block;font-family:var(--mono);font-size:12px;background:#eef1f5;border-radius:4px;padding:1px 6px;white-space:nowrap}
td.who{white-space:nowrap}
.badge{display:inline-block;font-size:11px;font-weight:650;border-radius:10px;padding:1px 8px;text-transform:uppercase;letter-spacing:.03em}
.badge.denied{background:var(--denied-bg);color:var(--denied)}
.badge.invalid{background:var(--invalid-bg);color:var(--invalid)}
.badge.new{background:var(--new-bg);color:var(--new)}
.reason{color:var(--muted);min-width:140px}
.rate{display:inline-block;width:60px;height:6px;background:#eef0f3;border-radius:3px;vertical-align:middle;margin-right:6px;overflow:hidden}
.rate b{display:block;height:100%;background:var(--error)}
tr:target td{background:#fff7d6}
.more{color:var(--faint);font-size:12px;margin:8px 0 0}
footer{color:var(--faint);font-size:12px;margin-top:24px;text-align:center}
@media (max-width:900px){.cards{grid-template-columns:repeat(3,1fr)}.grid4{grid-template-columns:repeat(2,1fr)}}
@media print{body{background:#fff}.panel,.card{break-inside:avoid}}
`;
