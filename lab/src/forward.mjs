// A byte-for-byte TCP/unix-socket forwarder (plain JavaScript: it runs under `ip netns
// exec` with the same Node, without tsx). The lab uses two of them to let a kube-proxy
// inside a node's network namespace reach the apiserver, which listens on the host's
// 127.0.0.1 only: netns 127.0.0.1:PORT -> unix socket (a path: not bound to any network
// namespace) -> host 127.0.0.1:APIPORT. TLS passes through untouched.
//
// Usage: node forward.mjs LISTEN CONNECT   (each tcp:127.0.0.1:PORT or unix:/path)
import net from 'node:net';

function endpoint(spec) {
  const tcp = /^tcp:(127\.0\.0\.1):(\d+)$/.exec(spec);
  if (tcp) return { host: tcp[1], port: Number(tcp[2]) };
  if (spec.startsWith('unix:/')) return { path: spec.slice('unix:'.length) };
  process.stderr.write(`forward: ${JSON.stringify(spec)}: expected tcp:127.0.0.1:PORT or unix:/PATH\n`);
  process.exit(2);
}

const [listenSpec = '', connectSpec = ''] = process.argv.slice(2);
const listen = endpoint(listenSpec);
const connect = endpoint(connectSpec);

const server = net.createServer((client) => {
  const upstream = net.connect(connect);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
});
server.on('error', (err) => {
  process.stderr.write(`forward: ${err.message}\n`);
  process.exit(1);
});
server.listen(listen, () => process.stdout.write(`forward: listening on ${listenSpec}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
