#!/usr/bin/env bash
# Builds the lab's binaries from the pinned modules (go.mod: k8s.io/kubernetes and etcd;
# kwok/go.mod: kwok) into $KPROXY_LAB_BIN (default lab/.bin, git-ignored). A stamp of the
# Go version and the module files makes a second run a no-op while nothing changed; Go's
# own build cache makes a rebuild after a change incremental. Test tooling only: nothing
# here is part of the product image (.dockerignore drops lab/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${KPROXY_LAB_BIN:-$here/.bin}"
bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kube-proxy kwok)
# also written: kwok-stages.yaml

if ! command -v go >/dev/null 2>&1; then
  echo "lab: go is not on PATH; the lab builds Kubernetes from source (Go 1.24 or newer: https://go.dev/dl/)" >&2
  exit 2
fi

stamp="$( (go version; cd "$here" && cat go.mod go.sum tools.go kwok/go.mod kwok/go.sum kwok/tools.go build.sh) | sha256sum | cut -d' ' -f1)"
fresh=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || fresh=0; done
[ -f "$out/kwok-stages.yaml" ] || fresh=0
if [ "$fresh" = 1 ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "lab: binaries up to date in $out"
  exit 0
fi

mkdir -p "$out"
rm -f "$out/.stamp"
start=$(date +%s)
# /version must say the release (the version-skew check reads it); -X only touches the
# link step, so the compile cache stays shared with builds without it.
ver="$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
minor="$(echo "$ver" | cut -d. -f2)"
pkg=k8s.io/component-base/version
ldflags="-X $pkg.gitVersion=$ver -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$ver -X k8s.io/client-go/pkg/version.gitMajor=1"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitMinor=$minor"
# nice: the lab is built on shared machines; a cold build is long, a warm one is seconds.
(cd "$here" && nice -n 19 go build -ldflags "$ldflags" -o "$out/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kube-proxy)
(cd "$here" && nice -n 19 go build -o "$out/etcd" go.etcd.io/etcd/server/v3)
(cd "$here/kwok" && nice -n 19 go build -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok)
# kwok has no built-in stages; kwokctl writes these defaults (pkg/kwokctl/runtime/cluster.go:
# getDefaultNodeStages with a lease, getDefaultPodStages). Copied from the module, not the repo.
stages="$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  echo '---'
  cat "$stages/$f"
done > "$out/kwok-stages.yaml"
echo "$stamp" > "$out/.stamp"
echo "lab: built ${bins[*]} ($ver) in $(( $(date +%s) - start )) s into $out"
