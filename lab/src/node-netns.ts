// A lab node's own "host": a network namespace with one veth to the host, and the files a
// node has for itself (its /run, where iptables keeps /run/xtables.lock).
//
// - Address: the apiserver's node proxy and kubelet calls (logs, exec, :10256/healthz) dial
//   the node's InternalIP, and refuse loopback and link-local ones (pkg/proxy/util
//   IsProxyableIP), so each node gets 10.251.S.2/30 on its eth0, the host 10.251.S.1 on the
//   other end. The veth's host-side name (kplS) is the slot's reservation: the kernel
//   refuses a second `ip link add` of a name, so labs started at the same time on one
//   machine never take the same addresses. Nothing is routed beyond the pair.
// - iptables: every node is an iptables-legacy node (bin/ links iptables* to the -legacy
//   tools and is first on PATH for kube-proxy and for exec): only the legacy backend takes
//   the xtables lock (iptables-nft ignores it), and kube-proxy's lock contention is one of
//   the faults the suite produces.
// - /run: `ip netns exec` gives each process a mount namespace of its own but keeps the
//   host's /run, so every namespace would share one /run/xtables.lock; the node's
//   processes mount run/ on /run instead (see nodeShell).
import { execFile } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NodeHost {
  name: string;
  /** The node's InternalIP (its eth0 in the namespace). */
  ip: string;
  netns: string;
  /** The node's directory in the lab's directory. */
  dir: string;
  /** Mounted on /run for the node's processes: holds its xtables.lock. */
  runDir: string;
  /** iptables* -> the -legacy tools; first on PATH on the node. */
  binDir: string;
  /** PATH for the node's processes. */
  path: string;
  remove(): Promise<void>;
}

const legacyTools = ['iptables', 'ip6tables'].flatMap((t) =>
  ['', '-save', '-restore'].map((s) => [`${t}${s}`, `/usr/sbin/${t}-legacy${s}`] as const),
);

/** Host side of the veth: `kplS` for slot S; 16384 slots in 10.251.0.0/16. */
async function addVeth(netns: string): Promise<{ slot: number; hostIf: string }> {
  const first = Math.floor(Math.random() * 16_000);
  for (let i = 0; i < 200; i++) {
    const slot = (first + i) % 16_384;
    const hostIf = `kpl${slot}`;
    try {
      await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      return { slot, hostIf };
    } catch (err) {
      if (!/File exists/.test(String((err as { stderr?: string }).stderr))) throw err;
    }
  }
  throw new Error('lab: no free veth slot kpl0..kpl16383 (stale ones: ip -o link | grep kpl)');
}

const slotAddress = (slot: number, host: 1 | 2) => `10.251.${slot >> 6}.${((slot & 63) << 2) + host}`;

export async function createNodeHost(labDir: string, name: string): Promise<NodeHost> {
  const netns = `kproxy-lab-${process.pid}-${name}`;
  const dir = path.join(labDir, 'nodes', name);
  const runDir = path.join(dir, 'run');
  const binDir = path.join(dir, 'bin');
  await mkdir(runDir, { recursive: true });
  await mkdir(binDir, { recursive: true });
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  await writeFile(path.join(runDir, 'xtables.lock'), '');
  for (const [link, target] of legacyTools) await symlink(target, path.join(binDir, link));
  await run('ip', ['netns', 'add', netns]);
  let hostIf: string | undefined;
  const remove = async () => {
    if (hostIf) await run('ip', ['link', 'delete', hostIf]).catch(() => undefined);
    await run('ip', ['netns', 'delete', netns]).catch(() => undefined);
  };
  try {
    const veth = await addVeth(netns);
    hostIf = veth.hostIf;
    const ip = slotAddress(veth.slot, 2);
    await run('ip', ['addr', 'add', `${slotAddress(veth.slot, 1)}/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await run('ip', ['-n', netns, 'addr', 'add', `${ip}/30`, 'dev', 'eth0']);
    await run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const nodePath = `${binDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
    return { name, ip, netns, dir, runDir, binDir, path: nodePath, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * `ip netns exec NETNS sh -c SCRIPT`: runs `command` in the node's network namespace with
 * its own /run mounted first (ip netns exec makes the mount namespace private to the
 * process, so the mount is not seen outside). `setup` adds shell lines before the exec.
 */
export function nodeShell(node: NodeHost, command: string[], setup: string[] = []): string[] {
  const script = ['set -e', `mount --bind ${quote(node.runDir)} /run`, ...setup, 'exec "$@"'].join('\n');
  return ['netns', 'exec', node.netns, 'sh', '-c', script, 'sh', ...command];
}

export const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
