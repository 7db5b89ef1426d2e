/**
 * The diagnosis threads (issue 16: the diagnosis off the bot's event loop): a live
 * diagnosis against the test API server, run in a worker thread, answers what the same
 * diagnosis on the main thread answers; a usage error keeps its code (the job is not
 * retried); a cancelled job is aborted in its thread, which takes the next job.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { KproxyError } from '../src/errors.js';
import { defaultSourceFor } from '../src/workers/diagnose-worker.js';
import { DiagnosisThreads } from '../src/workers/diagnosis-threads.js';
import { bundlesDir } from './helpers/bundles.js';
import { serve, servedClusterYaml } from './helpers/live.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function served(bundle: string) {
  const api = await serve(path.join(bundlesDir, bundle));
  cleanups.push(() => api.stop());
  const config = parseConfig(servedClusterYaml(api, ['C0INCIDENT1']).join('\n'), 'test.yaml');
  const threads = new DiagnosisThreads(1);
  cleanups.push(() => threads.close());
  return { cluster: config.clusters[0] as (typeof config.clusters)[number], threads };
}

const target = { namespace: 'app', service: 'web-api', node: 'ip-10-0-2-45.ec2.internal' };
const noDeadline = () => new AbortController().signal;

describe('diagnosis threads', () => {
  it('a diagnosis in a thread answers what it answers on the main thread, with its progress', async () => {
    const { cluster, threads } = await served('stale-endpoints');
    const phases: string[] = [];
    const threaded = await threads.run(
      { cluster, target, clusterWide: false, onProgress: (p) => phases.push(p.phase) },
      noDeadline(),
    );
    const inline = await diagnoseSource(await defaultSourceFor(cluster), { target, clusterWide: false });
    expect(threaded.rootCause).toEqual(inline.rootCause);
    expect(threaded.rootCause.category).toBe('stale_endpoints');
    expect(threaded.findings.map((f) => [f.check, f.status])).toEqual(
      inline.findings.map((f) => [f.check, f.status]),
    );
    expect(phases[0]).toBe('Collecting cluster state');
  });

  it('a usage error (a node the cluster does not have) keeps its code across the thread', async () => {
    const { cluster, threads } = await served('healthy');
    const failed = await threads
      .run(
        { cluster, target: { ...target, node: 'ip-1-2-3-4.ec2.internal' }, clusterWide: false },
        noDeadline(),
      )
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(KproxyError);
    expect(failed).toMatchObject({ code: 'usage', message: expect.stringContaining('ip-1-2-3-4') });
  });

  it('a cancelled job rejects at once, its thread aborts it and takes the next job', async () => {
    const { cluster, threads } = await served('healthy');
    const cancel = new AbortController();
    // Cancelled mid-diagnosis: at its first progress message, the thread is busy with it.
    const running = threads.run(
      { cluster, target, clusterWide: false, onProgress: () => cancel.abort(new Error('cancelled')) },
      cancel.signal,
    );
    await expect(running).rejects.toThrow('cancelled');
    const next = await threads.run({ cluster, target, clusterWide: false }, noDeadline());
    expect(next.rootCause.category).toBe('none');
  });

  it.runIf(process.platform === 'linux')(
    'a diagnosis thread runs below the process priority (the acks get the CPU first)',
    async () => {
      const { cluster, threads } = await served('healthy');
      await threads.run({ cluster, target, clusterWide: false }, noDeadline());
      // /proc/self/task/<tid>/stat: the fields after the command name; nice is the 19th field.
      const nices = await Promise.all(
        (await readdir('/proc/self/task')).map(async (tid) => {
          const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
        }),
      );
      const own = Number(
        (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]?.split(' ')[16] ?? Number.NaN,
      );
      expect(nices).toContain(Math.min(19, own + 10));
    },
  );
});
