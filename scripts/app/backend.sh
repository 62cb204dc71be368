#!/usr/bin/env bash
# Builds the KubePolaris backend from its release source, once, into the cache outside the repo,
# and prints the binary's path. The app contract test (test/app) runs it.
#   scripts/app/backend.sh            build if needed; print the binary's path
#   scripts/app/backend.sh --check    print the path if built (never builds), else exit 1
# Source: $KUBEPOLARIS_APP_SRC, default ../shared/vendor/kubepolaris-$KUBEPOLARIS_APP_VERSION beside
# the repo. Go modules come from the Go module proxy. Progress goes to stderr.
set -euo pipefail
# shellcheck source=cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/cache.sh"
app_source backend.sh source "" go.mod cmd/main.go
# The cache key covers the source itself, so a different checkout never reuses a stale binary.
KEY="$(cd "$SRC" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
OUT="$ROOT/app/kubepolaris-$KUBEPOLARIS_APP_VERSION-$KEY/kubepolaris"

app_cache_begin backend.sh "$OUT" x "${1:-}" go "backend (cold: ~2 min)"
# As the release's Dockerfile builds it: static, stripped. -o keeps the source tree untouched.
(cd "$SRC" && CGO_ENABLED=0 GOMODCACHE="$ROOT/gomod" GOCACHE="$ROOT/gocache" GOFLAGS="-trimpath -modcacherw" GOTOOLCHAIN=local \
  go build -ldflags "-s -w" -o "$OUT.tmp" ./cmd/main.go) >"$LOG" 2>&1 || app_build_failed 20
mv "$OUT.tmp" "$OUT"
app_build_done "$OUT"
