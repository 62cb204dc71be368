#!/usr/bin/env bash
# Installs crane (go-containerregistry's registry client) outside the repo, keyed by version:
#   ${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}/crane-v<CRANE_VERSION>/crane
#
#   scripts/images/crane.sh          install if needed; print the binary's path on stdout
#   scripts/images/crane.sh --check  exit 0 (and print the path) if installed at the pin (never installs)
#
# Pin: CRANE_VERSION in scripts/toolchain.versions. The official GitHub release tarball is tried
# first (5 s connect timeout: fast where GitHub is reachable), else crane is built with
# `go install` from the Go module proxy (niced; about 1-2 min on 2 cores). Progress goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../toolchain.versions
source "$REPO/scripts/toolchain.versions"

# shellcheck source=../lib/go-tool.sh
source "$REPO/scripts/lib/go-tool.sh"

crane_at_pin() { [ -x "$1" ] && [ "$("$1" version 2>/dev/null)" = "v${CRANE_VERSION}" ]; }

install_go_tool "${1:-}" crane "$CRANE_VERSION" crane_at_pin \
  "https://github.com/google/go-containerregistry/releases/download/v${CRANE_VERSION}/go-containerregistry_Linux_x86_64.tar.gz" crane \
  "github.com/google/go-containerregistry/cmd/crane@v${CRANE_VERSION}"
