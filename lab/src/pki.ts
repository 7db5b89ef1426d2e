// The lab's PKI, made fresh for each run with openssl (Debian's `openssl` package): a CA,
// the apiserver's serving certificate, one client certificate per component, and the
// service-account signing key pair the apiserver issues tokens with. ECDSA P-256
// throughout (fast to generate; Kubernetes accepts it for serving, clients and ES256
// tokens). Valid two days from the real clock: a lab lives minutes.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClientCert {
  cert: string;
  key: string;
}

export interface LabPki {
  caCert: string;
  caKey: string;
  serving: ClientCert;
  admin: ClientCert;
  controllerManager: ClientCert;
  scheduler: ClientCert;
  kwok: ClientCert;
  kubeProxy: ClientCert;
  apiserverKubeletClient: ClientCert;
  saKey: string;
  saPub: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim().split('\n')[0]}`);
  }
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function issue(
  dir: string,
  name: string,
  subject: string,
  usage: 'serverAuth' | 'clientAuth',
  sans: string[] = [],
): Promise<ClientCert> {
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${usage}`,
    ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
  ];
  await writeFile(path.join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
  await openssl(dir, [
    'req',
    '-new',
    ...ec,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

/** Creates every key and certificate the lab needs in `dir`. */
export async function makePki(dir: string): Promise<LabPki> {
  await openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=kproxy-lab-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  // The names clients use for the apiserver: loopback, and the in-cluster Service names
  // with the first address of the service range (what pods would dial).
  const servingSans = [
    'IP:127.0.0.1',
    'IP:10.96.0.1',
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  const serving = await issue(dir, 'apiserver', '/CN=kube-apiserver', 'serverAuth', servingSans);
  // Identities the default RBAC bootstrap policy already binds (plugin/pkg/auth/authorizer/
  // rbac/bootstrappolicy): system:masters, system:kube-controller-manager, system:kube-scheduler,
  // system:kube-proxy.
  const admin = await issue(dir, 'admin', '/O=system:masters/CN=kproxy-lab-admin', 'clientAuth');
  const controllerManager = await issue(
    dir,
    'controller-manager',
    '/CN=system:kube-controller-manager',
    'clientAuth',
  );
  const scheduler = await issue(dir, 'scheduler', '/CN=system:kube-scheduler', 'clientAuth');
  // kwok plays every kubelet (node status, leases, pod status): the lab gives it masters.
  const kwok = await issue(dir, 'kwok', '/O=system:masters/CN=kwok', 'clientAuth');
  const kubeProxy = await issue(dir, 'kube-proxy', '/CN=system:kube-proxy', 'clientAuth');
  const apiserverKubeletClient = await issue(
    dir,
    'apiserver-kubelet-client',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
    'clientAuth',
  );
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key'], {
    cwd: dir,
  });
  await openssl(dir, ['ec', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  return {
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    serving,
    admin,
    controllerManager,
    scheduler,
    kwok,
    kubeProxy,
    apiserverKubeletClient,
    saKey: path.join(dir, 'sa.key'),
    saPub: path.join(dir, 'sa.pub'),
  };
}

/**
 * A node's kubelet serving certificate (kwok serves the kubelet API with it): the lab's CA
 * signs it for the node's address, and the apiserver checks it (--kubelet-certificate-authority).
 */
export function issueNodeServing(dir: string, node: string, ip: string): Promise<ClientCert> {
  return issue(dir, `kubelet-${node}`, `/CN=system:node:${node}`, 'serverAuth', [`IP:${ip}`, `DNS:${node}`]);
}

/** A kubeconfig for one client certificate against the lab's apiserver. */
export function kubeconfigYaml(server: string, caCert: string, client: ClientCert, user: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: lab',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${caCert}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate: ${client.cert}`,
    `    client-key: ${client.key}`,
    'contexts:',
    '- name: lab',
    '  context:',
    '    cluster: lab',
    `    user: ${user}`,
    'current-context: lab',
    '',
  ].join('\n');
}
