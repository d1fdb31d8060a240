/** Small statistics for benchmark samples: medians and spread, never a lone mean. */

/** The value at quantile q (0..1) of sorted values, by linear interpolation between ranks. */
function quantile(sorted, q) {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** Median, tail quantiles and range of a list of numbers. */
export function summarize(values) {
  if (values.length === 0) throw new Error("no samples to summarize");
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    min: sorted[0],
    max: sorted[sorted.length - 1],
  };
}
