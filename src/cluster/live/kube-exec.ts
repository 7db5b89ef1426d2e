/**
 * Pod exec through @kubernetes/client-node's WebSocket client, held to what a real API
 * server guarantees:
 * - The subprotocol must be `v5.channel.k8s.io` or `v4.channel.k8s.io` (client-node offers
 *   v5 first; apimachinery util/remotecommand constants.go): only those end a command with
 *   a JSON Status on channel 3. A stream that closes without that Status is a failure, never
 *   a result (the output may be cut short).
 * - A refused upgrade (403/404) is read with its Status body (a `ws` 'unexpected-response'
 *   listener on the socket client-node's handler creates), so the reason names the verb
 *   the server denied: a WebSocket upgrade is a GET, authorized as `get pods/exec`, and from
 *   Kubernetes 1.35 also as `create` (feature AuthorizePodWebsocketUpgradeCreatePermission,
 *   kubernetes/kubernetes PR #134577).
 * - Its own timeout, after which the socket is terminated, not left open.
 */
import { Writable } from 'node:stream';
import { Exec, type KubeConfig } from '@kubernetes/client-node';
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import WebSocket from 'ws';
import { explain, refusal } from './kube-errors.js';
import type { ApiCall, Fetched } from './kube-http.js';

export const execProtocols: readonly string[] = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export interface ExecTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
}

interface ExecStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export async function execInPod(
  kc: KubeConfig,
  target: ExecTarget,
  call: ApiCall,
  options: { timeoutMs: number; token?: string; signal?: AbortSignal },
): Promise<Fetched<string>> {
  const out = { stdout: '', stderr: '' };
  const sockets = socketFactory(options.token);
  const what = `exec ${target.command.join(' ')} in ${target.namespace}/${target.pod}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    const status = await new Promise<ExecStatus>((resolve, reject) => {
      const stop = (why: Error) => {
        sockets.socket?.terminate();
        reject(why);
      };
      timer = setTimeout(() => stop(new Error('timeout')), options.timeoutMs);
      // The client's own cancellation (a diagnosis deadline) ends the stream too.
      if (options.signal?.aborted) return stop(new Error('aborted'));
      options.signal?.addEventListener('abort', () => stop(new Error('aborted')), { once: true });
      runExec(kc, target, sockets.factory, out, resolve, reject);
    });
    if (status.status === 'Success') return { ok: true, value: out.stdout };
    const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
    const why = (out.stderr || status.message || status.reason || 'no message').trim().split('\n')[0];
    return { ok: false, status: 0, reason: `${what} failed${code ? ` (exit ${code})` : ''}: ${why}` };
  } catch (error) {
    return {
      ok: false,
      status: sockets.refused?.status ?? 0,
      reason: `${what}: ${failure(error, sockets.refused, call)}`,
    };
  } finally {
    clearTimeout(timer);
    if (sockets.socket && sockets.socket.readyState !== WebSocket.CLOSED) sockets.socket.terminate();
  }
}

/** client-node's exec, resolved by the status channel and failed by a close without it. */
function runExec(
  kc: KubeConfig,
  target: ExecTarget,
  factory: ConstructorParameters<typeof WebSocketHandler>[1],
  out: { stdout: string; stderr: string },
  resolve: (status: ExecStatus) => void,
  reject: (error: Error) => void,
): void {
  new Exec(kc, new WebSocketHandler(kc, factory))
    .exec(
      target.namespace,
      target.pod,
      target.container,
      [...target.command],
      sink((s) => {
        out.stdout += s;
      }),
      sink((s) => {
        out.stderr += s;
      }),
      null,
      false,
      (s) => resolve(s as ExecStatus),
    )
    .then((ws) => {
      if (!execProtocols.includes(ws.protocol)) {
        ws.terminate();
        reject(new Error(`the API server negotiated "${ws.protocol}", not v5/v4.channel.k8s.io`));
        return;
      }
      // The status callback runs before close when the server sent one.
      ws.on('close', () => reject(new Error('closed')));
    }, reject);
}

/**
 * The socket client-node's handler opens, with the current token, keeping a refused
 * upgrade's status and body ('unexpected-response': ws then leaves ending it to us).
 */
function socketFactory(token: string | undefined) {
  const state: {
    socket?: WebSocket;
    refused?: { status: number; body: string };
    factory: (uri: string, protocols: string[], opts: WebSocket.ClientOptions) => WebSocket;
  } = {
    factory: (uri, protocols, opts) => {
      const headers = { ...(opts.headers ?? {}) };
      if (token) headers.Authorization = `Bearer ${token}`;
      const ws = new WebSocket(uri, protocols, { ...opts, headers });
      state.socket = ws;
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => {
          state.refused = { status: res.statusCode ?? 0, body };
          ws.terminate();
        });
      });
      return ws;
    },
  };
  return state;
}

function failure(
  error: unknown,
  refused: { status: number; body: string } | undefined,
  call: ApiCall,
): string {
  if (refused) return refusal(refused.status, refused.body, call);
  const message = (error as Error)?.message;
  if (message === 'closed')
    return 'the stream closed without the exit status (output may be cut short); not used';
  if (message?.startsWith('the API server negotiated')) return message;
  if (message === 'aborted') return "cancelled (the job's deadline or a shutdown); the stream was closed";
  return explain(error, call);
}

function sink(append: (s: string) => void): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      append(String(chunk));
      done();
    },
  });
}
