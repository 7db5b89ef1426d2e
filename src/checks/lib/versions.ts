/** Kubernetes version strings: `v1.29.3-eksbuild.2`, `v1.25.16-minimal-eksbuild.1`, `1.30`. */
export interface MinorVersion {
  readonly major: number;
  readonly minor: number;
  readonly text: string;
}

export function parseMinorVersion(text: string | undefined | null): MinorVersion | undefined {
  if (!text) return undefined;
  const m = /v?(\d+)\.(\d+)/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), text };
}

/** The tag of an image reference (`registry/eks/kube-proxy:v1.29.3-eksbuild.2` → `v1.29.3-eksbuild.2`). */
export function imageTag(image: string | null | undefined): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(colon + 1) : undefined;
}
