// The report as a plain server-rendered page for marketers: a verdict per variant in words,
// horizontal bars (revenue per visitor, conversion) with 95% whiskers, and a table of every number.
// Every interpolated value goes through the `html` tag, which escapes it unless it is markup
// that tag itself produced, so no experiment or variant name can inject HTML.
import { DASH, liftInterval, money, percent, pValue, signedPercent } from './format.ts';
import type { IntervalJson, LiftJson, Report, VariantReport } from './report.ts';

class Markup {
  constructor(readonly text: string) {}
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

type Value = Markup | string | number | null | readonly Markup[];

function render(value: Value): string {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map((v: Markup) => v.text).join('');
  return escapeHtml(String(value ?? ''));
}

function html(strings: TemplateStringsArray, ...values: Value[]): Markup {
  return new Markup(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]) : ''), ''));
}

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;max-width:980px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.meta,.note{color:#5b6676;font-size:.9rem}
.box{padding:.7rem 1rem;border-left:4px solid;margin:1rem 0}.bad{background:#fdecea;border-color:#c0392b}.good{background:#eaf6ee;border-color:#2e8b57}
.row{display:grid;grid-template-columns:13rem 1fr 10rem;gap:.8rem;align-items:center;margin:.35rem 0}
.track{position:relative;height:1.5rem;background:#eef1f5}
.bar{position:absolute;left:0;top:0;bottom:0;background:#4c78a8}.control .bar{background:#9aa5b1}
.whisker{position:absolute;top:calc(50% - 1px);height:2px;background:#1d2430}
.whisker::before,.whisker::after{content:"";position:absolute;top:-5px;width:2px;height:12px;background:#1d2430}
.whisker::before{left:0}.whisker::after{right:0}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{padding:.35rem .5rem;border-bottom:1px solid #dde2e8;text-align:right}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
.up{color:#1e7d45}.down{color:#b03a2e}`;

function verdict(name: string, lift: LiftJson | null): Markup {
  if (!lift) return html`${name}: not enough data yet`;
  const cls = !lift.significant ? '' : lift.difference > 0 ? 'up' : 'down';
  const word = lift.significant ? (lift.difference > 0 ? 'better than control' : 'worse than control') : 'no clear difference yet';
  return html`${name} <strong class="${cls}">${signedPercent(lift.relative)}</strong>
    (95% CI ${liftInterval(lift.relative_ci.low, lift.relative_ci.high)}): ${word}`;
}

function summary(report: Report): Markup {
  const items = report.variants.filter((v) => !v.control).map((v) => html`<li><strong>${v.key}</strong> (${v.strategy}) vs
    <strong>${report.experiment.control}</strong>: ${verdict('revenue per visitor', v.lift?.revenue_per_visitor ?? null)};
    ${verdict('conversion', v.lift?.conversion_rate ?? null)}.</li>`);
  return html`<ul>${items}</ul>`;
}

function srmBox(srm: Report['srm']): Markup {
  return srm.mismatch
    ? html`<div class="box bad"><strong>Sample ratio mismatch.</strong> Visitors are not split the way the weights say
      (chi-square test ${pValue(srm.p_value)}, below ${srm.threshold}). Something excludes or double-counts users in some variants:
      find the cause before trusting any lift below.</div>`
    : html`<div class="box good">Traffic split matches the weights (sample ratio check: ${pValue(srm.p_value)}).</div>`;
}

function chart(variants: readonly VariantReport[], value: (v: VariantReport) => number | null, ci: (v: VariantReport) => IntervalJson | null, label: (x: number | null) => string): Markup {
  const scale = Math.max(...variants.flatMap((v) => [value(v) ?? 0, ci(v)?.high ?? 0])) || 1;
  const pct = (x: number) => `${(Math.min(Math.max(x, 0), scale) / scale * 100).toFixed(2)}%`;
  const rows = variants.map((v) => {
    const c = ci(v);
    const whisker = c ? html`<div class="whisker" style="left:${pct(c.low)};width:calc(${pct(c.high)} - ${pct(c.low)})"></div>` : html``;
    return html`<div class="row${v.control ? ' control' : ''}"><div>${v.key}${v.control ? ' (control)' : ''}</div>
      <div class="track"><div class="bar" style="width:${pct(value(v) ?? 0)}"></div>${whisker}</div>
      <div>${label(value(v))}${c ? html` <span class="meta">[${label(c.low)}, ${label(c.high)}]</span>` : ''}</div></div>`;
  });
  return html`${rows}`;
}

function liftCell(lift: LiftJson | null | undefined): Markup {
  if (!lift) return html`${DASH}`;
  return html`${signedPercent(lift.relative)}<br><span class="meta">${liftInterval(lift.relative_ci.low, lift.relative_ci.high)}, ${pValue(lift.p_value)}</span>`;
}

function table(report: Report): Markup {
  const rows = report.variants.map((v) => html`<tr><td>${v.key}${v.control ? ' (control)' : ''}</td><td>${v.strategy}</td>
    <td>${v.visitors}</td><td>${percent(v.expected_share)}</td><td>${v.exposures}</td><td>${v.clicks}</td><td>${percent(v.ctr, 2)}</td>
    <td>${v.converters}</td><td>${percent(v.conversion_rate, 2)}</td><td>${money(v.revenue)}</td><td>${money(v.revenue_per_visitor)}</td>
    <td>${liftCell(v.lift?.revenue_per_visitor)}</td><td>${liftCell(v.lift?.conversion_rate)}</td></tr>`);
  return html`<table><thead><tr><th>Variant</th><th>Strategy</th><th>Visitors</th><th>Expected share</th><th>Exposures</th>
    <th>Clicks</th><th>CTR</th><th>Converters</th><th>Conversion</th><th>Revenue</th><th>Revenue / visitor</th>
    <th>RPV lift (95% CI)</th><th>Conversion lift (95% CI)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderReportHtml(report: Report): string {
  const e = report.experiment;
  const title = e.name ?? e.id;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}: experiment report</title><style>${new Markup(STYLE)}</style></head><body>
<h1>${title}</h1>
<p class="meta">Experiment <code>${e.id}</code> · ${e.status} · started ${e.started_at ?? DASH} · stopped ${e.stopped_at ?? DASH}
 · purchases and clicks credited up to ${report.attribution_window_days} days after a visitor's first exposure · generated ${report.generated_at}</p>
${srmBox(report.srm)}
<h2>Verdict</h2>${summary(report)}
<h2>Revenue per visitor</h2>${chart(report.variants, (v) => v.revenue_per_visitor, (v) => v.revenue_per_visitor_ci, money)}
<h2>Conversion rate</h2>${chart(report.variants, (v) => v.conversion_rate, (v) => v.conversion_rate_ci, (x) => percent(x, 2))}
<h2>All numbers</h2>${table(report)}
<p class="note">Bars show each variant's value with its 95% confidence interval. Method: ${report.method}.</p>
</body></html>
`.text;
}
