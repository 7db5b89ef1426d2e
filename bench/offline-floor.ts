/**
 * The floor of an offline diagnosis, as a whole process: read and JSON.parse only the
 * files a diagnosis of the bundle's target needs (its manifest, version, node list, the
 * target namespace's Service, slices, pods, policies and events, kube-system's lists, the
 * events of default), and read the target node's captures and its kube-proxy pod's logs.
 * Nothing is validated or diagnosed. Run by plain `node` (type stripping, no tsx, no
 * imports from src/) so it pays only Node's own start-up, like `node dist/cli/main.js`.
 *
 * usage: node bench/offline-floor.ts BUNDLE_DIR   (prints {"files":…,"bytes":…})
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface Manifest {
  target?: { namespace?: string | null; node?: string | null };
}
interface PodList {
  items?: { metadata?: { name?: string; labels?: Record<string, string> }; spec?: { nodeName?: string } }[];
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/offline-floor.ts BUNDLE_DIR');
let files = 0;
let bytes = 0;

async function text(rel: string): Promise<string | undefined> {
  try {
    const buffer = await readFile(path.join(dir as string, rel));
    files++;
    bytes += buffer.length;
    return buffer.toString('utf8');
  } catch {
    return undefined;
  }
}

async function json(rel: string): Promise<unknown> {
  const t = await text(rel);
  return t === undefined ? undefined : JSON.parse(t);
}

const manifest = (await json('bundle.json')) as Manifest;
const ns = manifest.target?.namespace;
const node = manifest.target?.node;
const perNamespace = ['services', 'endpointslices', 'pods', 'networkpolicies', 'events'];
const kubeSystem = [
  'pods',
  'daemonsets',
  'configmaps',
  'services',
  'endpointslices',
  'deployments',
  'events',
];
const [, , ...lists] = await Promise.all([
  json('version.json'),
  json('nodes.json'),
  ...kubeSystem.map((r) => json(`namespaces/kube-system/${r}.json`)),
  ...(ns ? perNamespace.map((r) => json(`namespaces/${ns}/${r}.json`)) : []),
  json('namespaces/default/events.json'),
]);
if (node) {
  const systemPods = lists[0] as PodList | undefined;
  const kubeProxy = (systemPods?.items ?? []).filter(
    (p) => p.spec?.nodeName === node && p.metadata?.labels?.['k8s-app'] === 'kube-proxy',
  );
  const captures = await readdir(path.join(dir, 'nodes', node)).catch(() => [] as string[]);
  await Promise.all([
    ...captures.map((f) => text(`nodes/${node}/${f}`)),
    ...kubeProxy.flatMap((p) => [
      text(`logs/kube-system/${p.metadata?.name}/kube-proxy.log`),
      text(`logs/kube-system/${p.metadata?.name}/kube-proxy.previous.log`),
    ]),
  ]);
}
console.log(JSON.stringify({ files, bytes }));
