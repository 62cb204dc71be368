#!/usr/bin/env bash
# Installs metrics-server (the resource metrics API, metrics.k8s.io, that HorizontalPodAutoscalers
# read; the local cluster's `metrics` part runs it) outside the repo, keyed by version:
#   ${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}/metrics-server-v<METRICS_SERVER_VERSION>/metrics-server
#
#   scripts/cluster/metrics-server.sh          install if needed; print the binary's path on stdout
#   scripts/cluster/metrics-server.sh --check  exit 0 (and print the path) if installed at the pin (never installs)
#
# Pin: METRICS_SERVER_VERSION in scripts/toolchain.versions. The official GitHub release publishes
# the bare binary (metrics-server-linux-amd64, no tarball): tried first (5 s connect timeout), else
# `go install sigs.k8s.io/metrics-server/cmd/metrics-server` from the Go module proxy (niced).
# Progress goes to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../toolchain.versions
source "$REPO/scripts/toolchain.versions"
# shellcheck source=../lib/go-tool.sh
source "$REPO/scripts/lib/go-tool.sh"

# `metrics-server --version` prints client-go's gitVersion: the release's Makefile stamps it with
# the tag, the build below the same way (unstamped, it prints v0.0.0-master+$Format:%H$).
metrics_server_at_pin() { [ -x "$1" ] && [ "$("$1" --version 2>/dev/null)" = "v${METRICS_SERVER_VERSION}" ]; }

install_go_tool "${1:-}" metrics-server "$METRICS_SERVER_VERSION" metrics_server_at_pin \
  "https://github.com/kubernetes-sigs/metrics-server/releases/download/v${METRICS_SERVER_VERSION}/metrics-server-linux-amd64" "" \
  "sigs.k8s.io/metrics-server/cmd/metrics-server@v${METRICS_SERVER_VERSION}" \
  -ldflags "-w -X k8s.io/client-go/pkg/version.gitVersion=v${METRICS_SERVER_VERSION} -X k8s.io/client-go/pkg/version.gitMajor=${METRICS_SERVER_VERSION%%.*} -X k8s.io/client-go/pkg/version.gitMinor=$(cut -d. -f2 <<<"$METRICS_SERVER_VERSION") -X k8s.io/client-go/pkg/version.gitTreeState=clean"
