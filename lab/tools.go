//go:build tools

// Package labtools pins the binaries `lab/build.sh` builds: the real control plane,
// kube-proxy and etcd server of the release in go.mod (never imported by kproxy itself).
package labtools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
