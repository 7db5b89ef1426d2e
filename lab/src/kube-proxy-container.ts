// One kube-proxy pod on one lab node, run the way the kubelet runs its container: the
// pod's command (`$(VAR)` expanded from its env) as the real kube-proxy binary in the
// node's network namespace, its volumes mounted at the pod's paths in a mount namespace
// of its own, its output written to the container log in the CRI format, restarted with
// the kubelet's back-off when it exits, and the pod's status written from what the
// process does (pod-status.ts). This is the lab's one shim: kwok cannot run a process
// and report it, and the brief for the suite is that kube-proxy's pod status be the real
// process's (a crash-looping kube-proxy must be one that really exits).
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { LabApi } from './api.js';
import { kubeProxyLogFiles } from './node-kwok.js';
import type { NodeHost } from './node-netns.js';
import { quote } from './node-netns.js';
import {
  backOffMessage,
  backOffSeconds,
  type ContainerRun,
  podStatus,
  type Terminated,
} from './pod-status.js';
import { containerOwnDirs, type PodForVolumes, prepareVolumes, type VolumeMount } from './pod-volumes.js';

export interface KubeProxyPod extends PodForVolumes {
  metadata: PodForVolumes['metadata'] & { deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
  spec: PodForVolumes['spec'] & {
    nodeName?: string;
    containers: {
      name: string;
      image: string;
      command?: string[];
      args?: string[];
      env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
      volumeMounts?: VolumeMount[];
    }[];
  };
  status?: { conditions?: { type: string; lastTransitionTime?: string }[] };
}

/** The kube-proxy image's one file the lab provides: its binary. */
const imageBinary = '/usr/local/bin/kube-proxy';

function envOf(pod: KubeProxyPod, node: NodeHost): Record<string, string> {
  const fields: Record<string, string> = {
    'spec.nodeName': node.name,
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'status.hostIP': node.ip,
    'status.podIP': node.ip,
  };
  const env: Record<string, string> = {};
  for (const e of pod.spec.containers[0]?.env ?? [])
    env[e.name] = e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath ?? ''] ?? '';
  return env;
}

/** `$(VAR)` references in command and args, as the kubelet expands them (unknown ones stay). */
const expand = (s: string, env: Record<string, string>) =>
  s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name: string) => env[name] ?? all);

/** Container output as the CRI log format: `TIMESTAMP STREAM F LINE` (one line per record). */
function criWriter(out: WriteStream, stream: 'stdout' | 'stderr') {
  let partial = '';
  return (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) out.write(`${new Date().toISOString()} ${stream} F ${line}\n`);
  };
}

export class KubeProxyContainer {
  private child: ChildProcess | undefined;
  private restartCount = 0;
  private lastTerminated: Terminated | undefined;
  private terminating = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly startTime = new Date().toISOString();
  private readonly logs;

  constructor(
    private readonly api: LabApi,
    private readonly node: NodeHost,
    readonly pod: KubeProxyPod,
    private readonly binDir: string,
  ) {
    this.logs = kubeProxyLogFiles(node);
  }

  private get podDir() {
    return path.join(this.node.dir, 'pods', this.pod.metadata.uid);
  }

  /**
   * Starts the first container of a new pod (its logs start empty). Throws only before the
   * process is spawned (its volumes could not be made), so the caller may try again.
   * The token is requested with 3607 s, as the kubelet does: the apiserver extends such
   * pod-bound tokens (--service-account-extend-token-expiration, on by default;
   * pkg/registry/core/serviceaccount/storage/token.go), so a long-running
   * lab needs no refresh.
   */
  async start(): Promise<void> {
    await rm(this.logs.current, { force: true });
    await rm(this.logs.previous, { force: true });
    await this.run();
  }

  private async run(): Promise<void> {
    if (this.terminating) return;
    const container = this.pod.spec.containers[0];
    if (!container) throw new Error(`pod ${this.pod.metadata.name} has no container`);
    const env = envOf(this.pod, this.node);
    const mounts = await prepareVolumes(
      this.api,
      this.node,
      this.pod,
      container.volumeMounts ?? [],
      this.podDir,
    );
    const setup = [
      ...containerOwnDirs.map((d) => `mount -t tmpfs lab-container ${d}`),
      `touch ${imageBinary}`,
      `mount --bind ${quote(path.join(this.binDir, 'kube-proxy'))} ${imageBinary}`,
      ...mounts,
    ];
    const script = ['set -e', ...setup, 'exec "$@"'].join('\n');
    const argv = [...(container.command ?? []), ...(container.args ?? [])].map((a) => expand(a, env));
    await rm(this.logs.current, { force: true });
    const out = createWriteStream(this.logs.current, { flags: 'a' });
    out.on('error', (err) => this.report(err));
    const child = spawn('ip', ['netns', 'exec', this.node.netns, 'sh', '-c', script, 'sh', ...argv], {
      env: { PATH: this.node.path, HOME: '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout.on('data', criWriter(out, 'stdout'));
    child.stderr.on('data', criWriter(out, 'stderr'));
    const startedAt = new Date().toISOString();
    const containerID = `lab://${child.pid}`;
    child.on('exit', (code, signal) => {
      out.end();
      const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      const reason = exitCode === 0 ? 'Completed' : 'Error';
      this.lastTerminated = {
        exitCode,
        reason,
        startedAt,
        finishedAt: new Date().toISOString(),
        containerID,
      };
      this.child = undefined;
      if (!this.terminating) void this.exited().catch((err) => this.report(err));
    });
    // The process runs from here on: a failed status write is reported, not thrown (a
    // throw would make the caller start the container a second time).
    await this.patch({ running: { startedAt }, containerID }).catch((err) => this.report(err));
  }

  /** The kubelet's answer to an exit: keep the log as the previous one, back off, restart. */
  private async exited(): Promise<void> {
    // The dead container's log is the previous one, and the current one until a new
    // container starts (kubelet validateContainerLogStatus reads lastState's container).
    await rename(this.logs.current, this.logs.previous);
    await symlink(this.logs.previous, this.logs.current);
    const delay = backOffSeconds(this.restartCount);
    const restart = () => {
      this.restartCount++;
      void this.run().catch((err) => this.report(err));
    };
    if (delay === 0) return restart();
    await this.patch({
      waiting: { reason: 'CrashLoopBackOff', message: backOffMessage(delay, this.input()) },
    });
    this.timer = setTimeout(restart, delay * 1000);
  }

  private input() {
    const c = this.pod.spec.containers[0];
    return {
      podName: this.pod.metadata.name,
      namespace: this.pod.metadata.namespace,
      uid: this.pod.metadata.uid,
      nodeIp: this.node.ip,
      startTime: this.startTime,
      scheduledAt:
        this.pod.status?.conditions?.find((x) => x.type === 'PodScheduled')?.lastTransitionTime ??
        this.startTime,
      container: {
        name: c?.name ?? 'kube-proxy',
        image: c?.image ?? '',
        restartCount: this.restartCount,
        state: { waiting: { reason: 'ContainerCreating', message: '' } },
        ...(this.lastTerminated ? { lastTerminated: this.lastTerminated } : {}),
      } as ContainerRun,
    };
  }

  private async patch(state: ContainerRun['state']): Promise<void> {
    const input = this.input();
    input.container.state = state;
    const { namespace, name } = this.pod.metadata;
    await this.api.send('PATCH', `/api/v1/namespaces/${namespace}/pods/${name}/status`, {
      status: podStatus(input),
    });
  }

  private report(err: unknown): void {
    process.stderr.write(`lab: kube-proxy pod ${this.pod.metadata.name}: ${String(err)}\n`);
  }

  /** Stops the container (SIGTERM, SIGKILL after the grace period) and any pending restart. */
  async terminate(graceSeconds: number): Promise<void> {
    this.terminating = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), Math.max(graceSeconds, 1) * 1000);
    await exited;
    clearTimeout(kill);
  }
}
