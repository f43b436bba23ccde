// Holdout check of a BG/NBD fit (the paper's Figure 4): customers grouped by their
// repeat purchases in the calibration period (0, 1, …, 7+), and per group the average
// repeat purchases the model expects in the holdout period against the actual average.
import { expectedPurchasesOf, type BgNbdParams, type RftData } from './bgnbd.ts';

export interface HoldoutGroup {
  /** "0", "1", …, "7+". */
  label: string;
  customers: number;
  /** Mean repeat purchases per customer in the holdout period. */
  actual: number;
  predicted: number;
}

export interface HoldoutCheck {
  /** Holdout length in the model's unit. */
  length: number;
  groups: HoldoutGroup[];
  /** Sums over all customers. */
  total: { customers: number; actual: number; predicted: number };
}

export function holdoutCheck(params: BgNbdParams, rft: RftData, holdoutPurchases: ArrayLike<number>, length: number, lastGroup = 7): HoldoutCheck {
  const customers = new Float64Array(lastGroup + 1);
  const actual = new Float64Array(lastGroup + 1);
  const predicted = new Float64Array(lastGroup + 1);
  const expectedPurchases = expectedPurchasesOf(params);
  for (let i = 0; i < rft.x.length; i++) {
    const g = Math.min(rft.x[i], lastGroup);
    customers[g]++;
    actual[g] += holdoutPurchases[i];
    predicted[g] += expectedPurchases(rft.x[i], rft.tx[i], rft.T[i], length);
  }
  const groups: HoldoutGroup[] = [];
  for (let g = 0; g <= lastGroup; g++) {
    if (customers[g] === 0) continue;
    groups.push({
      label: g === lastGroup ? `${g}+` : String(g),
      customers: customers[g],
      actual: actual[g] / customers[g],
      predicted: predicted[g] / customers[g],
    });
  }
  const sum = (v: Float64Array) => v.reduce((s, x) => s + x, 0);
  return { length, groups, total: { customers: sum(customers), actual: sum(actual), predicted: sum(predicted) } };
}

/** The check as a Markdown table (also readable as plain text). */
export function holdoutTable(check: HoldoutCheck): string {
  const rows = check.groups.map((g) => `| ${g.label} | ${g.customers} | ${g.actual.toFixed(3)} | ${g.predicted.toFixed(3)} |`);
  const t = check.total;
  return [
    '| repeat purchases in calibration | customers | actual per customer in holdout | predicted |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    `| all | ${t.customers} | ${(t.actual / t.customers).toFixed(3)} (total ${Math.round(t.actual)}) | ${(t.predicted / t.customers).toFixed(3)} (total ${Math.round(t.predicted)}) |`,
  ].join('\n');
}
