/** What the benchmarks share: a private redis-server, free ports, percentiles, results.json. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import { type RedisServer, startRedisServer } from '../test/helpers/redis-server.js';

export { freePort };

export const resultsFile = path.resolve(import.meta.dirname, 'results.json');

/** A throwaway redis-server (no persistence: benchmarks measure the path, not the disk). */
export const startRedis = (): Promise<RedisServer> => startRedisServer();

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Merges one benchmark's result into bench/results.json under `key`. */
export async function recordResult(key: string, result: Record<string, unknown>): Promise<void> {
  const existing = JSON.parse(await readFile(resultsFile, 'utf8').catch(() => '{}')) as Record<
    string,
    unknown
  >;
  await writeFile(
    resultsFile,
    `${JSON.stringify({ ...existing, [key]: { date: new Date().toISOString(), ...result } }, null, 2)}\n`,
  );
}

/** Records the result, prints it, stops what the benchmark started, and exits. */
export async function finish(
  key: string,
  result: Record<string, unknown>,
  stops: readonly (() => unknown)[],
): Promise<never> {
  console.log(JSON.stringify(result, null, 2));
  await recordResult(key, result);
  for (const stop of stops) await stop();
  process.exit(0);
}
