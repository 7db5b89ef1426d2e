/**
 * KubeHttp's concurrency bound (p-limit): never more requests in flight at the API server
 * than configured, also when finished requests start new ones at once (the case where the
 * hand-written semaphore could let one more through); and its cancellation: the signal of a
 * diagnosis's deadline aborts the requests in flight at the server, not only the wait.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeHttp } from '../src/cluster/live/kube-http.js';
import { waitFor } from './helpers/stack.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function countingServer(hold = false) {
  const seen = { inFlight: 0, max: 0, total: 0, closedEarly: 0 };
  const server = createServer((req, res) => {
    if (hold) {
      // Never answers: only the client closing the connection ends the request.
      seen.total++;
      req.socket.once('close', () => seen.closedEarly++);
      return;
    }
    seen.inFlight++;
    seen.total++;
    seen.max = Math.max(seen.max, seen.inFlight);
    // Uneven latencies, so completions and new arrivals interleave.
    setTimeout(
      () => {
        seen.inFlight--;
        res.setHeader('content-type', 'application/json');
        res.end('{"kind":"Status"}');
      },
      1 + (seen.total % 7) * 3,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // Plain HTTP on loopback: client-node allows it only with skipTLSVerify.
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return { seen, kc };
}

describe('KubeHttp concurrency', () => {
  it('keeps at most `concurrency` requests in flight, and uses all of them', async () => {
    const { seen, kc } = await countingServer();
    const http = new KubeHttp(kc, { concurrency: 3, timeoutMs: 10_000 });
    const call = { verb: 'get', resource: 'pods' };
    // 6 chains of 10 requests each: every completion immediately queues the next request.
    const chain = async () => {
      for (let i = 0; i < 10; i++)
        expect(await http.getJson('/api/v1/pods', {}, call)).toMatchObject({ ok: true });
    };
    await Promise.all(Array.from({ length: 6 }, chain));
    expect(seen.total).toBe(60);
    expect(seen.max).toBe(3);
  });
});

describe('KubeHttp cancellation', () => {
  it('the signal aborts requests in flight: they end at once, and the API server sees them closed', async () => {
    const { seen, kc } = await countingServer(true);
    const cancel = new AbortController();
    const http = new KubeHttp(kc, { timeoutMs: 60_000, signal: cancel.signal });
    const call = { verb: 'list', resource: 'pods' };
    const pending = Promise.all([1, 2, 3].map(() => http.getJson('/api/v1/pods', {}, call)));
    await waitFor('three requests at the server', () => seen.total === 3);
    cancel.abort(new DOMException('the diagnosis took too long', 'TimeoutError'));
    const results = await pending;
    expect(results.every((r) => !r.ok && /^timeout: list pods/.test(r.reason))).toBe(true);
    await waitFor('the server sees the connections closed', () => seen.closedEarly === 3);
    // An already-aborted signal sends nothing.
    expect((await http.getJson('/api/v1/pods', {}, call)).ok).toBe(false);
    expect(seen.total).toBe(3);
  });
});
