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

ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
PREFIX="$ROOT/crane-v${CRANE_VERSION}"
case "$PREFIX" in
  "$REPO"|"$REPO"/*) echo "crane.sh: the toolchain dir must be outside the repository ($PREFIX)" >&2; exit 2 ;;
esac
CRANE="$PREFIX/crane"

have_crane() { [ -x "$CRANE" ] && [ "$("$CRANE" version 2>/dev/null)" = "v${CRANE_VERSION}" ]; }

if [ "${1:-}" = "--check" ]; then
  have_crane && { echo "$CRANE"; exit 0; }
  exit 1
fi
if have_crane; then echo "$CRANE"; exit 0; fi

mkdir -p "$ROOT"
# One installer at a time (parallel test workers); the second one finds the binary.
exec 9>"$ROOT/.crane-v${CRANE_VERSION}.lock"
flock 9
if have_crane; then echo "$CRANE"; exit 0; fi

mkdir -p "$PREFIX"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
url="https://github.com/google/go-containerregistry/releases/download/v${CRANE_VERSION}/go-containerregistry_Linux_x86_64.tar.gz"
if [ "$(uname -sm)" = "Linux x86_64" ] \
   && curl -fsSL --connect-timeout 5 --max-time 120 -o "$tmp/gcr.tgz" "$url" 2>/dev/null \
   && tar -xzf "$tmp/gcr.tgz" -C "$tmp" crane 2>/dev/null; then
  echo "crane.sh: crane ${CRANE_VERSION} from the official release" >&2
  install -m 0755 "$tmp/crane" "$CRANE"
else
  command -v go >/dev/null 2>&1 || { echo "crane.sh: the release download failed and Go is not installed: install Go to build crane ${CRANE_VERSION}" >&2; exit 2; }
  echo "crane.sh: building crane ${CRANE_VERSION} from the Go module proxy" >&2
  # Built outside the repository so no go.mod here is picked up; `crane version` reports the
  # module version from the build info.
  # The module and build caches the other Go builds share (and CI keeps with actions/cache).
  (cd "$tmp" && GOBIN="$PREFIX" GOMODCACHE="$ROOT/gomod" GOCACHE="$ROOT/gocache" GOFLAGS="-mod=mod -buildvcs=false -modcacherw" GO111MODULE=on CGO_ENABLED=0 \
    nice -n 10 go install -trimpath "github.com/google/go-containerregistry/cmd/crane@v${CRANE_VERSION}") >&2
fi
have_crane || { echo "crane.sh: $CRANE does not report version v${CRANE_VERSION}: $("$CRANE" version 2>&1 || true)" >&2; exit 1; }
echo "$CRANE"
