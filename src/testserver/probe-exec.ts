/**
 * The probe pod's exec on the test API server, answered from the bundle's probe result
 * (`probe/<node>/matrix.txt`, what the script printed where it ran), strictly: only the
 * probe script itself (src/cluster/probe/script.ts, byte for byte), only in a pod in the
 * namespace and with the client identity (`KPROXY_AS`) the recorded probe ran with, and only
 * for exactly the paths it tried, in that order. Anything else is a non-zero exit naming
 * what differs: the bundle cannot say what another probe would have seen.
 */
import type { BundleDir } from '../cluster/bundle/files.js';
import { probeFile } from '../cluster/bundle/probe-files.js';
import { ProbeFormatError, parseProbeOutput } from '../cluster/probe/matrix.js';
import { probeArgs } from '../cluster/probe/script.js';
import type { CommandOutput } from './exec-stream.js';

type Json = Record<string, unknown>;

const fail = (stderr: string): CommandOutput => ({ ok: false, stderr, code: 1 });

/** The probe's output, or undefined when the command is not the probe's. */
export async function probeOutput(
  files: BundleDir,
  node: string,
  namespace: string,
  pod: Json | undefined,
  command: string[],
): Promise<CommandOutput | undefined> {
  const args = probeArgs(command);
  if (!args) return undefined;
  const text = await files.readText(probeFile(node));
  if (text.state === 'missing')
    return fail(`kproxy-probe: not collected in this bundle (${probeFile(node)})`);
  let recorded: ReturnType<typeof parseProbeOutput>;
  try {
    recorded = parseProbeOutput(text.value);
  } catch (error) {
    if (error instanceof ProbeFormatError)
      return fail(`kproxy-probe: ${probeFile(node)} is unreadable: ${error.message}`);
    throw error;
  }
  if (recorded.namespace !== namespace)
    return fail(
      `kproxy-probe: the bundle's probe ran in namespace ${recorded.namespace}, this pod is in ${namespace}`,
    );
  const as = envOf(pod, 'KPROXY_AS') ?? '-';
  if ((recorded.as ?? '-') !== as)
    return fail(`kproxy-probe: the bundle's probe ran as ${recorded.as ?? '-'}, this pod as ${as}`);
  const tried = recorded.rows.map((r) => `${r.kind}=${r.target}`).join(' ');
  const asked = args.map((a) => `${a.kind}=${a.target}`).join(' ');
  if (tried !== asked) return fail(`kproxy-probe: the bundle's probe tried "${tried}", not "${asked}"`);
  return { ok: true, stdout: text.value };
}

function envOf(pod: Json | undefined, name: string): string | undefined {
  const containers = (
    pod?.spec as { containers?: { env?: { name: string; value?: string }[] }[] } | undefined
  )?.containers;
  return containers?.[0]?.env?.find((e) => e.name === name)?.value;
}
