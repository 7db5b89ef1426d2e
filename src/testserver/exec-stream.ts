/**
 * Pod exec on the test API server, over the Kubernetes WebSocket streaming protocol as the
 * real API server speaks it:
 * - Authorization: the upgrade is a GET, so the request's verb is `get` (apiserver
 *   endpoints/request/requestinfo.go); with `websocketCreateCheck` (Kubernetes 1.35+,
 *   feature AuthorizePodWebsocketUpgradeCreatePermission, beta and on by default,
 *   kubernetes/kubernetes PR #134577) `create pods/exec` is required as well. A refusal is
 *   an HTTP 403 with a `kind: Status` body, before any upgrade.
 * - Subprotocol: the first of the client's offers the server supports
 *   (apimachinery util/httpstream/wsstream/conn.go `handshake`), from v5.channel.k8s.io and
 *   v4.channel.k8s.io (util/remotecommand/constants.go); an offer of neither is refused.
 * - Frames: channel 1 stdout, 2 stderr, then 3 a JSON Status (`Success`, or `Failure` with
 *   reason `NonZeroExitCode` and the exit code as an `ExitCode` cause), then a normal close
 *   (1000: kubectl's gorilla/websocket reader reports a close without a code, 1005, as an
 *   error).
 * - The `truncate` fault sends half the output and closes without the Status, as a
 *   connection cut mid-stream does.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { BundleDir } from '../cluster/bundle/files.js';
import { conntrackCatCommand, debugPodCaptures } from '../cluster/live/node-captures.js';
import { parseSysctl } from '../cluster/parse/node-text.js';
import { endpointFile } from './kube-proxy-routes.js';
import type { HttpError } from './status.js';

export const serverProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export type CommandOutput = { ok: true; stdout: string } | { ok: false; stderr: string; code: number };

export function execServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => {
      for (const p of offered) if ((serverProtocols as readonly string[]).includes(p)) return p;
      return false;
    },
  });
}

/** Refuses an upgrade the way the API server does: status line, then the Status body. */
export function refuseUpgrade(socket: Socket, error: HttpError): void {
  const body = error.body();
  socket.end(
    `HTTP/1.1 ${error.status} ${error.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A client that offers no protocol the server speaks gets 400 (wsstream conn.go `handshake`). */
export function offersSupportedProtocol(req: IncomingMessage): boolean {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  return offered.some((p) => (serverProtocols as readonly string[]).includes(p));
}

const frame = (channel: number, data: string | Buffer) =>
  Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);

/** Streams a command's result; returns the bytes of stdout sent. */
export function streamResult(ws: WebSocket, output: CommandOutput, truncate: boolean): number {
  if (output.ok) {
    const data = Buffer.from(output.stdout);
    const end = truncate ? Math.floor(data.length / 2) : data.length;
    for (let i = 0; i < end; i += 64 * 1024)
      ws.send(frame(1, data.subarray(i, Math.min(end, i + 64 * 1024))));
    if (truncate) {
      ws.terminate();
      return end;
    }
    ws.send(frame(3, JSON.stringify({ metadata: {}, status: 'Success' })));
    ws.close(1000);
    return end;
  }
  ws.send(frame(2, `${output.stderr}\n`));
  ws.send(
    frame(
      3,
      JSON.stringify({
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: error executing command [${output.stderr}], exit code ${output.code}`,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(output.code) }] },
      }),
    ),
  );
  ws.close(1000);
  return 0;
}

/** One table of `nft list ruleset` (`table ip kube-proxy { … }`), as `nft list table` prints it. */
function nftTable(text: string, family: string): string | undefined {
  const lines = text.split('\n');
  const start = lines.indexOf(`table ${family} kube-proxy {`);
  if (start < 0) return undefined;
  const end = lines.indexOf('}', start);
  return `${lines.slice(start, end < 0 ? lines.length : end + 1).join('\n')}\n`;
}

/** One table of an iptables-save dump, with its header and footer comments, as `-t TABLE` prints it. */
export function iptablesTable(text: string, table: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(`*${table}`);
  if (start < 0) return '';
  let end = lines.indexOf('COMMIT', start);
  if (end < 0) end = lines.length - 1;
  const from = start > 0 && lines[start - 1]?.startsWith('# Generated') ? start - 1 : start;
  const to = lines[end + 1]?.startsWith('# Completed') ? end + 1 : end;
  return `${lines.slice(from, to + 1).join('\n')}\n`;
}

/** Answers a read-only capture command from the node's files in the bundle. */
export async function captureOutput(
  files: BundleDir,
  node: string,
  command: string[],
): Promise<CommandOutput> {
  const line = command.join(' ');
  const fromFile = async (file: string, transform: (t: string) => string = (t) => t) => {
    const text = await files.readText(`nodes/${node}/${file}`);
    return text.state === 'collected'
      ? { ok: true as const, stdout: transform(text.value) }
      : { ok: false as const, stderr: `${command[0]}: not collected in this bundle (${file})`, code: 1 };
  };
  const table = /^(ip6?tables-save) -t (nat|filter)$/.exec(line);
  if (table) return fromFile(`${table[1]}.txt`, (t) => iptablesTable(t, table[2] as string));
  const nft = /^nft list table (ip6?) kube-proxy$/.exec(line);
  if (nft) {
    const text = await files.readText(`nodes/${node}/nft.txt`);
    if (text.state === 'missing')
      return { ok: false, stderr: 'nft: not collected in this bundle (nft.txt)', code: 1 };
    const found = nftTable(text.value, nft[1] as string);
    // What nft 1.0.6 prints for an absent table (checked in a fresh network namespace).
    return found === undefined
      ? {
          ok: false,
          stderr: `Error: No such file or directory\n${line.slice(4)}\n${' '.repeat(line.length - 4 - 'kube-proxy'.length)}^^^^^^^^^^\n`,
          code: 1,
        }
      : { ok: true, stdout: found };
  }
  // The conntrack sysctls read with cat in the kube-proxy pod: cat prints one value a line.
  if (line === conntrackCatCommand.join(' ')) {
    const text = await files.readText(`nodes/${node}/sysctl.txt`);
    const sysctl = text.state === 'collected' ? parseSysctl(text.value) : new Map<string, string>();
    const values = ['net.netfilter.nf_conntrack_count', 'net.netfilter.nf_conntrack_max'].map((k) =>
      sysctl.get(k),
    );
    if (values.every((v) => v !== undefined)) return { ok: true, stdout: `${values.join('\n')}\n` };
    return { ok: false, stderr: 'cat: not collected in this bundle (sysctl.txt)', code: 1 };
  }
  // The debug pod's reads of kube-proxy's endpoints on the host network (any bind address answers there).
  const curl = /^curl -sS --max-time \d+ http:\/\/127\.0\.0\.1:(\d+)\/(\w+)$/.exec(line);
  const curlFile = curl ? endpointFile(curl[1] as string, curl[2] as string) : undefined;
  if (curlFile) return fromFile(curlFile);
  const capture = Object.entries(debugPodCaptures).find(([, cmd]) => cmd.join(' ') === line);
  if (capture) return fromFile(capture[0]);
  return { ok: false, stderr: `${command[0] ?? ''}: command not allowed by the bundle server`, code: 126 };
}
