/**
 * Prometheus metrics (prom-client): kproxy's counters, the diagnose job duration histogram,
 * gauges read at scrape time, and the process and Node.js runtime metrics (CPU, memory,
 * event-loop lag, GC). One registry per process (not prom-client's global one), so tests
 * and the `all` mode can hold several.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** Buckets for a diagnosis: seconds for a bundle or a small cluster, up to the 900 s timeout. */
const jobBuckets = [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 900];

export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly help: Record<string, string>;

  constructor(help: Record<string, string> = {}, options: { runtime?: boolean } = {}) {
    this.help = help;
    if (options.runtime ?? true) collectDefaultMetrics({ register: this.registry });
  }

  inc(name: string, labels: Labels, by = 1): void {
    let counter = this.counters.get(name);
    if (!counter) {
      counter = new Counter({
        name,
        help: this.help[name] ?? name,
        labelNames: Object.keys(labels),
        registers: [this.registry],
      });
      this.counters.set(name, counter);
    }
    counter.inc(labels, by);
  }

  /** One observation of a histogram (`_bucket`, `_sum`, `_count` series). */
  observe(name: string, value: number, labels: Labels = {}): void {
    let histogram = this.histograms.get(name);
    if (!histogram) {
      histogram = new Histogram({
        name,
        help: this.help[name] ?? name,
        labelNames: Object.keys(labels),
        buckets: jobBuckets,
        registers: [this.registry],
      });
      this.histograms.set(name, histogram);
    }
    histogram.observe(labels, value);
  }

  /** A gauge family read at scrape time (e.g. jobs by state from BullMQ). */
  gauge(name: string, read: () => Promise<Record<string, number>> | Record<string, number>): void {
    new Gauge({
      name,
      help: this.help[name] ?? name,
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          for (const [state, value] of Object.entries(await read())) this.set({ state }, value);
        } catch {
          // A scrape while Redis is down shows the other metrics without this gauge's values.
        }
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export const metricHelp = {
  kproxy_commands_total: 'Slash commands received, by outcome',
  kproxy_commands_refused_total: 'Slash commands refused, by reason',
  kproxy_jobs_enqueued_total: 'Diagnose jobs enqueued',
  kproxy_jobs_finished_total: 'Diagnose jobs finished, by outcome',
  kproxy_job_duration_seconds: 'Seconds a finished diagnose job took',
  kproxy_slack_retries_total: 'Slack Web API calls retried (rate limits, server errors)',
  kproxy_jobs: 'Diagnose jobs in the queue, by state',
  kproxy_pagerduty_webhooks_total: 'PagerDuty webhook deliveries, by HTTP status answered',
};
