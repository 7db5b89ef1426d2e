/** Issue 12 item 10: no noise in the timeline, no warning for what Kubernetes does by design. */
import { afterEach, describe, expect, it } from 'vitest';
import { BundleCopies, diagnoseDir, findingOf, klogAt } from './helpers/edit-bundle.js';

const copies = new BundleCopies();
afterEach(() => copies.cleanup());

const at = (secondsAgo: number) => new Date(Date.parse('2026-11-22T10:00:00Z') - secondsAgo * 1000);

describe('timeline', () => {
  it('ignores start-up flags and sysctls that merely contain "timeout", and days-old start-up lines', async () => {
    const dir = await copies.edit('healthy', (b) =>
      b.append('logs/kube-system/kube-proxy-k2v9d/kube-proxy.log', [
        // cmd/kube-proxy prints its flags at start-up (component-base cliflag.PrintFlags: `FLAG: --%s=%q`).
        `${klogAt('I', at(600), 'flags.go:64')} FLAG: --ipvs-tcp-timeout="0s"`,
        `${klogAt('I', at(600), 'flags.go:64')} FLAG: --conntrack-tcp-timeout-close-wait="1h0m0s"`,
        `${klogAt('I', at(599), 'conntrack.go:119')} "Set sysctl" entry="net/netfilter/nf_conntrack_tcp_timeout_established" value=86400`,
        `${klogAt('E', at(120), 'reflector.go:150')} k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.Service: failed to list *v1.Service: Get "https://10.100.0.1:443/api/v1/services?limit=500&resourceVersion=0": dial tcp 10.100.0.1:443: i/o timeout`,
      ]),
    );
    const timeline = findingOf(await diagnoseDir(dir), 'timeline.events').evidence.join('\n');
    expect(timeline).not.toContain('FLAG:');
    expect(timeline).not.toContain('Set sysctl');
    expect(timeline).toContain('i/o timeout');
    // kube-proxy started two days before the incident: its start-up lines are not events of it.
    expect(timeline).not.toContain('"Version info"');
    expect(timeline).not.toMatch(/^2026-11-20T/m);
  });
});

describe('traffic policy', () => {
  it('a LoadBalancer with externalTrafficPolicy: Local and endpoints on some nodes only is normal', async () => {
    const dir = await copies.edit('etp-local-no-local-endpoints', (b) =>
      b.json<{ target: { node?: string } }>('bundle.json', (doc) => {
        delete doc.target.node;
      }),
    );
    const d = await diagnoseDir(dir);
    const tp = findingOf(d, 'service.traffic-policy');
    expect(tp.status).toBe('pass');
    expect(tp.summary).toMatch(/health check \(healthCheckNodePort \d+\) keeps traffic off them/);
    expect(d.findings.filter((f) => f.status === 'warn').map((f) => f.check)).not.toContain(
      'service.traffic-policy',
    );
  });
});
