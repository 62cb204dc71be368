#!/usr/bin/env bash
# Builds the KubePolaris web UI from its release source, once, into the cache outside the repo, and
# prints the path of the built site (the folder nginx serves). The frontend contract test (test/app)
# and the local frontend image use it.
#   scripts/app/frontend.sh            build if needed; print the site's path
#   scripts/app/frontend.sh --check    print the path if built (never builds), else exit 1
# Source: $KUBEPOLARIS_APP_SRC/ui, default ../shared/vendor/kubepolaris-$KUBEPOLARIS_APP_VERSION/ui
# beside the repo; the source tree is never written to (the build runs in a copy). Packages come
# from the configured npm registry. Progress goes to stderr.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../toolchain.versions
source "$REPO/scripts/toolchain.versions"

SRC="${KUBEPOLARIS_APP_SRC:-$REPO/../shared/vendor/kubepolaris-$KUBEPOLARIS_APP_VERSION}/ui"
ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
if [[ ! -f "$SRC/package.json" || ! -f "$SRC/package-lock.json" ]]; then
  echo "frontend.sh: no KubePolaris UI source at $SRC (set KUBEPOLARIS_APP_SRC to a checkout of" >&2
  echo "  github.com/clay-wangzhi/KubePolaris at tag kubepolaris-$KUBEPOLARIS_APP_VERSION)" >&2
  exit 1
fi
# The key covers the source and the API base the bundle is built for, so a different checkout or
# setting never reuses a stale site.
API_BASE=/api/v1
KEY="$( (cd "$SRC" && find . -path ./node_modules -prune -o -path ./dist -prune -o -type f -print0 | sort -z | xargs -0 sha256sum; echo "$API_BASE") | sha256sum | cut -c1-16)"
OUT="$ROOT/app/kubepolaris-ui-$KUBEPOLARIS_APP_VERSION-$KEY/dist"

# shellcheck source=cache.sh
source "$HERE/cache.sh"
app_cache_begin frontend.sh "$OUT" d "${1:-}"
command -v npm >/dev/null || { echo "frontend.sh: npm is required" >&2; exit 1; }
START=$(date +%s)
echo "[app] building the KubePolaris $KUBEPOLARIS_APP_VERSION UI from $SRC (cold: ~4 min)" >&2
WORK="$(dirname "$OUT")/work"
LOG="$(dirname "$OUT")/build.log"
rm -rf "$WORK" && mkdir -p "$WORK"
tar -C "$SRC" --exclude=./node_modules --exclude=./dist -cf - . | tar -C "$WORK" -xf -
# The lockfile names a registry mirror this machine (and most users) cannot reach:
# --replace-registry-host=always maps every package onto the configured registry. Install scripts
# stay off, as everywhere in this project. As the release's Dockerfile: VITE_API_BASE_URL=/api/v1
# and a 4 GiB heap for the build.
if ! (cd "$WORK" && npm ci --replace-registry-host=always --ignore-scripts --no-audit --no-fund &&
      VITE_API_BASE_URL="$API_BASE" NODE_OPTIONS=--max-old-space-size=4096 npm run build) >"$LOG" 2>&1; then
  tail -30 "$LOG" >&2
  exit 1
fi
rm -rf "$OUT.tmp" && mv "$WORK/dist" "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
rm -rf "$WORK"
echo "[app] built in $(( $(date +%s) - START ))s: $OUT" >&2
echo "$OUT"
