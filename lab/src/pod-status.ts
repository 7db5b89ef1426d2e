// The status the kubelet writes for a pod with one container whose process the lab runs,
// in the kubelet's words (pkg/kubelet/status/generate.go for the conditions,
// pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff for CrashLoopBackOff), so that
// what kproxy reads for a kube-proxy pod is what a real node would report for the same
// process: Running and Ready while it runs (kubeadm's kube-proxy has no readiness probe:
// started is ready), its exits as lastState and restarts, and the back-off in between.

export interface Terminated {
  exitCode: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

export interface ContainerRun {
  name: string;
  image: string;
  /** The kubelet's restart count: starts after the first. */
  restartCount: number;
  state:
    | { running: { startedAt: string }; containerID: string }
    | { waiting: { reason: string; message: string } };
  lastTerminated?: Terminated;
}

export interface PodStatusInput {
  podName: string;
  namespace: string;
  uid: string;
  nodeIp: string;
  startTime: string;
  container: ContainerRun;
  scheduledAt: string;
}

/** `back-off 20s restarting failed container=kube-proxy pod=NAME_NS(UID)` (doBackOff). */
export const backOffMessage = (seconds: number, i: PodStatusInput) =>
  `back-off ${seconds}s restarting failed container=${i.container.name} pod=${i.podName}_${i.namespace}(${i.uid})`;

/** The kubelet's container back-off: 10 s doubling to 5 min; the first restart is at once. */
export function backOffSeconds(restartCount: number): number {
  if (restartCount === 0) return 0;
  return Math.min(10 * 2 ** (restartCount - 1), 300);
}

export function podStatus(i: PodStatusInput): Record<string, unknown> {
  const c = i.container;
  const running = 'running' in c.state;
  const now = new Date().toISOString();
  const notReady = `containers with unready status: [${c.name}]`;
  const readiness = (type: string) =>
    running
      ? { type, status: 'True', lastTransitionTime: now }
      : { type, status: 'False', reason: 'ContainersNotReady', message: notReady, lastTransitionTime: now };
  const state = 'running' in c.state ? { running: c.state.running } : { waiting: c.state.waiting };
  const last = c.lastTerminated;
  return {
    phase: 'Running',
    hostIP: i.nodeIp,
    hostIPs: [{ ip: i.nodeIp }],
    // kube-proxy runs on the host network: the pod's address is the node's.
    podIP: i.nodeIp,
    podIPs: [{ ip: i.nodeIp }],
    startTime: i.startTime,
    conditions: [
      { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: i.startTime },
      { type: 'Initialized', status: 'True', lastTransitionTime: i.startTime },
      readiness('Ready'),
      readiness('ContainersReady'),
      { type: 'PodScheduled', status: 'True', lastTransitionTime: i.scheduledAt },
    ],
    containerStatuses: [
      {
        name: c.name,
        image: c.image,
        imageID: '',
        ...('running' in c.state ? { containerID: c.state.containerID } : {}),
        ready: running,
        started: running,
        restartCount: c.restartCount,
        state,
        lastState: last ? { terminated: last } : {},
      },
    ],
  };
}
