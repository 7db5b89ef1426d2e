/**
 * `npm run real-captures [case…]`: replays the kube-proxy rule dumps of
 * scripts/real-captures/dumps/<case>/ through the real iptables-restore / ip6tables-restore /
 * nft in a throw-away network namespace and writes what iptables-save / ip6tables-save /
 * `nft list ruleset` print back to scripts/real-captures/captures/<case>/.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Dump, type DumpKind, dumpKinds, replay, replayUnavailable } from './real-captures/replay.js';

const root = path.resolve(import.meta.dirname, 'real-captures');

async function readDumps(dir: string): Promise<Dump[]> {
  const dumps: Dump[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const kind = (Object.keys(dumpKinds) as DumpKind[]).find((k) => file.endsWith(k));
    if (kind) dumps.push({ kind, text: await readFile(path.join(dir, file), 'utf8') });
  }
  return dumps;
}

const why = await replayUnavailable();
if (why) {
  console.error(`real-captures: ${why}`);
  process.exit(2);
}
const requested = process.argv.slice(2);
const cases = requested.length > 0 ? requested : (await readdir(path.join(root, 'dumps'))).sort();
for (const name of cases) {
  const dumps = await readDumps(path.join(root, 'dumps', name));
  if (dumps.length === 0) {
    console.error(`real-captures: dumps/${name} holds no *.iptables-restore, *.ip6tables-restore or *.nft`);
    process.exit(2);
  }
  const captures = await replay(dumps);
  const out = path.join(root, 'captures', name);
  await mkdir(out, { recursive: true });
  for (const [file, text] of captures) await writeFile(path.join(out, file), text);
  console.log(`${name}: ${[...captures.keys()].join(', ')}`);
}
