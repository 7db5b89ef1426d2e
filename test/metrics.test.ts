/**
 * kproxy's /metrics (prom-client), read back with the project's own Prometheus text parser
 * (the one that reads kube-proxy's metrics): counters with their label values intact, the
 * job duration histogram, gauges read at scrape time, and the runtime metrics.
 */
import { describe, expect, it } from 'vitest';
import { parsePrometheus } from '../src/cluster/parse/prometheus.js';
import { Metrics, metricHelp } from '../src/metrics.js';

describe('Metrics', () => {
  it('exposes counters, the job duration histogram, scrape-time gauges and event-loop metrics', async () => {
    const metrics = new Metrics(metricHelp);
    metrics.inc('kproxy_commands_total', { outcome: 'diagnose' });
    metrics.inc('kproxy_commands_total', { outcome: 'diagnose' });
    // A label value with a quote and a backslash is escaped, not altered.
    metrics.inc('kproxy_slack_retries_total', { method: 'chat."post"\\Message' });
    for (const seconds of [0.3, 4, 75]) metrics.observe('kproxy_job_duration_seconds', seconds);
    metrics.gauge('kproxy_jobs', () => ({ waiting: 2, active: 1 }));
    const text = await metrics.text();
    expect(text).toContain('# TYPE kproxy_job_duration_seconds histogram');
    expect(text).toContain('# HELP kproxy_commands_total Slash commands received, by outcome');
    const parsed = parsePrometheus(text);
    expect(parsed.sum('kproxy_commands_total', { outcome: 'diagnose' })).toBe(2);
    expect(parsed.samples('kproxy_slack_retries_total')[0]?.labels.method).toBe('chat."post"\\Message');
    expect(parsed.sum('kproxy_job_duration_seconds_count')).toBe(3);
    expect(parsed.sum('kproxy_job_duration_seconds_sum')).toBeCloseTo(79.3);
    expect(parsed.sum('kproxy_job_duration_seconds_bucket', { le: '5' })).toBe(2);
    expect(parsed.sum('kproxy_jobs', { state: 'waiting' })).toBe(2);
    for (const runtime of [
      'nodejs_eventloop_lag_seconds',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
    ])
      expect(parsed.has(runtime), runtime).toBe(true);
  });

  it('a gauge whose source is down leaves the other metrics in the scrape', async () => {
    const metrics = new Metrics(metricHelp, { runtime: false });
    metrics.inc('kproxy_jobs_enqueued_total', {});
    metrics.gauge('kproxy_jobs', () => Promise.reject(new Error('redis down')));
    const parsed = parsePrometheus(await metrics.text());
    expect(parsed.sum('kproxy_jobs_enqueued_total')).toBe(1);
    expect(parsed.has('kproxy_jobs')).toBe(false);
  });
});
