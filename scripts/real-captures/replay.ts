/**
 * Replays kube-proxy rule dumps through the real netfilter tools and returns what they
 * print back: each dump is loaded into a fresh network namespace (`ip netns add`) with
 * the real `iptables-restore` / `ip6tables-restore` / `nft -f`, read back with the real
 * `iptables-save` / `ip6tables-save` / `nft list ruleset`, and the namespace is deleted,
 * even on failure. Needs root (CAP_NET_ADMIN) and Debian's iptables and nftables.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Input kinds by file suffix, and the capture file of the bundle format each produces. */
export const dumpKinds = {
  '.iptables-restore': { load: 'iptables-restore', save: ['iptables-save'], capture: 'iptables-save.txt' },
  '.ip6tables-restore': {
    load: 'ip6tables-restore',
    save: ['ip6tables-save'],
    capture: 'ip6tables-save.txt',
  },
  '.nft': { load: 'nft', save: ['nft', 'list', 'ruleset'], capture: 'nft.txt' },
} as const;

export type DumpKind = keyof typeof dumpKinds;

export interface Dump {
  readonly kind: DumpKind;
  readonly text: string;
}

/** Why replaying is impossible here (not root, no netns, a tool missing), or undefined. */
export async function replayUnavailable(): Promise<string | undefined> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'needs root to create a network namespace (ip netns add)';
  for (const tool of ['ip', 'iptables-restore', 'ip6tables-restore', 'nft']) {
    try {
      await run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed (Debian packages iproute2, iptables, nftables)`;
    }
  }
  const name = `kproxy-probe-${randomBytes(4).toString('hex')}`;
  try {
    await run('ip', ['netns', 'add', name]);
  } catch (error) {
    return `ip netns add is not permitted here: ${firstLine(error)}`;
  }
  await run('ip', ['netns', 'delete', name]).catch(() => undefined);
  return undefined;
}

/**
 * Loads every dump into one fresh namespace and returns the captures by file name
 * (`iptables-save.txt`, `ip6tables-save.txt`, `nft.txt`). A dump the real tool refuses
 * is an error naming the tool and its message.
 */
export async function replay(dumps: readonly Dump[]): Promise<Map<string, string>> {
  const ns = `kproxy-replay-${randomBytes(4).toString('hex')}`;
  await run('ip', ['netns', 'add', ns]);
  try {
    for (const dump of dumps) {
      const kind = dumpKinds[dump.kind];
      const args = kind.load === 'nft' ? ['-f', '-'] : [];
      await inNamespace(ns, kind.load, args, dump.text);
    }
    const out = new Map<string, string>();
    // One read-back per capture file, however many dumps fed it (an `ip` and an `ip6` nft table).
    for (const kind of new Set(dumps.map((d) => dumpKinds[d.kind]))) {
      const [tool, ...args] = kind.save;
      out.set(kind.capture, await inNamespace(ns, tool as string, args));
    }
    return out;
  } finally {
    await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
  }
}

async function inNamespace(ns: string, tool: string, args: string[], stdin?: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile(
      'ip',
      ['netns', 'exec', ns, tool, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${tool} ${args.join(' ')}: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}

function firstLine(error: unknown): string {
  const e = error as { stderr?: string; message?: string };
  return (e.stderr || e.message || String(error)).trim().split('\n')[0] ?? '';
}
