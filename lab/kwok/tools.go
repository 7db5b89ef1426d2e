//go:build tools

// Package kwoktools pins the kwok controller binary that `lab/build.sh` builds.
package kwoktools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
