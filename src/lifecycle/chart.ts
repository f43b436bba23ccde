// The holdout check drawn by hand as SVG (no charting dependency), and a small
// self-contained HTML page around it with the numbers as a table.
import { escapeHtml } from '../lib/html.ts';
import type { HoldoutCheck } from './holdout.ts';

const WIDTH = 640;
const HEIGHT = 380;
const MARGIN = { top: 48, right: 24, bottom: 56, left: 64 };
const ACTUAL_COLOUR = '#1f4e79';
const PREDICTED_COLOUR = '#d46a00';

export function holdoutChartSvg(check: HoldoutCheck, title: string): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const groups = check.groups;
  const highest = Math.max(...groups.flatMap((g) => [g.actual, g.predicted]), 1e-9);
  const step = niceStep(highest / 5);
  const top = step * Math.ceil(highest / step);
  const xOf = (i: number) => MARGIN.left + (plotWidth * (i + 0.5)) / groups.length;
  const yOf = (v: number) => MARGIN.top + plotHeight * (1 - v / top);
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, k) => k * step);
  const series = (key: 'actual' | 'predicted', colour: string, dash: string) => [
    `<polyline fill="none" stroke="${colour}" stroke-width="2.5"${dash} points="${groups.map((g, i) => `${xOf(i).toFixed(1)},${yOf(g[key]).toFixed(1)}`).join(' ')}"/>`,
    ...groups.map((g, i) => `<circle cx="${xOf(i).toFixed(1)}" cy="${yOf(g[key]).toFixed(1)}" r="4" fill="${colour}"><title>${escapeHtml(`${g.label}: ${key} ${g[key].toFixed(3)}`)}</title></circle>`),
  ];
  const bottom = MARGIN.top + plotHeight;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeHtml(title)}</text>`,
    ...ticks.map(
      (v) =>
        `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${yOf(v).toFixed(1)}" y2="${yOf(v).toFixed(1)}" stroke="#ddd"/><text x="${MARGIN.left - 8}" y="${(yOf(v) + 4).toFixed(1)}" text-anchor="end">${formatTick(v)}</text>`,
    ),
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`,
    ...groups.map((g, i) => `<text x="${xOf(i).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(g.label)}</text>`),
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 12}" text-anchor="middle">repeat purchases in the calibration period</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">mean repeat purchases in the holdout</text>`,
    ...series('actual', ACTUAL_COLOUR, ''),
    ...series('predicted', PREDICTED_COLOUR, ' stroke-dasharray="6 4"'),
    `<g transform="translate(${MARGIN.left + 12} ${MARGIN.top + 8})">`,
    `<line x1="0" x2="24" y1="0" y2="0" stroke="${ACTUAL_COLOUR}" stroke-width="2.5"/><text x="30" y="4">actual</text>`,
    `<line x1="0" x2="24" y1="18" y2="18" stroke="${PREDICTED_COLOUR}" stroke-width="2.5" stroke-dasharray="6 4"/><text x="30" y="22">BG/NBD prediction</text>`,
    '</g>',
    '</svg>',
  ].join('\n');
}

/** A standalone page: title, a few lines of context, the chart and the table. */
export function holdoutReportHtml(check: HoldoutCheck, title: string, details: readonly string[]): string {
  const row = (cells: string[], tag = 'td') => `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  const t = check.total;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;max-width:720px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}</style>',
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...details.map((d) => `<p>${escapeHtml(d)}</p>`),
    holdoutChartSvg(check, title),
    '<table>',
    row(['repeat purchases in calibration', 'customers', 'actual (mean)', 'predicted (mean)'], 'th'),
    ...check.groups.map((g) => row([g.label, String(g.customers), g.actual.toFixed(3), g.predicted.toFixed(3)])),
    row(['all (total)', String(t.customers), Math.round(t.actual).toString(), Math.round(t.predicted).toString()]),
    '</table>',
    '</body></html>',
    '',
  ].join('\n');
}

/** Smallest of 1, 2, 2.5, 5 × 10^k at or above v: a round tick step. */
function niceStep(v: number): number {
  const power = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((c) => c >= v)!;
}

function formatTick(v: number): string {
  return Number(v.toPrecision(3)).toString();
}
