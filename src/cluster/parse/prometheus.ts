/** Prometheus text exposition (what kube-proxy serves on :10249/metrics). */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class Metrics {
  private readonly byName = new Map<string, Sample[]>();

  constructor(samples: readonly Sample[]) {
    for (const s of samples) {
      const list = this.byName.get(s.name);
      if (list) list.push(s);
      else this.byName.set(s.name, [s]);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  samples(name: string): readonly Sample[] {
    return this.byName.get(name) ?? [];
  }

  /** Sum over all label sets (ip_family etc.), or undefined when the metric is absent. */
  sum(name: string, filter: Readonly<Record<string, string>> = {}): number | undefined {
    const list = this.byName
      .get(name)
      ?.filter((s) => Object.entries(filter).every(([k, v]) => s.labels[k] === v));
    if (!list || list.length === 0) return undefined;
    return list.reduce((acc, s) => acc + s.value, 0);
  }

  max(name: string): number | undefined {
    const list = this.byName.get(name);
    if (!list || list.length === 0) return undefined;
    return Math.max(...list.map((s) => s.value));
  }

  /** Mean of a histogram (`_sum` / `_count`), or undefined when empty. */
  histogramMean(name: string): number | undefined {
    const sum = this.sum(`${name}_sum`);
    const count = this.sum(`${name}_count`);
    if (sum === undefined || !count) return undefined;
    return sum / count;
  }

  /** Upper bound of the bucket holding quantile q, from cumulative `_bucket` samples. */
  histogramQuantile(name: string, q: number): number | undefined {
    const buckets = new Map<number, number>();
    for (const s of this.samples(`${name}_bucket`)) {
      const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    }
    const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
    const total = sorted.at(-1)?.[1];
    if (!total) return undefined;
    return sorted.find(([, cumulative]) => cumulative >= q * total)?.[0];
  }
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Metrics {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = sampleLine.exec(line);
    if (!m) continue;
    const [, name = '', , labelText = '', valueText = ''] = m;
    const labels: Record<string, string> = {};
    for (const pair of labelText.matchAll(labelPair))
      labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, '$1');
    const value = valueText === '+Inf' ? Number.POSITIVE_INFINITY : Number(valueText);
    if (!Number.isNaN(value)) samples.push({ name, labels, value });
  }
  return new Metrics(samples);
}
