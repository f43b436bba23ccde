// The report as a plain server-rendered page for marketers: a verdict per variant in words,
// horizontal bars (conversion, revenue per visitor per currency) with 95% whiskers, and tables of every number.
// Every interpolated value goes through the `html` tag, which escapes it unless it is markup
// that tag itself produced, so no experiment or variant name can inject HTML.
import { html, Markup } from '../lib/html.ts';
import { bracketed, currencyLabel, DASH, humanDate, liftInterval, money, percent, pValue, signedMoney, signedPercent } from './format.ts';
import type { IntervalJson, LiftJson, Report, VariantReport } from './report.ts';

// The page stays within 1200 px: a fixed table layout shares the width out among the columns,
// and long keys or notes wrap (anywhere, if need be) instead of widening the page.
const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;max-width:1200px;margin:2rem auto;padding:0 1rem;box-sizing:border-box}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.meta,.note{color:#5b6676;font-size:.9rem}
.box{padding:.7rem 1rem;border-left:4px solid;margin:1rem 0}.bad{background:#fdecea;border-color:#c0392b}.good{background:#eaf6ee;border-color:#2e8b57}
.row{display:grid;grid-template-columns:minmax(0,13rem) minmax(0,1fr) minmax(0,14rem);gap:.8rem;align-items:center;margin:.35rem 0}
.row>div{overflow-wrap:anywhere}
.track{position:relative;height:1.5rem;background:#eef1f5}
.bar{position:absolute;left:0;top:0;bottom:0;background:#4c78a8}.control .bar{background:#9aa5b1}
.whisker{position:absolute;top:calc(50% - 1px);height:2px;background:#1d2430}
.whisker::before,.whisker::after{content:"";position:absolute;top:-5px;width:2px;height:12px;background:#1d2430}
.whisker::before{left:0}.whisker::after{right:0}
table{border-collapse:collapse;table-layout:fixed;width:100%;font-size:.9rem}
th,td{padding:.35rem .5rem;border-bottom:1px solid #dde2e8;text-align:right;vertical-align:top;overflow-wrap:anywhere}
th:first-child,td:first-child{text-align:left;width:16%}
.up{color:#1e7d45}.down{color:#b03a2e}`;

const direction = (lift: LiftJson) => (!lift.significant ? '' : lift.difference > 0 ? 'up' : 'down');
const word = (lift: LiftJson) => (lift.significant ? (lift.difference > 0 ? 'better than control' : 'worse than control') : 'no clear difference yet');

/** "+100.0% (95% CI +27.6% to +222.2%)", with the note when the interval was cut; or the note alone. */
function relative(lift: LiftJson): Markup {
  if (!lift.relative_ci) return html`${lift.relative_note}`;
  return html`<strong class="${direction(lift)}">${signedPercent(lift.relative)}</strong>
    (95% CI ${liftInterval(lift.relative_ci)}${lift.relative_note ? `; ${lift.relative_note}` : ''})`;
}

function verdict(name: string, lift: LiftJson | null, amount: (x: number) => string): Markup {
  if (!lift) return html`${name}: not enough data yet`;
  if (lift.relative_ci) return html`${name} ${relative(lift)}: ${word(lift)}`;
  // No relative lift: the note says why; the difference may still be tested.
  const d = lift.difference_ci;
  return d ? html`${name}: ${lift.relative_note}; difference ${amount(lift.difference)} (95% CI ${amount(d.low)} to ${amount(d.high)}): ${word(lift)}` : html`${name}: ${lift.relative_note}`;
}

function summary(report: Report): Markup {
  const items = report.variants
    .filter((v) => !v.control)
    .map((v) => {
      const revenue = v.revenue.map((r) => html`<li>${verdict(`revenue per visitor (${currencyLabel(r.currency)})`, r.lift, signedMoney)}</li>`);
      return html`<li><strong>${v.key}</strong> (${v.strategy}) vs <strong>${report.experiment.control}</strong>:<ul>
    <li>${verdict('conversion', v.lift?.conversion_rate ?? null, (x) => signedPercent(x, 2))}</li>${revenue}</ul></li>`;
    });
  return html`<ul>${items}</ul>`;
}

function srmBox(srm: Report['srm']): Markup {
  return srm.mismatch
    ? html`<div class="box bad"><strong>Sample ratio mismatch.</strong> Visitors are not split the way the weights say
      (chi-square test ${pValue(srm.p_value)}, below ${srm.threshold}). Something excludes or double-counts users in some variants:
      find the cause before trusting any lift below.</div>`
    : html`<div class="box good">Traffic split matches the weights (sample ratio check: ${pValue(srm.p_value)}).</div>`;
}

interface Bar {
  key: string;
  control: boolean;
  value: number | null;
  ci: IntervalJson | null;
  note?: string | null;
}

function chart(bars: readonly Bar[], label: (x: number | null) => string): Markup {
  const scale = Math.max(...bars.flatMap((b) => [b.value ?? 0, b.ci?.high ?? 0])) || 1;
  const pct = (x: number) => `${((Math.min(Math.max(x, 0), scale) / scale) * 100).toFixed(2)}%`;
  const rows = bars.map((b) => {
    const c = b.ci;
    const whisker = c ? html`<div class="whisker" style="left:${pct(c.low)};width:calc(${pct(c.high)} - ${pct(c.low)})"></div>` : html``;
    const detail = c ? html` <span class="meta">[${label(c.low)}, ${label(c.high)}]</span>` : b.note ? html` <span class="meta">(${b.note})</span>` : '';
    return html`<div class="row${b.control ? ' control' : ''}"><div>${b.key}${b.control ? ' (control)' : ''}</div>
      <div class="track"><div class="bar" style="width:${pct(b.value ?? 0)}"></div>${whisker}</div>
      <div>${label(b.value)}${detail}</div></div>`;
  });
  return html`${rows}`;
}

/** A value with its interval under it. */
function withCi(value: string, ci: IntervalJson | null, format: (x: number) => string, note: string | null = null): Markup {
  return ci ? html`${value}<br><span class="meta">${bracketed(ci, format)}</span>` : note ? html`${value}<br><span class="meta">${note}</span>` : html`${value}`;
}

function liftCell(lift: LiftJson | null | undefined): Markup {
  if (!lift) return html`${DASH}`;
  const p = lift.p_value === null ? '' : `, ${pValue(lift.p_value)}`;
  return lift.relative_ci
    ? html`${signedPercent(lift.relative)}<br><span class="meta">${liftInterval(lift.relative_ci)}${p}${lift.relative_note ? `; ${lift.relative_note}` : ''}</span>`
    : html`${DASH}<br><span class="meta">${lift.relative_note}${p}</span>`;
}

const variantName = (v: VariantReport) => html`${v.key}${v.control ? ' (control)' : ''}<br><span class="meta">${v.strategy}</span>`;

function trafficTable(report: Report): Markup {
  const rows = report.variants.map(
    (v) => html`<tr><td>${variantName(v)}</td>
    <td>${v.visitors}<br><span class="meta">expected ${percent(v.expected_share)}</span></td><td>${v.exposures}</td>
    <td>${v.clicks} of ${v.impressions}</td><td>${withCi(percent(v.ctr, 2), v.ctr_ci, (x) => percent(x, 2))}</td>
    <td>${v.converters}</td><td>${withCi(percent(v.conversion_rate, 2), v.conversion_rate_ci, (x) => percent(x, 2))}</td>
    <td>${liftCell(v.lift?.conversion_rate)}</td></tr>`,
  );
  return html`<table><thead><tr><th>Variant</th><th>Visitors</th><th>Exposures</th><th>Clicks of items shown</th><th>CTR (95% CI)</th>
    <th>Converters</th><th>Conversion (95% CI)</th><th>Conversion lift (95% CI)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function revenueTable(report: Report, index: number): Markup {
  const rows = report.variants.map((v) => {
    const r = v.revenue[index];
    return html`<tr><td>${variantName(v)}</td><td>${r.buyers}</td><td>${money(r.revenue)}</td>
      <td>${withCi(money(r.revenue_per_visitor), r.revenue_per_visitor_ci, money, r.revenue_per_visitor_note)}</td><td>${liftCell(r.lift)}</td></tr>`;
  });
  return html`<table><thead><tr><th>Variant</th><th>Buyers</th><th>Revenue</th><th>Revenue / visitor (95% CI)</th>
    <th>Revenue / visitor lift (95% CI)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function revenueSections(report: Report): Markup {
  if (report.currencies.length === 0) return html`<h2>Revenue per visitor</h2><p class="note">No credited revenue yet.</p>`;
  return html`${report.currencies.map(
    (currency, i) => html`<h2>Revenue per visitor (${currencyLabel(currency)})</h2>
${chart(
  report.variants.map((v) => ({ key: v.key, control: v.control, value: v.revenue[i].revenue_per_visitor, ci: v.revenue[i].revenue_per_visitor_ci, note: v.revenue[i].revenue_per_visitor_note })),
  money,
)}
${revenueTable(report, i)}`,
  )}`;
}

/** Conversion per variant within each segment (the users' segment at their first exposure). */
function segmentsSection(report: Report): Markup {
  if (!report.segments || report.segments.length === 0) return html``;
  const rows = report.segments.flatMap((s) =>
    s.variants.map(
      (v, i) => html`<tr><td>${i === 0 ? (s.segment ?? 'no profile') : ''}</td>
    <td>${v.key}${v.control ? ' (control)' : ''}</td><td>${v.visitors}</td><td>${v.converters}</td>
    <td>${withCi(percent(v.conversion_rate, 2), v.conversion_rate_ci, (x) => percent(x, 2))}</td><td>${liftCell(v.lift?.conversion_rate)}</td></tr>`,
    ),
  );
  return html`<h2>By customer segment</h2>
<p class="note">Each visitor counts in the RFM segment the lifecycle build gave them last before their first exposure ("no profile": no purchase by then, or opted out).</p>
<table><thead><tr><th>Segment</th><th>Variant</th><th>Visitors</th><th>Converters</th><th>Conversion (95% CI)</th><th>Conversion lift (95% CI)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderReportHtml(report: Report): string {
  const e = report.experiment;
  const title = e.name ?? e.id;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}: experiment report</title><style>${new Markup(STYLE)}</style></head><body>
<h1>${title}</h1>
<p class="meta">Experiment <code>${e.id}</code> · ${e.status} · started ${humanDate(e.started_at)} · stopped ${humanDate(e.stopped_at)}
 · purchases and clicks credited up to ${report.attribution_window_days} days after a visitor's first exposure · generated ${humanDate(report.generated_at)}</p>
${srmBox(report.srm)}
<h2>Verdict</h2>${summary(report)}
<h2>Conversion rate</h2>${chart(
    report.variants.map((v) => ({ key: v.key, control: v.control, value: v.conversion_rate, ci: v.conversion_rate_ci })),
    (x) => percent(x, 2),
  )}
${trafficTable(report)}
${revenueSections(report)}
${segmentsSection(report)}
<p class="note">Bars show each variant's value with its 95% confidence interval. Revenue is reported per currency
(the catalog currency of each purchased item): amounts in different currencies are never added up. Method: ${report.method}.</p>
</body></html>
`.text;
}
