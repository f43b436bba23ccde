// Reading a server's /metrics (Prometheus text exposition) in the benchmarks.

/**
 * The sum of a metric's samples over its label sets, those whose labels contain `labels` (a plain
 * substring, e.g. `le="0.01"`): for a metric without labels, its one value. NaN when no sample
 * matches, so a missing metric never reads as 0.
 */
export function metricValue(text: string, name: string, labels = ''): number {
  const samples = [...text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))].filter((m) => (m[1] ?? '').includes(labels));
  return samples.length > 0 ? samples.reduce((sum, m) => sum + Number(m[2]), 0) : Number.NaN;
}
