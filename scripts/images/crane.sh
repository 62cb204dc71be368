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
PREFIX="$(toolchain_dir crane.sh "crane-v${CRANE_VERSION}")"
CRANE="$PREFIX/crane"

have_crane() { [ -x "$CRANE" ] && [ "$("$CRANE" version 2>/dev/null)" = "v${CRANE_VERSION}" ]; }

if [ "${1:-}" = "--check" ]; then
  have_crane && { echo "$CRANE"; exit 0; }
  exit 1
fi
if have_crane; then echo "$CRANE"; exit 0; fi

mkdir -p "$PREFIX"
# One installer at a time (parallel test workers); the second one finds the binary.
exec 9>"$TOOLCHAIN_ROOT/.crane-v${CRANE_VERSION}.lock"
flock 9
if have_crane; then echo "$CRANE"; exit 0; fi

if release_binary "https://github.com/google/go-containerregistry/releases/download/v${CRANE_VERSION}/go-containerregistry_Linux_x86_64.tar.gz" crane "$CRANE"; then
  echo "crane.sh: crane ${CRANE_VERSION} from the official release" >&2
else
  go_build crane.sh "$PREFIX" "github.com/google/go-containerregistry/cmd/crane@v${CRANE_VERSION}"
fi
have_crane || { echo "crane.sh: $CRANE does not report version v${CRANE_VERSION}: $("$CRANE" version 2>&1 || true)" >&2; exit 1; }
echo "$CRANE"
