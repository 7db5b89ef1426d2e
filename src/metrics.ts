/** A small Prometheus registry: counters and a summary of job durations, as text exposition. */
type Labels = Readonly<Record<string, string>>;

export class Metrics {
  private readonly counters = new Map<string, Map<string, number>>();
  private readonly help = new Map<string, string>();
  private readonly gauges = new Map<string, () => Promise<Record<string, number>> | Record<string, number>>();

  constructor(help: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(help)) this.help.set(k, v);
  }

  inc(name: string, labels: Labels, by = 1): void {
    const series = this.counters.get(name) ?? new Map<string, number>();
    const key = Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',');
    series.set(key, (series.get(key) ?? 0) + by);
    this.counters.set(name, series);
  }

  /** A gauge family read at scrape time (e.g. jobs by state from BullMQ). */
  gauge(name: string, read: () => Promise<Record<string, number>> | Record<string, number>): void {
    this.gauges.set(name, read);
  }

  async text(): Promise<string> {
    const lines: string[] = [];
    for (const [name, series] of this.counters) {
      if (this.help.has(name)) lines.push(`# HELP ${name} ${this.help.get(name)}`);
      lines.push(`# TYPE ${name} counter`);
      for (const [labels, value] of series) lines.push(`${name}${labels ? `{${labels}}` : ''} ${value}`);
    }
    for (const [name, read] of this.gauges) {
      if (this.help.has(name)) lines.push(`# HELP ${name} ${this.help.get(name)}`);
      lines.push(`# TYPE ${name} gauge`);
      try {
        for (const [state, value] of Object.entries(await read()))
          lines.push(`${name}{state="${state}"} ${value}`);
      } catch {
        // A scrape while Redis is down shows the counters without the gauges.
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

export const metricHelp = {
  kproxy_commands_total: 'Slash commands received, by outcome',
  kproxy_commands_refused_total: 'Slash commands refused, by reason',
  kproxy_jobs_enqueued_total: 'Diagnose jobs enqueued',
  kproxy_jobs_finished_total: 'Diagnose jobs finished, by outcome',
  kproxy_job_duration_seconds_sum: 'Total seconds spent in finished diagnose jobs',
  kproxy_slack_retries_total: 'Slack Web API calls retried (rate limits, server errors)',
  kproxy_jobs: 'Diagnose jobs in the queue, by state',
  kproxy_pagerduty_webhooks_total: 'PagerDuty webhook deliveries, by HTTP status answered',
};
