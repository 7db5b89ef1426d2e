/** Kubernetes version strings: `v1.29.3-eksbuild.2`, `v1.25.16-minimal-eksbuild.1`, `1.30`. */
// Only semver's parse (7 modules, not the package's 47: the CLI's start-up loads what it uses).
import parseSemver from 'semver/functions/parse.js';

export interface MinorVersion {
  readonly major: number;
  readonly minor: number;
  readonly text: string;
}

export function parseMinorVersion(text: string | undefined | null): MinorVersion | undefined {
  if (!text) return undefined;
  // Image tags, gitVersion and add-on versions are full semantic versions; EKS's cluster
  // version has no patch (`1.30`). Nothing else counts: not semver's `coerce`, which would read
  // a tag such as `2024-01-build` as version 2024 and report a skew that is not there.
  const v = parseSemver(text.trim(), { loose: true }) ?? parseSemver(`${text.trim()}.0`, { loose: true });
  return v ? { major: v.major, minor: v.minor, text } : undefined;
}

/** The tag of an image reference (`registry/eks/kube-proxy:v1.29.3-eksbuild.2` → `v1.29.3-eksbuild.2`). */
export function imageTag(image: string | null | undefined): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(colon + 1) : undefined;
}
