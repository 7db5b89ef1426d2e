/**
 * Probes for a worker-only process (the bot serves its own): `/healthz` says the process
 * answers (a Redis outage must not restart workers), `/readyz` that Redis answers and every
 * worker is running, `/metrics` the Prometheus text.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';

export interface WorkerHealth {
  readonly port: number;
  close(): Promise<void>;
}

export async function startWorkerHealth(
  port: number,
  redis: Redis,
  workers: readonly Worker[],
  metricsText: () => Promise<string>,
): Promise<WorkerHealth> {
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, 'method not allowed\n');
    switch (req.url) {
      case '/healthz':
        return reply(200, 'ok\n');
      case '/readyz':
        void readiness(redis, workers)
          .then((problem) => (problem ? reply(503, `not ready: ${problem}\n`) : reply(200, 'ready\n')))
          .catch((error) => reply(503, `not ready: ${errorMessage(error)}\n`));
        return;
      case '/metrics':
        void metricsText()
          .then((text) => reply(200, text, 'text/plain; version=0.0.4'))
          .catch((error) => reply(503, `metrics unavailable: ${errorMessage(error)}\n`));
        return;
      default:
        return reply(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function readiness(redis: Redis, workers: readonly Worker[]): Promise<string | undefined> {
  const stopped = workers.filter((w) => !w.isRunning()).map((w) => w.name);
  if (stopped.length > 0) return `workers not running: ${stopped.join(', ')}`;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('redis ping timed out')), 1000)),
    ]);
    return undefined;
  } catch (error) {
    return `redis: ${errorMessage(error)}`;
  }
}
