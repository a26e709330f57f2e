/** Order statistics of a sample, in the sample's unit. */
export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles (no interpolation), so every figure is a value that was observed. */
export function summarise(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    min: sorted[0] ?? 0,
    mean: sum / sorted.length,
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

/** Rounds every numeric field, for printing and JSON. */
export function rounded<T extends object>(value: T, digits = 2): T {
  const factor = 10 ** digits;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === "number" ? Math.round(v * factor) / factor : v]),
  ) as T;
}

/** Runs `fn` over `items` with at most `limit` in flight (0 = all at once); results keep input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const width = limit <= 0 ? items.length : Math.min(limit, items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  }
  await Promise.all(Array.from({ length: width }, lane));
  return results;
}
