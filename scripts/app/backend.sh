#!/usr/bin/env bash
# Builds the KubePolaris backend from its release source, once, into the cache outside the repo,
# and prints the binary's path. The app contract test (test/app) runs it.
#   scripts/app/backend.sh            build if needed; print the binary's path
#   scripts/app/backend.sh --check    print the path if built (never builds), else exit 1
# Source: $KUBEPOLARIS_APP_SRC, default ../shared/vendor/kubepolaris-$KUBEPOLARIS_APP_VERSION beside
# the repo. Go modules come from the Go module proxy. Progress goes to stderr.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../toolchain.versions
source "$REPO/scripts/toolchain.versions"

SRC="${KUBEPOLARIS_APP_SRC:-$REPO/../shared/vendor/kubepolaris-$KUBEPOLARIS_APP_VERSION}"
ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
if [[ ! -f "$SRC/go.mod" || ! -f "$SRC/cmd/main.go" ]]; then
  echo "backend.sh: no KubePolaris source at $SRC (set KUBEPOLARIS_APP_SRC to a checkout of" >&2
  echo "  github.com/clay-wangzhi/KubePolaris at tag kubepolaris-$KUBEPOLARIS_APP_VERSION)" >&2
  exit 1
fi
# The cache key covers the source itself, so a different checkout never reuses a stale binary.
KEY="$(cd "$SRC" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
OUT="$ROOT/app/kubepolaris-$KUBEPOLARIS_APP_VERSION-$KEY/kubepolaris"

# shellcheck source=cache.sh
source "$HERE/cache.sh"
app_cache_begin backend.sh "$OUT" x "${1:-}"
command -v go >/dev/null || { echo "backend.sh: go is required" >&2; exit 1; }
START=$(date +%s)
echo "[app] building the KubePolaris $KUBEPOLARIS_APP_VERSION backend from $SRC (cold: ~2 min)" >&2
LOG="$(dirname "$OUT")/build.log"
# As the release's Dockerfile builds it: static, stripped. -o keeps the source tree untouched.
if ! (cd "$SRC" && CGO_ENABLED=0 GOMODCACHE="$ROOT/gomod" GOCACHE="$ROOT/gocache" GOFLAGS="-trimpath -modcacherw" GOTOOLCHAIN=local \
      go build -ldflags "-s -w" -o "$OUT.tmp" ./cmd/main.go) >"$LOG" 2>&1; then
  tail -20 "$LOG" >&2
  exit 1
fi
mv "$OUT.tmp" "$OUT"
echo "[app] built in $(( $(date +%s) - START ))s: $OUT" >&2
echo "$OUT"
