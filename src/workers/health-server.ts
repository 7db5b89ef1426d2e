/**
 * Probes and metrics on their own listener, apart from anything exposed to Slack or
 * PagerDuty: `/healthz` says the process answers (a Redis outage must not restart it),
 * `/readyz` that its dependencies answer, `/metrics` the Prometheus text. The worker
 * serves it on PORT; the bot on HEALTH_PORT, next to its Slack listener.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthOptions {
  readonly port: number;
  readonly host?: string | undefined;
  /** What is not ready, or undefined when ready. */
  readonly ready: () => Promise<string | undefined>;
  readonly metricsText: () => Promise<string>;
}

export async function startHealthServer(o: HealthOptions): Promise<HealthServer> {
  const server: Server = createServer(
    // Probes are tiny GETs: anything slow is a stalled client, cut short.
    { headersTimeout: 5000, requestTimeout: 5000, connectionsCheckingInterval: 1000 },
    (req, res) => {
      const reply = (status: number, body: string, type = 'text/plain') => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      if (req.method !== 'GET') return reply(405, 'method not allowed\n');
      switch (req.url) {
        case '/healthz':
          return reply(200, 'ok\n');
        case '/readyz':
          void o
            .ready()
            .catch((error: unknown) => errorMessage(error))
            .then((problem) => (problem ? reply(503, `not ready: ${problem}\n`) : reply(200, 'ready\n')));
          return;
        case '/metrics':
          void o.metricsText().then(
            (text) => reply(200, text, 'text/plain; version=0.0.4'),
            (error: unknown) => reply(503, `metrics unavailable: ${errorMessage(error)}\n`),
          );
          return;
        default:
          return reply(404, 'not found\n');
      }
    },
  );
  await new Promise<void>((resolve) => server.listen(o.port, o.host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The worker process: ready while Redis answers and every worker runs. */
export function startWorkerHealth(
  port: number,
  redis: Redis,
  workers: readonly Worker[],
  metricsText: () => Promise<string>,
  host?: string,
): Promise<HealthServer> {
  return startHealthServer({
    port,
    host,
    metricsText,
    ready: async () => {
      const stopped = workers.filter((w) => !w.isRunning()).map((w) => w.name);
      if (stopped.length > 0) return `workers not running: ${stopped.join(', ')}`;
      return redisProblem(redis);
    },
  });
}

export async function redisProblem(redis: Redis): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('redis ping timed out')), 1000);
      }),
    ]);
    return undefined;
  } catch (error) {
    return `redis: ${errorMessage(error)}`;
  } finally {
    clearTimeout(timer);
  }
}
