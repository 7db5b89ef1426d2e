/**
 * A private redis-server (Debian's) on loopback, for the test run, the tests that restart
 * Redis, and the benchmarks. Resolves once it answers PING.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGTERM, and wait until it has exited (an AOF server has written its file by then). */
  stop(): Promise<void>;
}

const startTimeoutMs = 60_000;

/** `args` follow `--port --bind --save ""`; by default no persistence at all. */
export async function startRedisServer(
  options: { port?: number; args?: readonly string[] } = {},
): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      ...(options.args ?? ['--appendonly', 'no']),
    ],
    { stdio: 'ignore' },
  );
  let spawnError: NodeJS.ErrnoException | undefined;
  // Without this listener a missing binary is an unhandled 'error' event (spawn ENOENT).
  child.once('error', (error: NodeJS.ErrnoException) => {
    spawnError = error;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    const ok = await probe
      .connect()
      .then(() => probe.ping())
      .then(
        () => true,
        () => false,
      );
    probe.disconnect();
    if (ok) break;
    if (spawnError?.code === 'ENOENT')
      throw new Error(
        'redis-server is not on PATH: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)',
      );
    if (Date.now() - started > startTimeoutMs)
      throw new Error('redis-server did not start (is it installed? .ci/run installs it)');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Empties the test run's Redis (each test starts from nothing). */
export async function flushRedis(url: string): Promise<void> {
  const redis = new Redis(url);
  await redis.flushdb();
  await redis.quit();
}

/** The names of the commands `redis` sends from now on (how many round trips a step takes). */
export function recordCommands(redis: Redis): string[] {
  const sent: string[] = [];
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Parameters<typeof send>[0]) => {
    sent.push(command.name);
    return send(command);
  }) as typeof redis.sendCommand;
  return sent;
}
