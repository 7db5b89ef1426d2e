// How a process in a node's network namespace reaches the apiserver, which listens on the
// host's 127.0.0.1 only: two forwarders (forward.mjs), 127.0.0.1:6443 in the namespace ->
// a unix socket in the lab's directory (a path: not bound to any network namespace) ->
// the host's 127.0.0.1:APIPORT. TLS passes through untouched.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { type Component, startComponent, waitFor } from './processes.js';

const forwardScript = path.join(import.meta.dirname, 'forward.mjs');

/** Starts both forwarders (host side first) and returns them in start order. */
export async function startApiForwarders(
  dir: string,
  netns: string,
  label: string,
  apiPort: number,
): Promise<Component[]> {
  const socket = path.join(dir, `${netns}.apiserver.sock`);
  const hostSide = startComponent(dir, `forward-host-${label}`, process.execPath, [
    forwardScript,
    `unix:${socket}`,
    `tcp:127.0.0.1:${apiPort}`,
  ]);
  try {
    await waitFor(
      `the forwarder's socket ${socket}`,
      async () => await access(socket).then(() => true),
      hostSide,
    );
  } catch (err) {
    hostSide.child.kill('SIGKILL');
    throw err;
  }
  const nsSide = startComponent(dir, `forward-netns-${label}`, 'ip', [
    'netns',
    'exec',
    netns,
    process.execPath,
    forwardScript,
    'tcp:127.0.0.1:6443',
    `unix:${socket}`,
  ]);
  return [hostSide, nsSide];
}
