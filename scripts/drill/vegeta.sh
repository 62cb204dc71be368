#!/usr/bin/env bash
# Installs vegeta (the drills' HTTP load generator) outside the repo, keyed by version:
#   ${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}/vegeta-v<VEGETA_VERSION>/vegeta
#
#   scripts/drill/vegeta.sh          install if needed; print the binary's path on stdout
#   scripts/drill/vegeta.sh --check  exit 0 (and print the path) if installed at the pin (never installs)
#
# Pin: VEGETA_VERSION in scripts/toolchain.versions. The official release tarball first, else
# `go install` from the Go module proxy. Progress goes to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../toolchain.versions
source "$REPO/scripts/toolchain.versions"
# shellcheck source=../lib/go-tool.sh
source "$REPO/scripts/lib/go-tool.sh"

# `vegeta -version` prints "Version: <v>" (the release stamps it; the build below stamps it too).
vegeta_at_pin() { [ -x "$1" ] && "$1" -version 2>/dev/null | grep -Eq "^Version: v?${VEGETA_VERSION}$"; }

install_go_tool "${1:-}" vegeta "$VEGETA_VERSION" vegeta_at_pin \
  "https://github.com/tsenart/vegeta/releases/download/v${VEGETA_VERSION}/vegeta_${VEGETA_VERSION}_linux_amd64.tar.gz" vegeta \
  "github.com/tsenart/vegeta/v12@v${VEGETA_VERSION}" -ldflags "-X main.Version=v${VEGETA_VERSION}"
