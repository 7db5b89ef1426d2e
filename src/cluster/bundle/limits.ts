/** Bounds on what a bundle may make kproxy read into memory. */
export const bundleLimits = {
  /** Largest Kubernetes object file (a 5,000-node cluster's nodes.json is ~25 MiB). */
  maxJsonBytes: 512 * 1024 * 1024,
  /** Largest raw text capture (iptables-save of a 10,000-Service node is ~20 MiB). */
  maxCaptureBytes: 128 * 1024 * 1024,
  /** Log lines kept from the end of each container log (the live path uses the same tail). */
  logTailLines: 5000,
  /** Longer log lines are cut; kube-proxy lines are short, a giant one is noise. */
  maxLogLineChars: 8192,
  /** Tarball sanity: entries and total unpacked size. */
  maxTarEntries: 200_000,
  maxTarBytes: 4 * 1024 * 1024 * 1024,
} as const;
