// The command lines of the lab's components (all listeners on 127.0.0.1).
import path from 'node:path';
import type { LabPki } from './pki.js';

export const clusterCidr = '10.244.0.0/16';
export const serviceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

export function etcdArgs(dir: string, clientUrl: string, peerPort: number): string[] {
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=lab',
    `--data-dir=${path.join(dir, 'etcd')}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=lab=${peerUrl}`,
    // A throwaway store on a loaded machine: durability buys nothing here.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export function apiserverArgs(dir: string, pki: LabPki, etcdUrl: string, port: number): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.serving.cert}`,
    `--tls-private-key-file=${pki.serving.key}`,
    `--client-ca-file=${pki.caCert}`,
    `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
    // The kubelet API (kwok's, per node) is checked against the lab's CA, and reached on the
    // node's InternalIP (kubeadm's preference order: node names resolve nowhere here).
    `--kubelet-certificate-authority=${pki.caCert}`,
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    '--authorization-mode=Node,RBAC',
    // PodSecurity and ServiceAccount are on by default; NodeRestriction is what kubeadm adds.
    '--enable-admission-plugins=NodeRestriction',
    `--service-account-issuer=${serviceAccountIssuer}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    // The `kubernetes` Endpoints would carry 127.0.0.1, which endpoint validation refuses.
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    '--profiling=false',
  ];
}

export function controllerManagerArgs(dir: string, pki: LabPki, port: number): string[] {
  const kubeconfig = path.join(dir, 'controller-manager.kubeconfig');
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${path.join(dir, 'controller-manager-certs')}`,
    '--leader-elect=false',
    // The controllers kproxy's scenarios need; node-lifecycle lifts the not-ready taint the
    // apiserver puts on new nodes (TaintNodesByCondition) once kwok reports them Ready.
    '--controllers=node-lifecycle-controller,serviceaccount-token-controller,serviceaccount-controller,root-ca-certificate-publisher-controller,namespace-controller,garbage-collector-controller,endpointslice-controller,endpoints-controller,deployment-controller,replicaset-controller,daemonset-controller,disruption-controller',
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    '--use-service-account-credentials=true',
  ];
}

export function schedulerArgs(dir: string, port: number): string[] {
  const kubeconfig = path.join(dir, 'scheduler.kubeconfig');
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--leader-elect=false',
  ];
}
