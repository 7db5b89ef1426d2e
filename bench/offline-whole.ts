/**
 * Only the offline whole-process row of `npm run bench`: `kproxy diagnose --bundle` (the
 * built CLI, dist/bundle/) on the 5,000-node bundle beside its parse-only floor, interleaved
 * (bench/volume.ts offlineVersusFloor), merged into bench/results.json as
 * offline.wholeProcess; every other entry is kept. For re-measuring this row without the
 * live and worker parts, which take minutes.
 *
 * usage: tsx bench/offline-whole.ts   (BENCH_RUNS runs of each, default 5; the bundle is the
 * one `npm run bench` generates in bench/.work/; BENCH_BASELINE=<other checkout>/bin/kproxy.js
 * also runs that build in the same rotation, e.g. main's, for a before/after)
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resultsFile } from './support.js';
import { offlineVersusFloor } from './volume.js';

const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, 'bench', '.work', 'large-5000n-8p-10000s');
const runs = Number(process.env.BENCH_RUNS ?? 5);

try {
  await access(path.join(bundle, '.complete.json'));
} catch {
  process.stderr.write(`offline-whole: ${bundle} is not generated yet: run \`npm run bench\` once\n`);
  process.exit(2);
}
const loadBefore = os.loadavg()[0] ?? 0;
const whole = await offlineVersusFloor(bundle, runs, process.env.BENCH_BASELINE);
const results = JSON.parse(await readFile(resultsFile, 'utf8').catch(() => '{}')) as {
  offline?: Record<string, unknown>;
};
const loadAverage = [loadBefore, os.loadavg()[0] ?? 0].map((l) => Math.round(l * 10) / 10);
results.offline = {
  ...results.offline,
  wholeProcess: { ...whole, date: new Date().toISOString(), loadAverage },
};
await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);

console.log('| whole process | median CPU ms | median wall ms | max wall ms |');
console.log('|---|---|---|---|');
console.log(
  `| kproxy | ${whole.kproxy.medianCpuMs} | ${whole.kproxy.medianWallMs} | ${whole.kproxy.maxWallMs} |`,
);
console.log(
  `| floor (${whole.floorReads.files} files, ${whole.floorReads.mebibytes} MiB) | ${whole.floor.medianCpuMs} | ${whole.floor.medianWallMs} | ${whole.floor.maxWallMs} |`,
);
if (whole.baseline) {
  const b = whole.baseline;
  console.log(`| baseline (${b.bin}) | ${b.medianCpuMs} | ${b.medianWallMs} | ${b.maxWallMs} |`);
}
console.log(`| ratio | ${whole.ratioCpu}× | ${whole.ratioWall}× | |`);
console.log(`\n${runs} runs each, load average ${loadAverage.join(' → ')} (1 min, before → after)`);
